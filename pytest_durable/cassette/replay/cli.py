"""``pytest-durable replay``: the determinism check as a command, for CI jobs outside pytest.

    pytest-durable replay fixtures/cassettes --handler order_workflow:handler
    pytest-durable replay --function orders --status RUNNING --handler order_workflow:handler
    pytest-durable replay --arn ARN --history saved.json --handler order_workflow:handler

replays the current handler code against every recorded execution of every cassette given
(files, or directories searched for ``*.yaml``), and against production executions (by ARN, by
function and status, or saved history files; :mod:`.bulk`), prints one report per execution
(and a summary table for production ones), and exits 0 when all replay clean, 1 when any
diverges, 2 when it could not run (no such file, a handler that does not import, an execution
that could not be read).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_durable.cassette.replay.report import EXIT_CLEAN, EXIT_DIVERGED, EXIT_ERROR
from pytest_durable.parsing import resolve_reference

EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED", "PAUSING", "PAUSED")


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
        "cassettes", nargs="*", metavar="CASSETTE", help="cassette files or directories"
    )
    replay.add_argument(
        "--handler",
        metavar="MODULE:FUNCTION",
        help="the @durable_execution handler to replay (default: the one each cassette names; "
        "required with --arn, --function and --history)",
    )
    production = replay.add_argument_group(
        "production executions",
        "read with your usual AWS credentials, profile and region (read-only calls: "
        "GetDurableExecution, GetDurableExecutionHistory, ListDurableExecutionsByFunction)",
    )
    production.add_argument(
        "--arn",
        action="append",
        default=[],
        metavar="ARN",
        help="a durable execution to read from AWS and replay (repeatable)",
    )
    production.add_argument(
        "--function",
        metavar="NAME_OR_ARN",
        help="replay every execution of this function that has one of the --status values",
    )
    production.add_argument(
        "--status",
        action="append",
        default=[],
        choices=EXECUTION_STATUSES,
        help="with --function: which executions (repeatable; default RUNNING, the ones a deploy "
        "can break)",
    )
    production.add_argument(
        "--history",
        action="append",
        default=[],
        metavar="FILE",
        help="a saved `aws lambda get-durable-execution-history` (or -state) JSON file "
        "(repeatable)",
    )
    production.add_argument("--profile", help="AWS profile (default: the usual resolution)")
    production.add_argument("--region", help="AWS region (default: the usual resolution)")
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
    for directory in [os.getcwd(), *args.path]:
        if directory not in sys.path:
            sys.path.insert(0, directory)
    production = bool(args.arn or args.history or args.function)
    if args.status and not args.function:
        return _usage("--status filters the executions of --function; add --function NAME")
    if not production and not args.cassettes:
        return _usage(
            "give cassettes, or production executions with --arn, --function or --history"
        )
    statuses = [_replay_cassettes(args)] if args.cassettes else []
    if production:
        statuses.append(_replay_production(args))
    if EXIT_DIVERGED in statuses:
        return EXIT_DIVERGED
    return max(statuses)


def _usage(message: str) -> int:
    print(f"pytest-durable replay: {message}", file=sys.stderr)
    return EXIT_ERROR


def _replay_production(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from pytest_durable.cassette.replay.bulk import ReplayRow, replay_production  # noqa: PLC0415
    from pytest_durable.cassette.replay.production import lambda_client  # noqa: PLC0415

    if not args.handler:
        return _usage("production executions name no handler; pass --handler MODULE:FUNCTION")
    try:
        handler = resolve_reference(args.handler)
    except (ImportError, AttributeError, ValueError) as error:
        return _usage(f"cannot import {args.handler}: {error}")

    def show(row: ReplayRow) -> None:
        if row.report is not None and not row.report.ok:
            print(row.report, flush=True)

    try:
        client = (
            lambda_client(profile=args.profile, region=args.region)
            if (args.arn or args.function)
            else None
        )
        summary = replay_production(
            handler,
            arns=args.arn,
            files=args.history,
            function=args.function,
            statuses=args.status or ("RUNNING",),
            client=client,
            deep=not args.shallow,
            on_report=show,
        )
    except (ClientError, BotoCoreError) as error:
        return _usage(f"cannot list the executions of {args.function}: {error}")
    if not summary.rows:
        print(
            f"pytest-durable replay: no executions of {args.function} with status "
            f"{' or '.join(args.status or ['RUNNING'])}: nothing a deploy can break"
        )
        return EXIT_CLEAN
    print(summary)
    return summary.exit_status


def _replay_cassettes(args: argparse.Namespace) -> int:
    from pytest_durable.cassette.recording.format import read_cassette  # noqa: PLC0415 - only this command
    from pytest_durable.cassette.replay.replayer import Replayer  # noqa: PLC0415
    from pytest_durable.errors import CassetteFormatError  # noqa: PLC0415

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
                handler = resolve_reference(reference)
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
