"""Golden files: a run's history (or updates) kept as an expectation in AWS's conformance format.

A golden history file is a requirement file without the English: ``ExpectedResult`` and
``ExpectedExecutionHistory``, matched with the conformance rules. It is written by the run itself
(``pytest --durable-update-goldens``) with volatile values generalised, so it matches every run
of the same code: timestamps, ARNs and request ids become ``'*'``, operation Ids ``${ID1}``,
``${ID2}``... in order of appearance, stack traces ``'*'``.

A golden that still matches is never rewritten, so hand edits survive a refresh (a jittered
retry delay turned into ``${/^[0-9]+$/}``, a payload turned into ``'*'``).

A golden updates file lists the ``OperationUpdate``s each invocation sent, in order; how the SDK
batched them into checkpoint calls is its own business and is not recorded.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pytest_durable.assertions.conformance import check_history, check_result
from pytest_durable.assertions.matching import MatchReport, match_value, to_yaml
from pytest_durable.errors import MismatchError
from pytest_durable.options import UPDATE_FLAG
from pytest_durable.runner.result import ExecutionResult

_VOLATILE_KEYS = frozenset(
    {
        "EventTimestamp",
        "StartTimestamp",
        "EndTimestamp",
        "ScheduledEndTimestamp",
        "NextAttemptTimestamp",
        "RequestId",
        "DurableExecutionArn",
        "CallbackId",
        "StackTrace",
    }
)
_ID_KEYS = frozenset({"Id", "ParentId"})
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_NEEDS_ESCAPE = re.compile(r"\$\{")


_HEADER = """\
# Golden {kind} of {test}, written by pytest-durable ({flag}).
# Matched with AWS's conformance rules: only the keys written are compared; '*' is any value,
# {{}} don't care, ${{/regex/}} a pattern, ${{ID1}} binds on first use. Edit freely: a golden
# that still matches is never rewritten.
"""


class _Generaliser:
    """Replaces what differs between runs of the same code; keeps everything else literal."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def placeholder(self, operation_id: str) -> str:
        if operation_id not in self.ids:
            self.ids[operation_id] = f"${{ID{len(self.ids) + 1}}}"
        return self.ids[operation_id]

    def value(self, key: str | None, value: Any) -> Any:
        if key in _VOLATILE_KEYS or isinstance(value, _dt.datetime):
            return "*"
        if isinstance(value, dict):
            return {k: self.value(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(None, v) for v in value]
        if isinstance(value, str):
            if key in _ID_KEYS:
                return self.placeholder(value)
            if value.startswith("arn:") or _UUID.match(value):
                return "*"
            return _literal(value)
        return value

    def event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if not str(event.get("EventType", "")).startswith("Execution"):
            return {key: self.value(key, value) for key, value in event.items()}
        # The EXECUTION operation's Id is the execution id (random); its Name the execution's
        # name, random unless the test chose one.
        generalised = {key: self.value(key, value) for key, value in event.items() if key != "Id"}
        if "Id" in event:
            generalised["Id"] = "*"
        return {key: generalised[key] for key in event}


def _literal(text: str) -> str:
    """A string that matches itself: ``'*'`` and ``${`` would be read as patterns, so such
    values are written as an anchored regex of their escaped text."""
    if text == "*" or _NEEDS_ESCAPE.search(text):
        return "${/^" + re.escape(text) + "$/}"
    return text


def generalise_history(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """History events with volatile values generalised (see the module doc)."""
    generaliser = _Generaliser()
    return [generaliser.event(event) for event in events]


def expected_result(result: ExecutionResult) -> dict[str, Any]:
    """The run's outcome in ``ExpectedResult`` shape, generalised."""
    expected: dict[str, Any] = {"ExecutionStatus": result.status}
    if result.status == "SUCCEEDED":
        expected["Result"] = _Generaliser().value(None, result.output)
    if result.error is not None:
        expected["Error"] = {
            "ErrorType": _literal(result.error.type or ""),
            "ErrorMessage": _literal(result.error.message or ""),
        }
    return expected


def actual_updates(result: ExecutionResult) -> list[dict[str, Any]]:
    """The updates each invocation sent: ``[{Invocation: 1, Updates: [...]}, ...]`` (updates
    sent outside any invocation, by test code, are left out)."""
    per_invocation: list[dict[str, Any]] = [
        {"Invocation": number, "Updates": []} for number in range(1, len(result.invocations) + 1)
    ]
    for update in result.updates():
        if update.invocation is not None:
            per_invocation[update.invocation]["Updates"].append(update.raw)
    return per_invocation


def expected_updates(result: ExecutionResult) -> list[dict[str, Any]]:
    """``actual_updates``, generalised."""
    generaliser = _Generaliser()
    return [
        {
            "Invocation": entry["Invocation"],
            "Updates": [generaliser.value(None, update) for update in entry["Updates"]],
        }
        for entry in actual_updates(result)
    ]


def history_document(result: ExecutionResult, description: str) -> dict[str, Any]:
    first = result.history[0] if result.history else {}
    payload = ((first.get("ExecutionStartedDetails") or {}).get("Input") or {}).get("Payload")
    document: dict[str, Any] = {"description": description}
    if payload is not None:
        document["Input"] = _Generaliser().value(None, _json_or_text(payload))
    document["ExpectedResult"] = expected_result(result)
    document["ExpectedExecutionHistory"] = generalise_history(result.history)
    return document


def updates_document(result: ExecutionResult, description: str) -> dict[str, Any]:
    return {"description": description, "ExpectedUpdates": expected_updates(result)}


def _json_or_text(payload: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def check_history_document(document: Mapping[str, Any], result: ExecutionResult) -> MatchReport:
    """Both parts of a golden history: the outcome, then the events (first failure wins)."""
    if "ExpectedResult" in document:
        report = check_result(result, document["ExpectedResult"])
        if not report.ok:
            return report
    return check_history(result, document.get("ExpectedExecutionHistory") or [])


def check_updates_document(document: Mapping[str, Any], result: ExecutionResult) -> MatchReport:
    return match_value(
        document.get("ExpectedUpdates") or [], actual_updates(result), title="updates"
    )


@dataclass
class GoldenFiles:
    """The golden files of one test: ``<directory>/<test file path>/<test name>[.<name>]``
    ``.history.yaml`` or ``.updates.yaml``. With ``update`` set, a missing or mismatching file
    is (re)written instead of failing, and ``written`` lists what was written."""

    directory: Path
    test_path: str
    test_name: str
    update: bool = False
    on_written: Callable[[Path], None] | None = None
    #: How the files' description names the test (pytest's node id).
    test_id: str = ""
    written: list[Path] = field(default_factory=list)

    def path(self, kind: str, name: str | None = None) -> Path:
        stem = _safe(self.test_name) + (f".{_safe(name)}" if name else "")
        return self.directory / self.test_path / f"{stem}.{kind}.yaml"

    def assert_history(self, result: ExecutionResult, name: str | None = None) -> None:
        """The run's outcome and history must match the golden history file."""
        self._check(
            result,
            self.path("history", name),
            "history",
            lambda: history_document(result, self._description(name)),
            check_history_document,
        )

    def assert_updates(self, result: ExecutionResult, name: str | None = None) -> None:
        """The updates each invocation sent must match the golden updates file."""
        self._check(
            result,
            self.path("updates", name),
            "updates",
            lambda: updates_document(result, self._description(name)),
            check_updates_document,
        )

    def _description(self, name: str | None) -> str:
        test = self.test_id or f"{self.test_path}::{self.test_name}"
        return test + (f" ({name})" if name else "")

    def _check(
        self,
        result: ExecutionResult,
        path: Path,
        kind: str,
        build: Callable[[], dict[str, Any]],
        check: Callable[[Mapping[str, Any], ExecutionResult], MatchReport],
    ) -> None:
        if not path.exists():
            if self.update:
                self._write(path, kind, build())
                return
            raise AssertionError(
                f"No golden {kind} file at {path}. Run pytest with {UPDATE_FLAG} to write it "
                f"from this run, then review and commit it."
            )
        document = yaml.safe_load(path.read_text()) or {}
        report = check(document, result)
        if report.ok:
            return
        if self.update:
            self._write(path, kind, build())
            return
        report.title = f"golden {kind} {path}: {report.title}"
        raise MismatchError(
            report, f"If the change is intended, refresh the golden with {UPDATE_FLAG}."
        )

    def _write(self, path: Path, kind: str, document: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        header = _HEADER.format(kind=kind, test=document["description"], flag=UPDATE_FLAG)
        path.write_text(header + to_yaml(document))
        self.written.append(path)
        if self.on_written is not None:
            self.on_written(path)


def _safe(text: str) -> str:
    return re.sub(r"[^\w.\-\[\]]+", "_", text)
