"""AWS's conformance requirements, run against our service through the public API.

For every requirement of the suites below (downloaded from the published package, see
``conformance_source.py``), run our own handler for it (``conformance_handlers/``) with the
``durable`` fixture, play the requirement's ``CallbackActions`` as the outside world through the
execution driver, and match the result and the whole history with the published matching rules
(``pytest_durable.assertions``). Where our history differs, the expectation is not touched: the
case is marked xfail (strict) with the difference, to be fixed in the service.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from conformance_handlers import HANDLERS
from conformance_logs import LogCapture, check_logs
from conformance_source import RequirementsUnavailable, requirements_dir

from pytest_durable import ExecutionDriver, ExecutionResult
from pytest_durable.assertions import (
    Requirement,
    assert_conforms,
    check_history,
    load_requirements,
)

#: Every suite of the package, in the order of docs/conformance.md.
SUITES = (
    "step",
    "wait",
    "child",
    "callback",
    "invoke",
    "wait_for_condition",
    "wait_for_callback",
    "parallel",
    "map",
    "plugin",
)

#: Requirement id -> why our run cannot match. A reason starting "service:" is a difference of
#: our service, to be fixed there; "sdk:" a limitation of the Python SDK.
KNOWN_DIFFERENCES: dict[str, str] = {}

#: Requirement id -> why it cannot run here at all: only a limitation of the Python SDK ("sdk:")
#: or a check that needs CloudWatch ("cloudwatch:"), never a difference of our service.
SKIPPED: dict[str, str] = {}

DOCS = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
UPDATE_DOCS_ENV = "PYTEST_DURABLE_UPDATE_CONFORMANCE_DOCS"


@functools.cache
def _requirements() -> list[Requirement]:
    """Loaded once per process (collection and the tests below share them)."""
    return load_requirements(requirements_dir(), SUITES)


def _cases() -> list[Any]:
    try:
        requirements = _requirements()
    except RequirementsUnavailable as error:
        # One failing case, not a collection error: the rest of the suite still runs.
        return [pytest.param(error, id="requirements-unavailable")]
    cases = []
    for requirement in requirements:
        marks = []
        if requirement.id in KNOWN_DIFFERENCES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[requirement.id]))
        if requirement.id in SKIPPED:
            marks.append(pytest.mark.skip(reason=SKIPPED[requirement.id]))
        cases.append(pytest.param(requirement, marks=marks, id=requirement.id))
    return cases


def _loaded() -> list[Requirement]:
    try:
        return _requirements()
    except RequirementsUnavailable as error:
        unavailable = error
    pytest.fail(str(unavailable), pytrace=False)


# ----------------------------------------------------------------------------- the outside world


class ExternalSystem:
    """Plays a requirement's ``CallbackActions`` as the published validator does.

    Each callback, when first seen started (in creation order), takes the first unused action
    whose ``CallbackName`` matches its name (``'*'``, the name itself, or ``${/regex/}``). The
    action's ``Delay`` passes on the virtual clock, then it is sent through the callback APIs.
    A heartbeat leaves the callback open, so its next action applies to it later. A callback no
    action matches is left alone: only its timeout can end it.
    """

    def __init__(self, actions: Sequence[Mapping[str, Any]]) -> None:
        self.actions = list(actions)
        self.used: set[int] = set()
        self.done_with: set[str] = set()
        self.unmatched: list[str] = []
        self.sent: list[str] = []

    def run(self, driver: ExecutionDriver) -> ExecutionResult:
        while True:
            driver.run_until_blocked()
            if driver.done:
                return driver.result()
            fresh = [c for c in driver.callbacks if c.id not in self.done_with]
            if not fresh:
                # Every waiting callback is left to its timeout (or the execution's).
                return driver.run()
            for callback in fresh:
                action = self._claim(callback.name or "")
                if action is None:
                    if self.actions:
                        self.unmatched.append(callback.name or callback.id)
                    self.done_with.add(callback.id)
                    continue
                if action["Operation"] != "heartbeat":
                    self.done_with.add(callback.id)
                delay = float(action.get("Delay") or 0)
                if delay:
                    driver.advance(delay)
                self._send(driver, callback.id, action)

    def _claim(self, name: str) -> Mapping[str, Any] | None:
        for index, action in enumerate(self.actions):
            if index not in self.used and _name_matches(str(action["CallbackName"]), name):
                self.used.add(index)
                return action
        return None

    def _send(self, driver: ExecutionDriver, callback_id: str, action: Mapping[str, Any]) -> None:
        callback = driver.callback(id=callback_id)
        operation, payload = action["Operation"], action.get("Payload")
        if operation == "heartbeat":
            callback.heartbeat()
        elif operation == "failure":
            callback.fail(payload["ErrorType"], payload["ErrorMessage"], payload.get("ErrorData"))
        elif payload is None:
            # A success with no Result at all (the driver's succeed() always sends a body).
            driver.client.send_durable_execution_callback_success(CallbackId=callback_id)
        else:
            callback.succeed(json.dumps(payload).encode())  # the body is the payload's JSON
        self.sent.append(f"{operation} {callback.name or callback_id}")


def _name_matches(pattern: str, name: str) -> bool:
    regex = re.fullmatch(r"\$\{/(.*)/\}", pattern)
    if regex:
        return re.search(regex.group(1), name) is not None
    return pattern in ("*", name)


# ----------------------------------------------------------------------------- the tests


def test_every_suite_of_the_package_runs():
    _loaded()
    assert {p.name for p in requirements_dir().iterdir() if p.is_dir()} == set(SUITES)


def test_every_requirement_has_a_handler():
    ids = {r.id for r in _loaded()}
    assert ids == set(HANDLERS)
    assert set(KNOWN_DIFFERENCES) <= ids
    assert set(SKIPPED) <= ids
    assert all(reason.startswith(("sdk:", "cloudwatch:")) for reason in SKIPPED.values())


@pytest.mark.parametrize("requirement", _cases())
def test_requirement(requirement, durable):
    if isinstance(requirement, RequirementsUnavailable):
        pytest.fail(str(requirement), pytrace=False)
    handler = HANDLERS[requirement.id](durable)
    outside = ExternalSystem(requirement.callback_actions)

    with LogCapture().capturing() as logs:
        result = outside.run(durable.start(handler, requirement.input))

    assert not outside.unmatched, f"no CallbackAction matched callback(s) {outside.unmatched}"
    assert_conforms(result, requirement)
    if requirement.callback_actions:
        assert len(outside.used) == len(requirement.callback_actions), (
            f"unused CallbackActions; sent only {outside.sent}"
        )
    expected_logs = requirement.raw.get("ExpectedLogs") or []
    if expected_logs:
        bindings = check_history(result, requirement.expected_history).bindings
        problems = check_logs(expected_logs, logs.records, {**requirement.variables, **bindings})
        records = "\n".join(f"  {json.dumps(record)}" for record in logs.records)
        assert not problems, "\n".join([*problems, "records written:", records])


# ----------------------------------------------------------------------------- docs/conformance.md

_BEGIN = "<!-- requirements: generated by tests/conformance/test_conformance.py -->"
_END = "<!-- end of requirements -->"


def _status(requirement_id: str) -> str:
    if requirement_id in SKIPPED:
        return f"skipped ({SKIPPED[requirement_id]})"
    if requirement_id in KNOWN_DIFFERENCES:
        return f"expected to fail ({KNOWN_DIFFERENCES[requirement_id]})"
    return "passes"


def status_table(requirements: Sequence[Requirement]) -> str:
    """Per suite, how many requirements pass, are expected to fail or are skipped; then every
    requirement with its status."""
    suites = [
        "| suite | requirements | pass | expected to fail | skipped |",
        "|---|---|---|---|---|",
    ]
    totals = [0, 0, 0, 0]
    for suite in SUITES:
        statuses = [_status(r.id) for r in requirements if r.suite == suite]
        counts = [
            len(statuses),
            statuses.count("passes"),
            sum(s.startswith("expected to fail") for s in statuses),
            sum(s.startswith("skipped") for s in statuses),
        ]
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        suites.append(f"| {suite} | " + " | ".join(map(str, counts)) + " |")
    suites.append("| **all** | " + " | ".join(f"**{t}**" for t in totals) + " |")
    rows = ["| id | suite | requirement | status here |", "|---|---|---|---|"]
    for requirement in requirements:
        description = " ".join(requirement.description.split()).replace("|", "\\|")
        status = _status(requirement.id)
        rows.append(f"| {requirement.id} | {requirement.suite} | {description} | {status} |")
    return "\n".join([_BEGIN, *suites, "", *rows, _END])


def test_docs_list_every_requirement_with_its_status():
    table = status_table(_loaded())
    text = DOCS.read_text()
    start, end = text.index(_BEGIN), text.index(_END) + len(_END)
    if text[start:end] != table and os.environ.get(UPDATE_DOCS_ENV):
        DOCS.write_text(text[:start] + table + text[end:])
        return
    assert text[start:end] == table, (
        f"{DOCS} is out of date: rerun with {UPDATE_DOCS_ENV}=1 to rewrite its table"
    )
