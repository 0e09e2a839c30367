"""Declare the checkpoint updates a run must send, in the spirit of botocore's ``Stubber``.

The SDK's checkpoint traffic is the contract between a handler and the service; the official
libraries hide it. ``ExpectedUpdates`` lists the ``OperationUpdate``s a run must have sent, in
order, and fails on the first difference, showing the update that differed next to its neighbours.

Checking happens after the run, against the recorded log: raising inside the service while the
SDK checkpoints would surface as an SDK error, not as the difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_durable.assertions.matching import MatchReport, Mismatch, match_value
from pytest_durable.errors import MismatchError
from pytest_durable.runner.result import ExecutionResult
from pytest_durable.runner.updates import EmittedUpdate

_CONTEXT = 3


@dataclass
class _Expected:
    update: dict[str, Any]
    invocation: int | None


@dataclass
class ExpectedUpdates:
    """The updates a run must send, in order. Values follow the conformance matching rules:
    only the members given are compared, ``'*'``/``ANY`` matches any value, ``${/regex/}`` a
    pattern, and ``${NAME}`` binds on first use (``Id="${CHARGE}"`` then ``ParentId="${CHARGE}"``).

    >>> expected = ExpectedUpdates()                                  # doctest: +SKIP
    >>> expected.add("STEP", "START", Name="charge")
    >>> expected.add("STEP", "SUCCEED", Name="charge", Payload='"ok"')
    >>> expected.assert_matches(result)
    """

    _expected: list[_Expected] = field(default_factory=list)

    def add(
        self, type: str, action: str, *, invocation: int | None = None, **members: Any
    ) -> ExpectedUpdates:
        """Expect one update of this ``type`` (STEP, WAIT, CONTEXT, CALLBACK, CHAINED_INVOKE,
        EXECUTION) and ``action`` (START, SUCCEED, FAIL, RETRY, CANCEL), with the given
        ``OperationUpdate`` members (``Name``, ``ParentId``, ``Payload``, ``Error``,
        ``StepOptions``...), sent by the ``invocation``-th invocation (0-based) if given."""
        update = {"Type": type.upper(), "Action": action.upper(), **members}
        self._expected.append(_Expected(update, invocation))
        return self

    def __len__(self) -> int:
        return len(self._expected)

    def check(self, sent: ExecutionResult | Iterable[EmittedUpdate], **filters: Any) -> MatchReport:
        """Compare without raising. ``filters`` are ``ExecutionResult.updates`` filters (e.g.
        ``type="STEP"``) to check only part of the traffic."""
        updates = sent.updates(**filters) if isinstance(sent, ExecutionResult) else list(sent)
        bindings: dict[str, Any] = {}
        for position in range(max(len(updates), len(self._expected))):
            if position >= len(updates):
                missing = self._expected[position]
                return self._report(
                    position,
                    updates,
                    Mismatch(
                        (f"update #{position}",),
                        missing.update,
                        None,
                        f"expected {_describe(missing.update)}, but the run sent only "
                        f"{len(updates)} update(s)",
                    ),
                    bindings,
                )
            actual = updates[position]
            if position >= len(self._expected):
                return self._report(
                    position,
                    updates,
                    Mismatch(
                        (f"update #{position}",),
                        None,
                        actual.raw,
                        f"unexpected {actual}: only {len(self._expected)} update(s) expected",
                    ),
                    bindings,
                )
            expected = self._expected[position]
            report = match_value(
                expected.update, actual.raw, bindings=bindings, title=f"update #{position}"
            )
            if report.ok and expected.invocation not in (None, actual.invocation):
                report.mismatches.append(
                    Mismatch(
                        ("invocation",),
                        expected.invocation,
                        actual.invocation,
                        f"sent by invocation {actual.invocation}, expected {expected.invocation}",
                    )
                )
            if not report.ok:
                return self._report(position, updates, None, bindings, report)
            bindings = report.bindings
        return MatchReport(bindings=bindings, title="updates")

    def assert_matches(
        self, sent: ExecutionResult | Iterable[EmittedUpdate], **filters: Any
    ) -> None:
        """Fail on the first update that differs from the expectation (or is missing/extra)."""
        report = self.check(sent, **filters)
        if not report.ok:
            raise MismatchError(report)

    def _report(
        self,
        position: int,
        updates: list[EmittedUpdate],
        mismatch: Mismatch | None,
        bindings: dict[str, Any],
        report: MatchReport | None = None,
    ) -> MatchReport:
        if report is None:
            assert mismatch is not None
            report = MatchReport([mismatch], bindings, title=f"update #{position}")
            expected = self._expected[position].update if position < len(self._expected) else {}
            report.expected_view = expected
            report.actual_view = updates[position].raw if position < len(updates) else {}
        report.title = (
            f"checkpoint updates differ at update #{position} "
            f"(of {len(updates)} sent, {len(self._expected)} expected)"
        )
        report.context = _neighbourhood(updates, position)
        return report


def _describe(update: Mapping[str, Any]) -> str:
    label = update.get("Name") or update.get("Id") or ""
    return f"{update.get('Type')} {update.get('Action')} {label}".strip()


def _neighbourhood(updates: list[EmittedUpdate], position: int) -> str:
    """The sent updates around the difference, one per line, the differing one marked."""
    lines = ["sent:"]
    start = max(0, position - _CONTEXT)
    end = min(len(updates), position + _CONTEXT + 1)
    if start:
        lines.append("     ...")
    for index in range(start, end):
        update = updates[index]
        marker = ">>" if index == position else "  "
        lines.append(
            f"  {marker} #{index} invocation {update.invocation}, call {update.call}: {update}"
        )
    if position >= len(updates):
        lines.append(f"  >> #{position} (nothing sent)")
    if end < len(updates):
        lines.append("     ...")
    return "\n".join(lines)
