"""The timeline of the run in the report of a failing test."""

from __future__ import annotations

import datetime

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration

from pytest_durable import ExecutionBlockedError
from pytest_durable.assertions.timeline import render_timeline, render_timelines
from pytest_durable.errors import hide_frames_of_run_errors

FAILING_EXAMPLE = """
import datetime

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig
from aws_durable_execution_sdk_python.retries import (
    JitterStrategy,
    RetryStrategyConfig,
    create_retry_strategy,
)

RETRY = StepConfig(
    retry_strategy=create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=2,
            initial_delay=Duration.from_seconds(30),
            jitter_strategy=JitterStrategy.NONE,
        )
    )
)


@durable_execution
def checkout(event, context: DurableContext):
    def shipping(child: DurableContext):
        child.step(lambda _: "label-1", name="print-label")
        child.wait(Duration.from_hours(2), name="courier")
        return "shipped"

    context.run_in_child_context(shipping, name="shipping")

    def charge(_):
        raise RuntimeError("card declined")

    return context.step(charge, name="charge", config=RETRY)


@pytest.mark.durable(start=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))
def test_checkout_succeeds(durable):
    result = durable.run(checkout, {"cart": 7})
    assert result.status == "SUCCEEDED"


def test_checkout_passes_when_failure_is_expected(durable):
    assert durable.run(checkout).status == "FAILED"


def test_blocked(durable):
    @durable_execution
    def approval(event, context: DurableContext):
        context.step(lambda _: "asked", name="ask")
        return context.create_callback(name="approval").result()

    durable.run(approval)


def test_no_durable_fixture():
    assert 1 == 2
"""


@pytest.fixture
def outcome(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makepyfile(test_checkout=FAILING_EXAMPLE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=3)
    return result


def test_a_failing_assertion_shows_the_timeline_of_the_run(outcome):
    outcome.stdout.fnmatch_lines(
        [
            "*_ test_checkout_succeeds _*",
            "E       AssertionError: assert 'FAILED' == 'SUCCEEDED'*",
            "*- durable timeline -*",
            "execution * FAILED after 3 invocations, 2h00m30.* of virtual time",
            "  started 2030-01-01T00:00:0*+00:00",
            "  error: *StepError: card declined",
            '*+0.000s  ExecutionStarted     input {"cart":7}',
            "*ContextStarted       shipping  [[]RunInChildContext]",
            '*StepSucceeded        shipping/print-label  attempt 1 -> "label-1"',
            "*WaitStarted          shipping/courier  wait 2h00m00.000s",
            "*---- invocation ended after *",
            "*+2h00m00.*  WaitSucceeded        shipping/courier",
            "*StepFailed           charge  attempt 1  RuntimeError: card declined  retry in 30.0*",
            "*---- invocation ended after *",
            "*+2h00m30.*  StepFailed           charge  attempt 2  RuntimeError: card declined",
            "*ExecutionFailed      *StepError: card declined",
            "  operations:",
            "    shipping * RunInChildContext  SUCCEEDED  +0.* -> +2h00m00.*",
            "      print-label * Step * SUCCEEDED  attempts 1  *",
            "      courier * Wait * SUCCEEDED  +0.* -> +2h00m00.*",
            "    charge * Step * FAILED  attempts 2  * RuntimeError: card declined",
        ]
    )


def test_an_execution_that_stopped_early_shows_where_it_stopped(outcome):
    outcome.stdout.fnmatch_lines(
        [
            "*_ test_blocked _*",
            "*ExecutionBlockedError: The execution is suspended waiting for CALLBACK 'approval'*",
            "*- durable timeline -*",
            "execution * RUNNING (did not finish) after 1 invocation",
            '*StepSucceeded        ask  attempt 1 -> "asked"',
            "*CallbackStarted      approval",
            "*---- invocation ended after *",
            "    approval * Callback * STARTED  +0.*",
        ]
    )


def test_a_stopped_run_points_at_the_test_not_at_the_scheduler(outcome):
    text = outcome.stdout.str()
    blocked = text[
        text.index("_ test_blocked _") : text.index(
            "- durable timeline -", text.index("_ test_blocked _")
        )
    ]
    assert ">       durable.run(approval)" in blocked
    for internal in ("runner/environment.py", "runner/driver.py", "runner/scheduler.py"):
        assert internal not in blocked, blocked


def test_only_errors_that_stop_a_run_hide_the_drive_frames():
    for error, hidden in [(ExecutionBlockedError("waits"), True), (KeyError("a bug"), False)]:
        try:
            raise error
        except Exception:
            assert hide_frames_of_run_errors(pytest.ExceptionInfo.from_current()) is hidden


def test_only_failed_tests_with_the_durable_fixture_get_a_timeline(outcome):
    text = outcome.stdout.str()
    assert text.count("durable timeline") == 2
    no_fixture = text[text.index("_ test_no_durable_fixture _") :]
    assert "durable timeline" not in no_fixture


def test_the_timeline_can_be_turned_off(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\ndurable_timeline = false\n")
    pytester.makepyfile(test_checkout=FAILING_EXAMPLE)
    outcome = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=1, failed=3)
    assert "durable timeline" not in outcome.stdout.str()


# ----------------------------------------------------------------------------- rendering


@durable_execution
def many_steps(event, context: DurableContext):
    for i in range(event):
        context.step(lambda _, i=i: i, name=f"s{i}")
    context.wait(Duration.from_days(8), name="long")
    return "ok"


def test_long_histories_are_elided_in_the_middle(durable):
    result = durable.run(many_steps, 100)
    text = render_timeline(result, max_events=20)
    assert f"... {len(result.history) - 20} events not shown ..." in text
    assert "    ... 61 more operations" in text
    assert len(text.splitlines()) < 20 + 10 + 45
    assert "ExecutionStarted" in text and "ExecutionSucceeded" in text
    # Days on the virtual clock; the seconds are the steps' real running time, which a loaded
    # machine stretches, so only the virtual part is pinned.
    assert "+8d00h0" in text


def test_several_executions_show_the_latest(durable):
    for _ in range(3):
        durable.run(many_steps, 1)
    text = render_timelines(durable.results(), max_executions=2)
    assert text.startswith("(1 earlier execution(s) not shown)")
    assert text.count("SUCCEEDED after 2 invocations") == 2


@pytest.mark.durable(start=datetime.datetime(2031, 2, 3, tzinfo=datetime.UTC))
def test_offsets_are_relative_to_the_execution_start(durable):
    result = durable.run(many_steps, 0)
    lines = render_timeline(result).splitlines()
    assert lines[1].startswith("  started 2031-02-03T00:00:0")
    assert lines[2].strip().startswith("+0.000s  ExecutionStarted")
