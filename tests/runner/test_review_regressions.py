"""Regressions for defects found in review, each through the real SDK."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.exceptions import InvokeError

from pytest_durable import DurableEnvironment, ExecutionBlockedError, HandlerTimeoutError
from pytest_durable.service import InvalidParameterValueException


@durable_execution
def calls_plain(event, context: DurableContext):
    try:
        return {"ok": context.invoke("plain", event, name="call")}
    except InvokeError as error:
        return {"failed": str(error)}


def test_a_plain_target_sees_time_pass_and_gets_a_lambda_context(durable):
    # Regression: plain targets ran with the clock held (time.time() never moved: a deadline
    # loop hung forever) and got a SimpleNamespace without get_remaining_time_in_millis().
    def plain(event, context):
        deadline = time.time() + 0.05
        while time.time() < deadline:
            threading.Event().wait(0.01)
        return {"remaining_ms": context.get_remaining_time_in_millis() > 0}

    durable.register_function("plain", plain)
    assert durable.run(calls_plain, {}).output == {"ok": {"remaining_ms": True}}


@pytest.mark.durable(invocation_wall_timeout=0.3)
def test_a_hung_plain_target_is_bounded_by_the_wall_timeout(durable):
    release = threading.Event()
    durable.register_function("plain", lambda event, context: release.wait(5))
    try:
        with pytest.raises(HandlerTimeoutError):
            durable.run(calls_plain, {})
    finally:
        release.set()


def test_a_plain_target_returning_something_unserialisable_fails_the_invoke(durable):
    durable.register_function("plain", lambda event, context: {"at": object()})
    result = durable.run(calls_plain, {})
    assert "failed" in result.output
    assert result.operation("call").error.type == "Runtime.MarshalError"


@durable_execution
def slow_child(event, context: DurableContext):
    context.wait(Duration.from_hours(2))
    return 1


@durable_execution
def invokes_slow_child(event, context: DurableContext):
    return context.invoke("slow-child", {}, name="call")


def test_a_target_outliving_the_callers_timeout_leaves_the_caller_timed_out(durable):
    # Regression: completing the invoke on the TIMED_OUT caller raised ResourceConflictException.
    durable.register_durable_function("slow-child", slow_child)
    result = durable.run(invokes_slow_child, execution_timeout=3600)
    assert result.status == "TIMED_OUT"
    assert result.duration == datetime.timedelta(hours=1)


def test_a_blocked_child_says_it_is_the_invoked_execution(durable):
    @durable_execution
    def child_waits(event, context: DurableContext):
        return context.create_callback(name="child-approval").result()

    durable.register_durable_function("needs-approval", child_waits)

    @durable_execution
    def parent(event, context: DurableContext):
        return context.invoke("needs-approval", {})

    with pytest.raises(ExecutionBlockedError, match=r"context.invoke\('needs-approval'\)"):
        durable.run(parent)


def test_invoke_without_hold_does_not_move_time_back():
    # Regression: VirtualClock.running() outside hold() rebased to a stale origin, so a handler
    # invoked directly (driver.invoke()) saw a time before the test's own "now".
    @durable_execution
    def stamp(event, context: DurableContext):
        return context.step(lambda _: datetime.datetime.now(datetime.UTC).isoformat(), name="t")

    with DurableEnvironment() as env:
        driver = env.start(stamp)
        threading.Event().wait(0.2)
        before = env.clock.now()
        driver.invoke()
        seen = datetime.datetime.fromisoformat(driver.result().output)
    assert seen >= before


def test_an_output_shaped_like_a_serdes_envelope_is_returned_as_is(durable):
    @durable_execution
    def envelope_like(event, context: DurableContext):
        return {"t": "i", "v": 21}

    assert durable.run(envelope_like).output == {"t": "i", "v": 21}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"execution_name": "order #1"}, "DurableExecutionName"),
        ({"execution_name": "x" * 65}, "DurableExecutionName"),
        ({"function_name": "my fn"}, "Function name"),
    ],
)
def test_invalid_names_are_refused_before_any_invocation(durable, kwargs, message):
    @durable_execution
    def noop(event, context: DurableContext):
        return None

    with pytest.raises(InvalidParameterValueException, match=message):
        durable.run(noop, **kwargs)
    assert durable.service.executions == []


def test_history_includes_payloads_by_default(durable):
    @durable_execution
    def one(event, context: DurableContext):
        return context.step(lambda _: "v", name="one")

    arn = durable.run(one).arn
    events = durable.client.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    succeeded = next(e for e in events if e["EventType"] == "StepSucceeded")
    assert succeeded["StepSucceededDetails"]["Result"]["Payload"] == '"v"'


def test_callback_results_up_to_1_mb_are_accepted(durable):
    @durable_execution
    def big(event, context: DurableContext):
        return len(context.create_callback(name="big").result())

    driver = durable.start(big).run_until_blocked()
    driver.callback("big").succeed(b"x" * 1_000_000)  # model: BinaryOperationPayload <= 1 MiB
    assert driver.run().output == 1_000_000
