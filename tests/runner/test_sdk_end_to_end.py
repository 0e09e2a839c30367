"""The runner driving real ``@durable_execution`` handlers (SDK 3.0.0) against the fake service.

Every test goes through the released SDK and its boto3 client: nothing of the SDK is mocked.
"""

from __future__ import annotations

import datetime
import itertools
import json
import threading
import time

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import (
    ChildConfig,
    Duration,
    MapConfig,
    StepConfig,
    StepSemantics,
)
from aws_durable_execution_sdk_python.exceptions import SuspendExecution
from aws_durable_execution_sdk_python.lambda_service import LambdaClient
from aws_durable_execution_sdk_python.retries import (
    JitterStrategy,
    RetryStrategyConfig,
    create_retry_strategy,
)
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitForConditionDecision,
)

from pytest_durable import (
    DurableEnvironment,
    ExecutionBlockedError,
    ExecutionStuckError,
    HandlerContractError,
    HandlerTimeoutError,
    InvocationFailedError,
)

# "At once" in wall time: the waits these tests skip last a minute to 30 days, so a bound of
# seconds proves they ran on the virtual clock, with room for a loaded CI machine.
AT_ONCE = 5.0


class _Real:
    """Wall-clock functions, real even under a user's freezegun (it rewrites module attributes
    only)."""

    perf_counter = time.perf_counter


def _no_jitter_retry(attempts: int, delay_seconds: int) -> StepConfig:
    return StepConfig(
        retry_strategy=create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=attempts,
                initial_delay=Duration.from_seconds(delay_seconds),
                backoff_rate=1,
                jitter_strategy=JitterStrategy.NONE,
            )
        )
    )


# ----------------------------------------------------------------------------- steps


@durable_step
def greet(_step_context, name: str) -> str:
    return f"Hello, {name}!"


@durable_execution
def greeter(event, context: DurableContext):
    return context.step(greet(event))


def test_single_step_returns_its_result(durable):
    result = durable.run(greeter, "World")
    assert result.status == "SUCCEEDED"
    assert result.output == "Hello, World!"
    assert result.error is None
    step = result.operation("greet")
    assert (step.type, step.sub_type, step.status, step.attempt) == ("STEP", "Step", "SUCCEEDED", 1)
    assert [i.status for i in result.invocations] == ["COMPLETED"]


@durable_execution
def two_hundred_steps(event, context: DurableContext):
    return sum(context.step(lambda _, i=i: i, name=f"s{i}") for i in range(event["n"]))


def test_many_steps_in_one_invocation(durable):
    result = durable.run(two_hundred_steps, {"n": 200})
    assert result.output == sum(range(200))
    assert len(result.all_operations()) == 200
    assert len(result.invocations) == 1


@durable_execution
def fails_in_step(event, context: DurableContext):
    def boom(_):
        raise ValueError("card declined")

    return context.step(boom, name="charge", config=_no_jitter_retry(1, 1))


def test_step_failure_fails_the_execution_with_the_step_error(durable):
    result = durable.run(fails_in_step)
    assert result.status == "FAILED"
    assert result.error is not None
    assert "card declined" in (result.error.message or "")
    charge = result.operation("charge")
    assert charge.status == "FAILED"
    assert charge.error is not None and charge.error.type == "ValueError"


# ----------------------------------------------------------------------------- retries


def test_retry_backoff_passes_in_virtual_time_not_wall_time(durable):
    attempts: list[datetime.datetime] = []

    def flaky(_):
        attempts.append(datetime.datetime.now(datetime.UTC))
        if len(attempts) < 3:
            raise RuntimeError("gateway timeout")
        return "charged"

    @durable_execution
    def handler(event, context: DurableContext):
        return context.step(flaky, name="charge", config=_no_jitter_retry(5, 60))

    started = _Real.perf_counter()
    result = durable.run(handler)
    elapsed = _Real.perf_counter() - started

    assert result.output == "charged"
    assert result.operation("charge").attempt == 3
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert all(60 <= gap < 61 for gap in gaps), gaps
    assert len(result.invocations) == 3
    assert elapsed < AT_ONCE
    retries = [e for e in result.history if e["EventType"] == "StepFailed"]
    assert [e["StepFailedDetails"]["RetryDetails"] for e in retries] == [
        {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 60},
        {"CurrentAttempt": 2, "NextAttemptDelaySeconds": 60},
    ]


# ----------------------------------------------------------------------------- waits


@durable_execution
def week_long_wait(event, context: DurableContext):
    before = context.step(lambda _: datetime.datetime.now(datetime.UTC).isoformat(), name="before")
    context.wait(Duration.from_days(7), name="cooling-off")
    after = context.step(lambda _: datetime.datetime.now(datetime.UTC).isoformat(), name="after")
    return {"before": before, "after": after, "epoch_after": time.time()}


def test_seven_day_wait_is_instant_and_the_handler_sees_time_move(durable):
    started = _Real.perf_counter()
    result = durable.run(week_long_wait)
    elapsed = _Real.perf_counter() - started

    before = datetime.datetime.fromisoformat(result.output["before"])
    after = datetime.datetime.fromisoformat(result.output["after"])
    assert datetime.timedelta(days=7) <= after - before < datetime.timedelta(days=7, seconds=2)
    assert abs(result.output["epoch_after"] - after.timestamp()) < 2
    assert elapsed < AT_ONCE
    wait = result.operation("cooling-off")
    assert wait.status == "SUCCEEDED"
    assert wait.end - wait.start == datetime.timedelta(days=7)
    started_event = next(e for e in result.history if e["EventType"] == "WaitStarted")
    assert started_event["WaitStartedDetails"]["Duration"] == 7 * 24 * 3600


def test_virtual_clock_is_shared_by_service_and_test(durable):
    start = durable.clock.now()
    durable.run(week_long_wait)
    assert durable.clock.now() - start >= datetime.timedelta(days=7)
    # The test body itself sees the virtual clock too.
    assert datetime.datetime.now(datetime.UTC) - start >= datetime.timedelta(days=7)


# ----------------------------------------------------------------------------- child contexts


@durable_execution
def with_child(event, context: DurableContext):
    def shipping(child: DurableContext):
        label = child.step(lambda _: "label-1", name="print-label")
        child.wait(Duration.from_hours(2), name="courier")
        return child.step(lambda _: f"shipped {label}", name="hand-over")

    return context.run_in_child_context(shipping, name="shipping")


def test_child_context_operations_are_nested_under_it(durable):
    result = durable.run(with_child)
    assert result.output == "shipped label-1"
    shipping = result.operation("shipping")
    assert (shipping.type, shipping.sub_type) == ("CONTEXT", "RunInChildContext")
    assert [c.name for c in shipping.children] == ["print-label", "courier", "hand-over"]
    assert all(c.parent_id == shipping.id for c in shipping.children)


@durable_execution
def big_child_result(event, context: DurableContext):
    def produce(child: DurableContext):
        return child.step(lambda _: "x" * (300 * 1024), name="produce")

    value = context.run_in_child_context(produce, name="big", config=ChildConfig())
    context.wait(Duration.from_seconds(1))
    return len(value)


def test_child_result_over_256_kib_replays_its_children(durable):
    # docs/service-semantics.md#envelope: results over CHECKPOINT_SIZE_LIMIT_BYTES are checkpointed
    # with ReplayChildren=true and rebuilt from the children's checkpoints on replay.
    result = durable.run(big_child_result)
    assert result.output == 300 * 1024
    assert len(result.invocations) == 2
    assert (
        durable.service.execution(result.arn).operations[result.operation("big").id].replay_children
        is True
    )


# ----------------------------------------------------------------------------- map / parallel


@durable_execution
def map_with_waits(event, context: DurableContext):
    def per_item(ctx: DurableContext, item: int, index: int, items: list[int]) -> int:
        if item % 2:
            ctx.wait(Duration.from_seconds(30))
        return ctx.step(lambda _: item * 10, name="multiply")

    return context.map(event, per_item, name="items").get_results()


def test_map_with_waiting_items(durable):
    result = durable.run(map_with_waits, [1, 2, 3, 4])
    assert result.output == [10, 20, 30, 40]
    items = result.operation("items")
    assert items.sub_type == "Map"
    assert [c.name for c in items.children] == [f"map-item-{i}" for i in range(4)]
    assert {c.sub_type for c in items.children} == {"MapIteration"}


def test_map_with_concurrency_limit(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        def per_item(ctx, item, index, items):
            ctx.wait(Duration.from_minutes(5))
            return ctx.step(lambda _: item + 1, name="inc")

        return context.map(
            event, per_item, name="limited", config=MapConfig(max_concurrency=2)
        ).get_results()

    result = durable.run(handler, [1, 2, 3, 4, 5])
    assert result.output == [2, 3, 4, 5, 6]


@durable_execution
def parallel_in_process_resume(event, context: DurableContext):
    def short_wait(ctx: DurableContext):
        ctx.wait(Duration.from_seconds(1))
        return "waited"

    def busy(ctx: DurableContext):
        # Real work that outlasts the other branch's wait: the SDK resumes the waiting
        # branch in-process on a real-time queue timeout (docs/service-semantics.md#timers).
        ready.wait(timeout=10)
        return ctx.step(lambda _: "busy done", name="busy-step")

    return context.parallel([short_wait, busy], name="both").get_results()


ready = threading.Event()


def test_parallel_resumes_a_waiting_branch_in_process(durable):
    ready.clear()
    timer = threading.Timer(1.3, ready.set)
    timer.start()
    try:
        result = durable.run(parallel_in_process_resume)
    finally:
        timer.cancel()
    assert result.output == ["waited", "busy done"]
    # The wait finished inside the first invocation: no second invocation was needed.
    assert len(result.invocations) == 1
    succeeded = [e for e in result.history if e["EventType"] == "WaitSucceeded"]
    assert len(succeeded) == 1


@pytest.mark.durable(start=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))
def test_in_process_resume_works_when_virtual_time_is_far_ahead_of_real_time(durable):
    # The resume wave is scheduled in virtual time (2030) by the handler thread and released by
    # the SDK's checkpoint thread: both must read the same clock, or it is held until 2030.
    @durable_execution
    def handler(event, context: DurableContext):
        context.wait(Duration.from_days(7), name="jump")  # moves virtual time further ahead
        return context.parallel(
            [
                lambda ctx: ctx.wait(Duration.from_seconds(1)) or "waited",
                lambda ctx: ready.wait(timeout=10) and "busy done",
            ]
        ).get_results()

    ready.clear()
    timer = threading.Timer(1.3, ready.set)
    timer.start()
    started = _Real.perf_counter()
    try:
        result = durable.run(handler)
    finally:
        timer.cancel()
    assert result.output == ["waited", "busy done"]
    assert len(result.invocations) == 2  # one for the 7-day wait; the 1 s wait resumed in-process
    # Well under the busy branch's 10 s timeout, with room for a loaded machine.
    assert _Real.perf_counter() - started < 9


@durable_execution
def parallel_all_waiting(event, context: DurableContext):
    def wait_then(seconds: int):
        def branch(ctx: DurableContext):
            ctx.wait(Duration.from_seconds(seconds))
            return seconds

        return branch

    return context.parallel([wait_then(10), wait_then(3600)]).get_results()


def test_parallel_branches_all_suspended_resume_by_reinvocation(durable):
    started = _Real.perf_counter()
    result = durable.run(parallel_all_waiting)
    assert result.output == [10, 3600]
    assert _Real.perf_counter() - started < AT_ONCE
    assert result.duration is not None and result.duration >= datetime.timedelta(hours=1)


# ----------------------------------------------------------------------------- wait_for_condition


@durable_execution
def poll_until_ready(event, context: DurableContext):
    def check(state: int, _ctx) -> int:
        return state + 1

    def strategy(state: int, attempt: int) -> WaitForConditionDecision:
        if state >= 3:
            return WaitForConditionDecision.stop_polling()
        return WaitForConditionDecision.continue_waiting(Duration.from_minutes(10))

    return context.wait_for_condition(
        check, config=WaitForConditionConfig(wait_strategy=strategy, initial_state=0), name="poll"
    )


def test_wait_for_condition_carries_its_state_across_invocations(durable):
    result = durable.run(poll_until_ready)
    assert result.output == 3
    poll = result.operation("poll")
    assert (poll.sub_type, poll.attempt) == ("WaitForCondition", 3)
    assert len(result.invocations) == 3
    assert result.duration is not None
    assert result.duration >= datetime.timedelta(minutes=20)


# ----------------------------------------------------------------------------- large results


# Over the SDK's response limit (6 MiB - 50 characters of JSON) but within the model's
# OperationPayload maximum (6291456 characters).
LARGE_BUT_STORABLE = 6 * 1024 * 1024 - 40


@durable_execution
def huge_result(event, context: DurableContext):
    context.step(lambda _: 1, name="one")
    return "y" * event["size"]


def test_result_over_6_mb_is_checkpointed_and_read_from_the_execution_update(durable):
    # The SDK sends EXECUTION SUCCEED with the payload and returns Result ""
    # (docs/service-semantics.md#envelope).
    result = durable.run(huge_result, {"size": LARGE_BUT_STORABLE})
    assert result.status == "SUCCEEDED"
    assert result.output == "y" * LARGE_BUT_STORABLE


def test_result_over_the_payload_maximum_is_rejected_as_the_service_would(durable):
    # The model caps OperationPayload at 6291456 characters; the service refuses the update and
    # the SDK fails the execution with the non-retryable CheckpointError.
    result = durable.run(huge_result, {"size": 6 * 1024 * 1024})
    assert result.status == "FAILED"
    assert result.error is not None
    assert result.error.type.endswith("CheckpointError")
    assert "the limit is 6291456" in (result.error.message or "")


@durable_execution
def huge_error(event, context: DurableContext):
    raise RuntimeError("e" * (6 * 1024 * 1024))


def test_error_over_6_mb_is_checkpointed_and_read_from_the_execution_update(durable):
    result = durable.run(huge_error)
    assert result.status == "FAILED"
    assert result.error is not None and result.error.type == "RuntimeError"
    assert len(result.error.message or "") == 6 * 1024 * 1024


# ----------------------------------------------------------------------------- crashes


def test_crashed_invocation_is_recorded_and_reinvoked(durable):
    crashes = {"left": 1}

    def crash_once(_):
        if crashes["left"]:
            crashes["left"] -= 1
            raise SystemExit(1)  # the Lambda sandbox dies mid-step
        return "ok"

    @durable_execution
    def handler(event, context: DurableContext):
        return context.step(
            crash_once,
            name="at_most_once",
            config=StepConfig(
                step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY,
                retry_strategy=create_retry_strategy(RetryStrategyConfig(max_attempts=1)),
            ),
        )

    result = durable.run(handler)
    # conformance step 1.17: the re-invocation sees STARTED with no completion and raises
    # StepInterruptedError; with no retry left the step and the execution fail.
    assert result.status == "FAILED"
    assert [i.status for i in result.invocations] == ["FAILED", "COMPLETED"]
    crash = result.invocations[0].error
    assert crash is not None and crash.type == "Runtime.ExitError"
    completed = [e for e in result.history if e["EventType"] == "InvocationCompleted"]
    assert completed[0]["InvocationCompletedDetails"]["Error"]["Payload"]["ErrorType"] == (
        "Runtime.ExitError"
    )
    assert "Error" not in completed[1]["InvocationCompletedDetails"]


def test_repeated_crashes_stop_the_run_with_the_crash(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        def always(_):
            raise SystemExit(3)

        return context.step(always, name="doomed")

    with pytest.raises(InvocationFailedError, match="5 consecutive") as caught:
        durable.run(handler)
    assert isinstance(caught.value.__cause__, SystemExit)


@pytest.mark.durable(max_failed_invocations=2)
def test_max_failed_invocations_comes_from_the_marker(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        raise KeyboardInterrupt

    with pytest.raises(InvocationFailedError, match="2 consecutive"):
        durable.run(handler)


# ----------------------------------------------------------------------------- bounded runs


def test_pending_with_nothing_pending_stops_with_a_clear_error(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        raise SuspendExecution("suspend for no reason")

    with pytest.raises(ExecutionStuckError, match="nothing pending"):
        durable.run(handler)


def test_an_unanswered_callback_stops_the_run_and_says_how_to_answer(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.create_callback(name="approval").result()

    with pytest.raises(ExecutionBlockedError, match=r"CALLBACK 'approval'.*CallbackId"):
        durable.run(handler)


def test_an_undecorated_handler_is_reported(durable):
    def plain(event, context):
        return {"statusCode": 200}

    with pytest.raises(HandlerContractError, match="@durable_execution"):
        durable.run(plain)


@pytest.mark.durable(invocation_wall_timeout=0.2)
def test_a_hung_handler_is_bounded_by_the_wall_timeout(durable):
    release = threading.Event()

    @durable_execution
    def handler(event, context: DurableContext):
        release.wait(5)
        return "late"

    try:
        with pytest.raises(HandlerTimeoutError, match=r"0\.2 s of wall time"):
            durable.run(handler)
    finally:
        release.set()


@pytest.mark.durable(execution_timeout=3600)
def test_execution_timeout_times_out_a_long_wait(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        context.wait(Duration.from_days(2))
        return "never"

    result = durable.run(handler)
    assert result.status == "TIMED_OUT"
    assert result.duration == datetime.timedelta(hours=1)
    assert result.history[-1]["EventType"] == "ExecutionTimedOut"


# ----------------------------------------------------------------------------- isolation


def test_the_sdk_client_cache_is_restored_after_the_environment():
    previous = LambdaClient._cached_boto_client
    with DurableEnvironment() as env:
        env.run(greeter, "x")
        assert LambdaClient._cached_boto_client is not previous
    assert LambdaClient._cached_boto_client is previous


def test_usable_without_pytest_as_a_context_manager():
    with DurableEnvironment(start=datetime.datetime(2031, 5, 1, tzinfo=datetime.UTC)) as env:
        result = env.run(week_long_wait)
    assert result.output["after"].startswith("2031-05-08")
    # The time patching stops on exit: real time again.
    assert datetime.datetime.now(datetime.UTC).year < 2031


def test_running_outside_the_context_manager_is_an_error():
    env = DurableEnvironment()
    with pytest.raises(RuntimeError, match="context manager"):
        env.run(greeter, "x")


def test_input_payload_is_passed_verbatim(durable):
    @durable_execution
    def echo(event, context: DurableContext):
        return event

    assert durable.run(echo, input_payload=json.dumps({"a": [1, 2]})).output == {"a": [1, 2]}
    assert durable.run(echo).output is None


@pytest.mark.durable(start="2031-02-03T04:05:06Z", execution_timeout=datetime.timedelta(hours=1))
def test_settings_take_iso_strings_and_timedeltas(durable):
    assert durable.clock.now().isoformat().startswith("2031-02-03T04:05")
    assert durable.settings.execution_timeout == 3600


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("start", "next tuesday", "not an ISO-8601 date-time"),
        ("start", 20300101, "must be a datetime"),
        ("execution_timeout", "1h", "positive number of seconds"),
        ("execution_timeout", datetime.timedelta(milliseconds=1500), "whole seconds"),
    ],
)
def test_settings_of_the_wrong_kind_are_refused_by_name(setting, value, message):
    with pytest.raises(ValueError, match=message):
        DurableEnvironment(**{setting: value})
