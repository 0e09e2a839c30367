"""Golden files: missing, written with the flag, matched, mismatched with a diff, refreshed."""

from __future__ import annotations

import datetime

import pytest
import yaml
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration

from pytest_durable.assertions import load_requirement
from pytest_durable.assertions.conformance import assert_conforms
from pytest_durable.assertions.golden import (
    GoldenFiles,
    check_history_document,
    check_updates_document,
    generalise_history,
    history_document,
    updates_document,
)

TEST_FILE = """
import os

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def greeter(event, context: DurableContext):
    greeting = os.environ["GREETING"]
    text = context.step(lambda _: f"{greeting}, {event['name']}!", name="greet")
    context.wait(Duration.from_minutes(5), name="pause")
    return text


def test_greeting(durable, durable_golden):
    result = durable.run(greeter, {"name": "World"})
    durable_golden.assert_history(result)


def test_greeting_updates(durable, durable_golden):
    result = durable.run(greeter, {"name": "World"})
    durable_golden.assert_updates(result)
    durable_golden.assert_history(result, name="again")
"""

GOLDEN_DIR = "fixtures/golden/test_greeter"


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("GREETING", "Hello")
    pytester.makepyfile(test_greeter=TEST_FILE)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_a_missing_golden_fails_and_says_how_to_write_it(project):
    outcome = run(project)
    outcome.assert_outcomes(failed=2)
    outcome.stdout.fnmatch_lines(
        [
            "*No golden history file at *fixtures/golden/test_greeter/test_greeting.history.yaml*"
            "Run pytest with --durable-update-goldens to write it*",
        ]
    )
    assert not (project.path / "fixtures").exists()


def test_the_flag_writes_goldens_that_match_the_next_runs(project):
    outcome = run(project, "--durable-update-goldens")
    outcome.assert_outcomes(passed=2)
    outcome.stdout.fnmatch_lines(
        ["*pytest-durable goldens*", "written: *test_greeting.history.yaml", "written: *"]
    )
    golden = project.path / GOLDEN_DIR
    assert sorted(p.name for p in golden.iterdir()) == [
        "test_greeting.history.yaml",
        "test_greeting_updates.again.history.yaml",
        "test_greeting_updates.updates.yaml",
    ]
    text = (golden / "test_greeting.history.yaml").read_text()
    assert text.startswith("# Golden history of test_greeter.py::test_greeting")
    document = yaml.safe_load(text)
    assert document["Input"] == {"name": "World"}
    assert document["ExpectedResult"] == {"ExecutionStatus": "SUCCEEDED", "Result": "Hello, World!"}
    events = document["ExpectedExecutionHistory"]
    assert [e["EventType"] for e in events] == [
        "ExecutionStarted",
        "StepStarted",
        "StepSucceeded",
        "WaitStarted",
        "InvocationCompleted",
        "WaitSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    assert events[1]["Id"] == events[2]["Id"] == "${ID1}" and events[3]["Id"] == "${ID2}"
    assert events[0]["Id"] == "*" and events[0]["Name"] == "*"
    assert all(e["EventTimestamp"] == "*" for e in events)
    assert events[4]["InvocationCompletedDetails"] == {
        "StartTimestamp": "*",
        "EndTimestamp": "*",
        "RequestId": "*",
    }
    assert events[2]["StepSucceededDetails"]["Result"] == {
        "Payload": '"Hello, World!"',
        "Truncated": False,
    }
    assert events[3]["WaitStartedDetails"] == {"Duration": 300, "ScheduledEndTimestamp": "*"}

    updates = yaml.safe_load((golden / "test_greeting_updates.updates.yaml").read_text())
    assert [
        [(u["Type"], u["Action"], u.get("Name")) for u in invocation["Updates"]]
        for invocation in updates["ExpectedUpdates"]
    ] == [
        [("STEP", "START", "greet"), ("STEP", "SUCCEED", "greet"), ("WAIT", "START", "pause")],
        [],
    ]

    run(project).assert_outcomes(passed=2)


def test_a_mismatch_fails_with_a_diff_and_a_refresh_rewrites_the_golden(project, monkeypatch):
    run(project, "--durable-update-goldens").assert_outcomes(passed=2)
    golden = project.path / GOLDEN_DIR / "test_greeting.history.yaml"
    before = golden.read_text()

    monkeypatch.setenv("GREETING", "Howdy")
    outcome = run(project, "-k", "test_greeting and not updates")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(
        [
            "*golden history *test_greeting.history.yaml: result: 1 mismatch(es)*",
            "*- Result: expected 'Hello, World!', got 'Howdy, World!'*",
            "*--- expected*",
            "*+++ actual*",
            "*-Result: Hello, World!*",
            "*+Result: Howdy, World!*",
            "*refresh the golden with --durable-update-goldens*",
        ]
    )
    assert golden.read_text() == before

    outcome = run(project, "--durable-update-goldens", "-k", "test_greeting and not updates")
    outcome.assert_outcomes(passed=1)
    assert "Howdy, World!" in golden.read_text()
    run(project, "-k", "test_greeting and not updates").assert_outcomes(passed=1)


def test_a_history_mismatch_shows_the_events_that_differ(project, monkeypatch):
    run(project, "--durable-update-goldens").assert_outcomes(passed=2)
    golden = project.path / GOLDEN_DIR / "test_greeting.history.yaml"
    document = yaml.safe_load(golden.read_text())
    del document["ExpectedResult"]
    golden.write_text(yaml.safe_dump(document, sort_keys=False))
    monkeypatch.setenv("GREETING", "Howdy")
    outcome = run(project, "-k", "test_greeting and not updates")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(
        [
            "*history: 2 mismatch(es)*",
            "*EventId 3 (StepSucceeded) > StepSucceededDetails > Result > Payload: expected*",
            "*-      Payload: '\"Hello, World!\"'*",
            "*+      Payload: '\"Howdy, World!\"'*",
        ]
    )


def test_an_updates_mismatch_is_shown(project, monkeypatch):
    run(project, "--durable-update-goldens").assert_outcomes(passed=2)
    monkeypatch.setenv("GREETING", "Howdy")
    outcome = run(project, "-k", "updates")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(
        ["*golden updates*updates: 1 mismatch(es)*", "*[[]0] > Updates > [[]1] > Payload*"]
    )


def test_a_golden_that_still_matches_keeps_its_hand_edits(project, monkeypatch):
    run(project, "--durable-update-goldens").assert_outcomes(passed=2)
    golden = project.path / GOLDEN_DIR / "test_greeting.history.yaml"
    document = yaml.safe_load(golden.read_text())
    document["ExpectedResult"]["Result"] = "${/^(Hello|Howdy), World!$/}"
    for event in document["ExpectedExecutionHistory"]:
        if event["EventType"] in ("StepSucceeded", "ExecutionSucceeded"):
            event[f"{event['EventType']}Details"]["Result"]["Payload"] = "*"
    edited = "# edited by hand\n" + yaml.safe_dump(document, sort_keys=False)
    golden.write_text(edited)

    monkeypatch.setenv("GREETING", "Howdy")
    outcome = run(project, "--durable-update-goldens", "-k", "test_greeting and not updates")
    outcome.assert_outcomes(passed=1)
    assert golden.read_text() == edited
    assert "pytest-durable goldens" not in outcome.stdout.str()


def test_golden_directory_comes_from_the_ini(project):
    project.makeini("[pytest]\ndurable_golden_dir = expectations\n")
    run(project, "--durable-update-goldens").assert_outcomes(passed=2)
    assert (project.path / "expectations/test_greeter/test_greeting.history.yaml").exists()


# ----------------------------------------------------------------------------- generalising


@durable_execution
def tricky(event, context: DurableContext):
    context.step(lambda _: "*", name="star")
    context.step(lambda _: "${NOT_A_PLACEHOLDER}", name="dollar")

    def child(ctx: DurableContext):
        ctx.wait(Duration.from_seconds(1), name="inner")
        return "done"

    context.run_in_child_context(child, name="child")
    return {"at": datetime.datetime(2030, 1, 1).isoformat()}


def test_generalised_goldens_match_their_own_run_and_escape_pattern_like_values(durable):
    result = durable.run(tricky, execution_name="order-42")
    document = history_document(result, "tricky")
    assert check_history_document(document, result).ok
    assert check_updates_document(updates_document(result, "tricky"), result).ok
    events = document["ExpectedExecutionHistory"]
    assert events[0]["Name"] == "order-42"  # a chosen execution name is kept
    payloads = [
        e["StepSucceededDetails"]["Result"]["Payload"]
        for e in events
        if e["EventType"] == "StepSucceeded"
    ]
    assert payloads == ['"*"', '${/^"\\$\\{NOT_A_PLACEHOLDER\\}"$/}']
    inner = next(e for e in events if e.get("Name") == "inner")
    child = next(e for e in events if e.get("Name") == "child")
    assert inner["ParentId"] == child["Id"] == "${ID3}"


def test_generalised_history_is_a_valid_requirement_file(durable, tmp_path):
    result = durable.run(tricky)
    path = tmp_path / "golden.yaml"
    path.write_text(yaml.safe_dump(history_document(result, "x"), sort_keys=False))
    requirement = load_requirement(path)
    assert_conforms(result, requirement)
    other = durable.run(tricky)
    assert_conforms(other, requirement)  # generalised: another run matches too
    assert generalise_history(other.history) == generalise_history(result.history)


def test_golden_files_without_pytest(durable, tmp_path):
    result = durable.run(tricky)
    files = GoldenFiles(tmp_path, "suite/test_x", "test_one", update=True)
    files.assert_history(result)
    assert files.written == [tmp_path / "suite/test_x/test_one.history.yaml"]
    GoldenFiles(tmp_path, "suite/test_x", "test_one").assert_history(durable.run(tricky))
    with pytest.raises(AssertionError, match="No golden updates file"):
        GoldenFiles(tmp_path, "suite/test_x", "test_one").assert_updates(result)


CLASS_TESTS = """
from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def echo(event, context: DurableContext):
    return context.step(lambda _: event, name="echo")


class TestAda:
    def test_echo(self, durable, durable_golden):
        durable_golden.assert_history(durable.run(echo, "ada"))


class TestBob:
    def test_echo(self, durable, durable_golden):
        durable_golden.assert_history(durable.run(echo, "bob"))
"""


def test_same_named_tests_in_different_classes_get_their_own_goldens(pytester):
    # Regression: both classes' test_echo wrote and read the same golden file.
    pytester.makepyfile(test_classes=CLASS_TESTS)
    run(pytester, "--durable-update-goldens").assert_outcomes(passed=2)
    written = sorted(p.name for p in (pytester.path / "fixtures/golden/test_classes").iterdir())
    assert written == ["TestAda.test_echo.history.yaml", "TestBob.test_echo.history.yaml"]
    run(pytester).assert_outcomes(passed=2)
