"""Callbacks through the real SDK: answered by hand or by declared responders, timing out on the
virtual clock, and heartbeats. No polling and no real sleeping anywhere."""

from __future__ import annotations

import contextlib
import datetime
import json
import time

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import (
    CallbackConfig,
    Duration,
    WaitForCallbackConfig,
)
from aws_durable_execution_sdk_python.exceptions import CallbackTimeoutError
from botocore.exceptions import ClientError

from pytest_durable import ExecutionBlockedError, Failure

# "At once" in wall time: the waits these tests skip last a minute to 30 days, so a bound of
# seconds proves they ran on the virtual clock, with room for a loaded CI machine.
AT_ONCE = 5.0


class _Real:
    perf_counter = time.perf_counter


def _callback_config(timeout: int = 0, heartbeat: int = 0) -> CallbackConfig:
    return CallbackConfig(
        timeout=Duration.from_seconds(timeout), heartbeat_timeout=Duration.from_seconds(heartbeat)
    )


@durable_execution
def approval(event, context: DurableContext):
    callback = context.create_callback(
        name="approval",
        config=_callback_config(event.get("timeout", 0), event.get("heartbeat", 0)),
    )
    return {"answer": callback.result()}


def test_answered_by_name_from_the_test(durable):
    driver = durable.start(approval, {})
    driver.run_until_blocked()
    assert not driver.done
    assert [c.name for c in driver.callbacks] == ["approval"]

    driver.callback("approval").succeed({"approved": True})
    result = driver.run()

    assert result.status == "SUCCEEDED"
    # The SDK's default callback serdes passes the raw body through.
    assert json.loads(result.output["answer"]) == {"approved": True}
    assert result.operation("approval").status == "SUCCEEDED"
    assert len(result.invocations) == 2


def test_answered_by_id_without_knowing_its_name(durable):
    driver = durable.start(approval, {}).run_until_blocked()
    callback_id = durable.service.waiting_operations(driver.arn)[0].callback_id
    driver.callback(id=callback_id).succeed("by id")
    assert driver.run().output == {"answer": "by id"}


def test_callback_failure_reaches_the_handler_as_an_error(durable):
    driver = durable.start(approval, {}).run_until_blocked()
    driver.callback().fail("Rejected", "the manager said no", data="ticket-7")
    result = driver.run()
    assert result.status == "FAILED"
    assert "the manager said no" in (result.error.message or "")
    op = result.operation("approval")
    assert op.status == "FAILED"
    assert op.error is not None
    assert (op.error.type, op.error.data) == ("Rejected", "ticket-7")


def test_an_unanswered_one_hour_timeout_finishes_at_once_timed_out(durable):
    started = _Real.perf_counter()
    result = durable.run(approval, {"timeout": 3600})
    elapsed = _Real.perf_counter() - started

    assert elapsed < AT_ONCE
    assert result.status == "FAILED"
    assert result.error is not None
    assert result.error.type.endswith("CallbackError") or "timed out" in (
        result.error.message or ""
    )
    op = result.operation("approval")
    assert op.status == "TIMED_OUT"
    assert op.error is not None and op.error.type == "Callback.Timeout"
    assert op.end - op.start == datetime.timedelta(hours=1)
    timed_out = next(e for e in result.history if e["EventType"] == "CallbackTimedOut")
    assert timed_out["CallbackTimedOutDetails"]["Error"]["Payload"]["ErrorType"] == (
        "Callback.Timeout"
    )
    started_event = next(e for e in result.history if e["EventType"] == "CallbackStarted")
    assert started_event["CallbackStartedDetails"]["Timeout"] == 3600


def test_heartbeat_timeout_expires_without_heartbeats(durable):
    result = durable.run(approval, {"timeout": 3600, "heartbeat": 60})
    op = result.operation("approval")
    assert op.status == "TIMED_OUT"
    assert op.error is not None and op.error.type == "Callback.Heartbeat"
    assert op.end - op.start == datetime.timedelta(seconds=60)


def test_heartbeats_keep_a_callback_alive_past_its_heartbeat_timeout(durable):
    durable.on_callback("approval").heartbeat(every=50, times=4).after(30).succeed("done")
    result = durable.run(approval, {"timeout": 3600, "heartbeat": 60})
    assert result.output == {"answer": "done"}
    op = result.operation("approval")
    assert op.end - op.start == datetime.timedelta(seconds=4 * 50 + 30)


def test_declared_responder_answers_after_a_virtual_delay(durable):
    durable.on_callback("approval").after(hours=5).succeed("approved later")
    started = _Real.perf_counter()
    result = durable.run(approval, {})
    assert _Real.perf_counter() - started < AT_ONCE
    assert result.output == {"answer": "approved later"}
    op = result.operation("approval")
    assert op.end - op.start == datetime.timedelta(hours=5)


def test_a_responder_slower_than_the_timeout_loses_to_it(durable):
    durable.on_callback("approval").after(hours=2).succeed("too late")
    result = durable.run(approval, {"timeout": 3600})
    assert result.operation("approval").status == "TIMED_OUT"


def test_responder_computed_from_the_callback(durable):
    seen = []

    def decide(callback):
        seen.append(callback.name)
        return Failure("Denied", f"{callback.name} denied")

    durable.on_callback().respond(decide)
    result = durable.run(approval, {})
    assert seen == ["approval"]
    assert result.status == "FAILED"
    assert result.operation("approval").error.message == "approval denied"


def test_named_responders_win_over_catch_alls(durable):
    durable.on_callback().succeed("catch-all")
    durable.on_callback("approval").succeed("named")
    assert durable.run(approval, {}).output == {"answer": "named"}


@durable_execution
def two_callbacks(event, context: DurableContext):
    first = context.create_callback(name="first")
    second = context.create_callback(name="second")
    return [second.result(), first.result()]


def test_two_callbacks_answered_in_reverse_order(durable):
    driver = durable.start(two_callbacks).run_until_blocked()
    assert [c.name for c in driver.callbacks] == ["first", "second"]
    driver.callback("second").succeed("2")
    driver.run_until_blocked()
    assert [c.name for c in driver.callbacks] == ["first"]
    driver.callback(index=0).succeed("1")
    result = driver.run()
    assert result.output == ["2", "1"]
    assert result.operation("second").end <= result.operation("first").end


@durable_execution
def wait_for_human(event, context: DurableContext):
    def submit(callback_id: str, _ctx) -> None:
        if event.get("submitter_fails"):
            raise ConnectionError("ticketing system down")

    return context.wait_for_callback(
        submit,
        name="human",
        config=WaitForCallbackConfig(timeout=Duration.from_days(1)),
    )


def test_wait_for_callback_answered_by_the_responder_of_its_name(durable):
    durable.on_callback("human").after(minutes=10).succeed("looks good")
    result = durable.run(wait_for_human, {})
    assert result.output == "looks good"
    human = result.operation("human")
    assert human.sub_type == "WaitForCallback"
    assert {c.sub_type for c in human.children} == {"Callback", "Step"}


def test_a_blocked_wait_for_callback_is_named_as_the_test_answers_it(durable):
    # The SDK names the callback inside "<name> create callback id"; the test answers it by
    # the wait_for_callback's own name, so that is the name the message gives.
    @durable_execution
    def unanswered(event, context: DurableContext):
        return context.wait_for_callback(lambda _id, _ctx: None, name="human")

    driver = durable.start(unanswered)
    with pytest.raises(ExecutionBlockedError, match=r"waiting for CALLBACK 'human' \(Callback"):
        driver.run()
    driver.callback("human").succeed("answered by the name in the message")
    assert driver.run().output == "answered by the name in the message"


def test_wait_for_callback_with_a_failing_submitter(durable):
    result = durable.run(wait_for_human, {"submitter_fails": True})
    assert result.status == "FAILED"
    assert "ticketing system down" in str(result.error)
    submitter = next(op for op in result.all_operations() if op.sub_type == "Step")
    assert submitter.status == "FAILED"


@pytest.mark.durable(execution_timeout=30 * 24 * 3600)
def test_a_30_day_execution_timeout_finishes_at_once(durable):
    started = _Real.perf_counter()
    result = durable.run(approval, {})  # nobody answers, no callback timeout
    assert _Real.perf_counter() - started < AT_ONCE
    assert result.status == "TIMED_OUT"
    assert result.duration == datetime.timedelta(days=30)
    assert result.history[-1]["EventType"] == "ExecutionTimedOut"


def test_without_a_timeout_an_unanswered_callback_blocks_with_guidance(durable):
    with pytest.raises(ExecutionBlockedError, match=r"on_callback\(name\)"):
        durable.run(approval, {})


def test_advance_lets_time_pass_up_to_a_callback_timeout(durable):
    driver = durable.start(approval, {"timeout": 3600}).run_until_blocked()
    driver.advance(datetime.timedelta(minutes=59))
    assert driver.callbacks  # still waiting
    driver.advance(datetime.timedelta(minutes=2))
    assert not driver.callbacks
    assert driver.done
    assert driver.result().operation("approval").status == "TIMED_OUT"


def test_answers_go_through_the_real_api_and_closed_callbacks_are_refused(durable):
    driver = durable.start(approval, {}).run_until_blocked()
    callback = driver.callback("approval")
    callback.succeed("once")
    with pytest.raises(ClientError) as caught:
        callback.succeed("twice")
    assert caught.value.response["Error"]["Code"] == "CallbackTimeoutException"


def test_success_without_a_value_sends_no_result(durable):
    driver = durable.start(approval, {}).run_until_blocked()
    driver.callback("approval").succeed()
    result = driver.run()
    # An empty request body is an empty result (what the real service stores is unverified).
    assert result.output == {"answer": ""}
    assert (
        durable.service.execution(result.arn).operations[result.operation("approval").id].result
        == ""
    )


@durable_execution
def first_times_out_then_second(event, context: DurableContext):
    first = context.create_callback(name="first", config=_callback_config(timeout=60))
    with contextlib.suppress(CallbackTimeoutError):  # the timeout is the point
        first.result()
    return context.create_callback(name="second").result()


def test_run_until_blocked_can_leave_a_callback_to_its_timeout(durable):
    driver = durable.start(first_times_out_then_second).run_until_blocked()
    assert [c.name for c in driver.callbacks] == ["first"]
    driver.run_until_blocked(ignore=["first"])
    assert [c.name for c in driver.callbacks] == ["second"]
    assert driver.callback("first").id != driver.callback("second").id
    driver.callback("second").succeed("2")
    result = driver.run()
    assert result.output == "2"
    assert result.operation("first").status == "TIMED_OUT"


@durable_execution
def three_approvals(event, context: DurableContext):
    return [context.create_callback(name="approval").result() for _ in range(3)]


def test_responders_for_one_name_answer_successive_callbacks_in_order(durable):
    durable.on_callback("approval").succeed("first")
    durable.on_callback("approval").after(60).succeed("second, later")
    result = durable.run(three_approvals)
    # The last declared responder keeps answering once the others are used.
    assert result.output == ["first", "second, later", "second, later"]


def test_a_name_finds_the_open_callback_of_that_name_and_index_counts_within_it(durable):
    driver = durable.start(three_approvals).run_until_blocked()
    driver.callback("approval").succeed("A")
    driver.run_until_blocked()
    assert len(driver.callbacks) == 1
    driver.callback("approval").succeed("B")  # the open one, not the answered first
    driver.run_until_blocked()
    assert driver.callback("approval", index=1).id != driver.callback("approval", index=2).id
    driver.callback("approval", index=2).succeed("C")
    assert driver.run().output == ["A", "B", "C"]
    with pytest.raises(LookupError, match="Pass index="):
        driver.callback("approval")


def test_a_responder_without_an_answer_is_refused(durable):
    durable.on_callback("approval").after(hours=1)
    with pytest.raises(ValueError, match="ends without an answer"):
        durable.run(approval, {})
