"""Requirements in AWS's conformance format, and checking a run against one.

A requirement file (``requirements/<suite>/<id>.yaml`` of the published
``aws-durable-execution-conformance-tests`` package) describes a handler in English, its
``Input``, the ``ExpectedResult`` and the ``ExpectedExecutionHistory`` the real service produced.
Golden files written by pytest-durable use the same format, so both are checked the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pytest_durable.assertions.matching import (
    MatchReport,
    generate_variables,
    match_events,
    match_value,
    substitute,
)
from pytest_durable.errors import MismatchError
from pytest_durable.runner.result import ExecutionResult

Event = Mapping[str, Any]


@dataclass(frozen=True)
class Requirement:
    """One requirement file, with its ``Variables`` generated and substituted."""

    id: str
    suite: str
    path: Path
    description: str
    handler: str
    invocations: str
    input: Any
    expected_result: Mapping[str, Any] | None
    expected_history: tuple[Mapping[str, Any], ...]
    variables: Mapping[str, str] = field(default_factory=dict)
    async_invoke: bool = False
    #: ``CallbackActions``: what the outside world sends to which callback (``CallbackName``,
    #: ``Operation`` success/failure/heartbeat, ``Payload``, ``Delay`` in seconds).
    callback_actions: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def load_requirement(
    path: str | Path, *, variables: Mapping[str, str] | None = None
) -> Requirement:
    """Read a requirement (or golden) file. ``variables`` overrides generated values."""
    path = Path(path)
    raw = yaml.safe_load(path.read_text()) or {}
    values = generate_variables(raw.get("Variables"))
    values.update(variables or {})
    return Requirement(
        id=path.stem,
        suite=path.parent.name,
        path=path,
        description=str(raw.get("description", "")),
        handler=str(raw.get("handler", "")),
        invocations=str(raw.get("invocations", "")),
        input=substitute(raw.get("Input"), values),
        expected_result=substitute(raw.get("ExpectedResult"), values),
        expected_history=tuple(substitute(raw.get("ExpectedExecutionHistory") or [], values)),
        variables=values,
        async_invoke=bool(raw.get("AsyncInvoke", False)),
        callback_actions=tuple(substitute(raw.get("CallbackActions") or [], values)),
        raw=raw,
    )


def load_requirements(root: str | Path, suites: Iterable[str] | None = None) -> list[Requirement]:
    """Every requirement under ``root/<suite>/``, in suite then numeric order."""
    root = Path(root)
    chosen = sorted(p.name for p in root.iterdir() if p.is_dir()) if suites is None else suites
    found: list[Requirement] = []
    for suite in chosen:
        files = sorted((root / suite).glob("*.yaml"), key=_numeric_key)
        found += [load_requirement(file) for file in files]
    return found


def _numeric_key(path: Path) -> tuple[int | str, ...]:
    return tuple(int(part) if part.isdigit() else part for part in path.stem.split("-"))


def events_of(source: ExecutionResult | Sequence[Event]) -> list[Event]:
    return list(source.history) if isinstance(source, ExecutionResult) else list(source)


def check_history(
    source: ExecutionResult | Sequence[Event],
    expected: Sequence[Event],
    *,
    bindings: Mapping[str, Any] | None = None,
) -> MatchReport:
    """Match a run's history (or a list of events, e.g. from boto3) against expected events."""
    return match_events(expected, events_of(source), bindings=bindings, title="history")


def result_shape(result: ExecutionResult) -> dict[str, Any]:
    """A run's outcome in ``ExpectedResult`` shape: ExecutionStatus, Result (decoded), Error."""
    shape: dict[str, Any] = {"ExecutionStatus": result.status, "Result": result.output}
    if result.error is not None:
        shape["Error"] = {"ErrorType": result.error.type, "ErrorMessage": result.error.message}
    return shape


def check_result(result: ExecutionResult, expected: Mapping[str, Any]) -> MatchReport:
    """Match a run's outcome against an ``ExpectedResult`` (only the keys written count)."""
    return match_value(dict(expected), result_shape(result), title="result")


def check_requirement(result: ExecutionResult, requirement: Requirement) -> list[MatchReport]:
    """The result and history reports of a run against a requirement (both must be ok)."""
    reports = []
    if requirement.expected_result is not None:
        reports.append(check_result(result, requirement.expected_result))
    reports.append(check_history(result, requirement.expected_history))
    return reports


def assert_history_matches(
    source: ExecutionResult | Sequence[Event],
    expected: Sequence[Event],
    *,
    bindings: Mapping[str, Any] | None = None,
) -> MatchReport:
    """Fail with a readable diff unless the history matches; return the report (bindings)."""
    report = check_history(source, expected, bindings=bindings)
    if not report.ok:
        raise MismatchError(report)
    return report


def assert_conforms(result: ExecutionResult, requirement: Requirement) -> None:
    """Fail unless the run matches the requirement's expected result and history."""
    failed = [report for report in check_requirement(result, requirement) if not report.ok]
    if failed:
        title = f"{requirement.suite}/{requirement.id}: {requirement.description}"
        report = failed[0]
        report.title = f"{title}: {report.title}"
        others = "\n\n".join(r.explain() for r in failed[1:])
        raise MismatchError(report, others)
