"""``pytest-durable replay``: the determinism check as a command, for CI jobs outside pytest.

    pytest-durable replay fixtures/cassettes --handler order_workflow:handler

replays the current handler code against every recorded execution of every cassette given
(files, or directories searched for ``*.yaml``), prints one report per execution, and exits 0
when all replay clean, 1 when any diverges, 2 when it could not run (no such file, a handler
that does not import).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_CLEAN, EXIT_DIVERGED, EXIT_ERROR = 0, 1, 2


def add_replay_command(commands: Any) -> None:
    """Add ``replay`` to the ``pytest-durable`` subcommands."""
    replay = commands.add_parser(
        "replay",
        help="check the current handler code against recorded executions (cassettes)",
        description=(
            "Replay the current handler code against recorded durable executions without "
            "running step bodies, and report every divergence (renamed, reordered, added, "
            "removed or retyped operations). Exit status: 0 clean, 1 divergence, 2 error."
        ),
    )
    replay.add_argument(
        "cassettes", nargs="+", metavar="CASSETTE", help="cassette files or directories"
    )
    replay.add_argument(
        "--handler",
        metavar="MODULE:FUNCTION",
        help="the @durable_execution handler to replay (default: the one each cassette names)",
    )
    replay.add_argument(
        "--execution",
        action="append",
        metavar="NAME_OR_INDEX",
        help="replay only this recorded execution (repeatable; default: all)",
    )
    replay.add_argument(
        "--shallow",
        action="store_true",
        help="replay completed child contexts, maps and parallels from their recorded results "
        "instead of re-running them over their recorded children",
    )
    replay.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="DIR",
        help="directory to import the handler from (repeatable; the current directory is "
        "always searched)",
    )


def import_handler(reference: str) -> Any:
    """The object named by ``module:qualname``."""
    module_name, sep, qualname = reference.partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError(f"expected MODULE:FUNCTION, got {reference!r}")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def _cassette_files(arguments: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.yaml") if p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"No cassette or directory at {path}")
    return files


def _which(execution: str) -> int | str:
    return int(execution) if execution.lstrip("-").isdigit() else execution


def run_replay(args: argparse.Namespace) -> int:
    from pytest_durable.cassette.format import read_cassette  # noqa: PLC0415 - only this command
    from pytest_durable.cassette.replayer import Replayer  # noqa: PLC0415
    from pytest_durable.errors import CassetteFormatError  # noqa: PLC0415

    for directory in [os.getcwd(), *args.path]:
        if directory not in sys.path:
            sys.path.insert(0, directory)
    try:
        files = _cassette_files(args.cassettes)
    except FileNotFoundError as error:
        print(f"pytest-durable replay: {error}", file=sys.stderr)
        return EXIT_ERROR
    status = EXIT_CLEAN
    replayed = 0
    named = {str(arg) for arg in args.cassettes}
    for path in files:
        try:
            cassette = read_cassette(path)
        except CassetteFormatError as error:
            if str(path) in named:  # named on the command line: it must be a cassette
                print(f"pytest-durable replay: {error}", file=sys.stderr)
                return EXIT_ERROR
            continue  # found while walking a directory (golden files are YAML too): skip it
        chosen = []
        for wanted in args.execution or []:
            try:
                chosen.append(cassette.execution(_which(wanted)))
            except LookupError:
                continue  # --execution picks from the cassettes that have it
        if not args.execution:
            chosen = list(cassette.executions)
        for recorded in chosen:
            reference = args.handler or recorded.handler
            if not reference:
                print(
                    f"pytest-durable replay: {path} does not name the handler of execution "
                    f"{recorded.name!r}; pass --handler MODULE:FUNCTION",
                    file=sys.stderr,
                )
                return EXIT_ERROR
            try:
                handler = import_handler(reference)
            except (ImportError, AttributeError, ValueError) as error:
                print(f"pytest-durable replay: cannot import {reference}: {error}", file=sys.stderr)
                return EXIT_ERROR
            report = Replayer(handler, recorded, deep=not args.shallow, source=str(path)).replay()
            replayed += 1
            print(report)
            if not report.ok:
                status = EXIT_DIVERGED
    if replayed == 0:
        # A wrong path or filter in CI must not pass as "all clean".
        wanted = f" matching --execution {', '.join(args.execution)}" if args.execution else ""
        print(
            f"pytest-durable replay: no recorded execution{wanted} in {', '.join(args.cassettes)}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    print(
        f"pytest-durable replay: {replayed} recorded execution(s) in {len(files)} cassette(s): "
        + ("all replay clean" if status == EXIT_CLEAN else "divergences found")
    )
    return status
