"""``ReplayChecker``, what the ``durable_replay`` fixture hands a test: the determinism replay of
cassettes found by name under the cassette directory, and of production executions.

The fixture (``plugin/cloud_fixtures.py``) only builds it; the work is here and in the
replayer.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_durable.cassette.replay.bulk import ReplaySummary, replay_production
from pytest_durable.cassette.replay.replayer import assert_replays, replay_execution
from pytest_durable.cassette.replay.report import ReplayReport


class ReplayChecker:
    """The ``durable_replay`` fixture: replay the current code against recorded executions."""

    def __init__(self, cassette_dir: Path) -> None:
        self.cassette_dir = cassette_dir

    def path(self, cassette: str | Path) -> Path:
        """A cassette by path, or by name relative to the cassette directory (``.yaml``
        optional)."""
        given = Path(cassette)
        for candidate in (given, self.cassette_dir / given):
            for path in (candidate, candidate.with_name(candidate.name + ".yaml")):
                if path.is_file():
                    return path
        raise FileNotFoundError(
            f"No cassette {cassette!r} (looked at {given} and under {self.cassette_dir})"
        )

    def check(
        self,
        handler: Any,
        cassette: str | Path,
        *,
        execution: int | str | None = None,
        deep: bool = True,
    ) -> list[ReplayReport]:
        """Replay every recorded execution of the cassette (or the one given); fail with the
        report of the first that diverges (:class:`NonDeterminismError`)."""
        chosen = None if execution is None else [execution]
        return assert_replays(handler, self.path(cassette), executions=chosen, deep=deep)

    def report(
        self, handler: Any, cassette: str | Path, *, execution: int | str = 0, deep: bool = True
    ) -> ReplayReport:
        """The report of one recorded execution, without failing."""
        return replay_execution(handler, self.path(cassette), execution=execution, deep=deep)

    def production(
        self,
        handler: Any,
        *,
        arns: Iterable[str] = (),
        files: Iterable[str | Path] = (),
        function: str | None = None,
        statuses: Iterable[str] = ("RUNNING",),
        client: Any = None,
        deep: bool = True,
    ) -> ReplaySummary:
        """Replay executions read from AWS (``arns``; every execution of ``function`` with one
        of ``statuses``) and saved history files; fail with the first divergence, or with the
        executions that could not be read. ``client``: a boto3 ``lambda`` client (default: one
        from the usual AWS configuration). Read-only calls only."""
        summary = replay_production(
            handler,
            arns=arns,
            files=files,
            function=function,
            statuses=statuses,
            client=client,
            deep=deep,
        )
        return summary.raise_for_divergence()

    def cassettes(self, pattern: str = "**/*.yaml") -> list[Path]:
        """Cassette files under the cassette directory, sorted."""
        return sorted(path for path in self.cassette_dir.glob(pattern) if path.is_file())
