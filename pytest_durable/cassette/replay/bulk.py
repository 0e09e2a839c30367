"""Replaying many executions at once: production ARNs, a function's executions, saved files.

Before a deploy the question is "does the new code still replay every execution in flight?",
asked of dozens of executions, with an answer a CI job can act on: one line per execution in a
table, and an exit status (0 every one replays clean, 1 a divergence, 2 one could not be read
or replayed). One execution that cannot be read (deleted meanwhile, access denied) is a row of
the table, not the end of the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pytest_durable.cassette.recording.format import RecordedExecution
from pytest_durable.cassette.replay.production import (
    DEFAULT_STATUSES,
    execution_arns,
    lambda_client,
    recorded_from_aws,
    recorded_from_file,
    truncation_notes,
)
from pytest_durable.cassette.replay.replayer import Replayer
from pytest_durable.cassette.replay.report import (
    EXIT_CLEAN,
    EXIT_DIVERGED,
    EXIT_ERROR,
    ReplayReport,
)
from pytest_durable.errors import HistoryFileError, NonDeterminismError

Handler = Callable[[Any, Any], Any]


@dataclass
class ReplayRow:
    """One execution of a bulk replay: its report, or why there is none."""

    source: str
    report: ReplayReport | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        """The source as the table shows it: ``function/name`` for an execution ARN (the full
        ARN is in the report), the path for a file."""
        _, marker, tail = self.source.partition(":function:")
        if not marker or "/durable-execution/" not in tail:
            return self.source
        function = tail.split(":", 1)[0].split("/", 1)[0]
        name = tail.split("/durable-execution/", 1)[1].split("/", 1)[0]
        return f"{function}/{name}"

    @property
    def verdict(self) -> str:
        if self.report is None:
            return "ERROR"
        return "clean" if self.report.ok else "DIVERGED"

    @property
    def detail(self) -> str:
        if self.report is None:
            return self.error or ""
        if self.report.ok:
            return f"{self.report.replayed_operations} operations replayed"
        first = str(self.report.divergences[0])
        more = len(self.report.divergences) - 1
        return first + (f" (+{more} more)" if more else "")


@dataclass
class ReplaySummary:
    """Every execution a bulk replay looked at, in the order given."""

    rows: list[ReplayRow] = field(default_factory=list)

    @property
    def reports(self) -> list[ReplayReport]:
        return [row.report for row in self.rows if row.report is not None]

    @property
    def diverged(self) -> list[ReplayReport]:
        return [report for report in self.reports if not report.ok]

    @property
    def errors(self) -> list[ReplayRow]:
        return [row for row in self.rows if row.report is None]

    @property
    def ok(self) -> bool:
        """True when every execution was read and replays clean (an empty summary is ok: a
        function with nothing in flight has nothing a deploy can break)."""
        return not self.diverged and not self.errors

    @property
    def exit_status(self) -> int:
        if self.diverged:
            return EXIT_DIVERGED
        return EXIT_ERROR if self.errors else EXIT_CLEAN

    def table(self) -> str:
        """One line per execution: what it was recorded as, the verdict, the first finding."""
        header = ("execution", "recorded", "replay", "detail")
        lines = [
            (
                row.label,
                row.report.recorded_status if row.report else "-",
                row.verdict,
                row.detail,
            )
            for row in self.rows
        ]
        widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(3)]
        rendered = [
            "  ".join(str(cell).ljust(width) for cell, width in zip(line[:3], widths, strict=True))
            + "  "
            + line[3]
            for line in [header, *lines]
        ]
        return "\n".join(text.rstrip() for text in rendered)

    def __str__(self) -> str:
        counts = (
            f"{len(self.rows)} execution(s): {len(self.reports) - len(self.diverged)} clean, "
            f"{len(self.diverged)} diverged, {len(self.errors)} could not be checked"
        )
        return self.table() + "\n" + counts

    def raise_for_divergence(self) -> ReplaySummary:
        """Raise :class:`NonDeterminismError` with the first divergent report, or an
        ``AssertionError`` naming every execution that could not be checked."""
        if self.diverged:
            raise NonDeterminismError(self.diverged[0])
        if self.errors:
            raise AssertionError(
                "Executions that could not be replayed:\n"
                + "\n".join(f"  {row.source}: {row.error}" for row in self.errors)
            )
        return self


def replay_production(
    handler: Handler,
    *,
    arns: Iterable[str] = (),
    files: Iterable[str | Path] = (),
    function: str | None = None,
    statuses: Iterable[str] = DEFAULT_STATUSES,
    client: Any = None,
    deep: bool = True,
    on_report: Callable[[ReplayRow], None] | None = None,
) -> ReplaySummary:
    """Replay ``handler`` against executions read from AWS (``arns``, and every execution of
    ``function`` with one of ``statuses``) and from saved history files (``files``).

    ``client`` is a boto3 ``lambda`` client; by default one from the user's configuration is
    made, only if AWS is asked for. Only read-only APIs are called. ``on_report`` sees each
    row as soon as it is known (the command line prints reports as they come)."""
    summary = ReplaySummary()

    def add(source: str, load: Callable[[], RecordedExecution]) -> None:
        try:
            recorded = load()
        except (ClientError, BotoCoreError, HistoryFileError, FileNotFoundError) as error:
            row = ReplayRow(source, error=f"{type(error).__name__}: {error}")
        else:
            report = Replayer(handler, recorded, deep=deep, source=source).replay()
            report.notes += truncation_notes(recorded)
            row = ReplayRow(source, report=report)
        summary.rows.append(row)
        if on_report is not None:
            on_report(row)

    for path in files:
        add(str(path), lambda path=path: recorded_from_file(path))  # type: ignore[misc]
    wanted = list(arns)
    if wanted or function is not None:
        aws = client if client is not None else lambda_client()
        if function is not None:
            wanted += [arn for arn in execution_arns(aws, function, statuses) if arn not in wanted]
        for arn in wanted:
            add(arn, lambda arn=arn: recorded_from_aws(aws, arn))  # type: ignore[misc]
    return summary
