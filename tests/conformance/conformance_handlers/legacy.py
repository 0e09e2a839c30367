"""Our own Python handlers for AWS's conformance requirements (suites step, wait, child, map).

Each is written from the requirement's English ``handler``/``invocations`` text with the released
SDK. A builder takes the test's environment (so a crashing step can wait until its START is
persisted, as "crashes after StepStarted is checkpointed" requires) and returns a fresh handler
with fresh state, since several handlers count attempts across invocations.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from aws_durable_execution_sdk_python import (
    DurableContext,
    StepContext,
    durable_execution,
    durable_step,
)
from aws_durable_execution_sdk_python.concurrency.models import (
    BatchItem,
    BatchItemStatus,
    BatchResult,
    CompletionReason,
)
from aws_durable_execution_sdk_python.config import (
    ChildConfig,
    CompletionConfig,
    Duration,
    MapConfig,
    NestingType,
    StepConfig,
    StepSemantics,
)
from aws_durable_execution_sdk_python.retries import (
    JitterStrategy,
    RetryDecision,
    RetryPresets,
    RetryStrategyConfig,
    create_retry_strategy,
)
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES, SerDes, SerDesContext

from pytest_durable import DurableEnvironment

Handler = Callable[[Any, Any], Any]
Builder = Callable[[DurableEnvironment], Handler]

HANDLERS: dict[str, Builder] = {}


def requirement(*ids: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        for requirement_id in ids:
            HANDLERS[requirement_id] = builder
        return builder

    return register


def retry(attempts: int, delay: int = 1, backoff: float = 1) -> StepConfig:
    return StepConfig(
        retry_strategy=create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=attempts,
                initial_delay=Duration.from_seconds(delay),
                backoff_rate=backoff,
                jitter_strategy=JitterStrategy.NONE,
            )
        )
    )


NO_RETRY = StepConfig(retry_strategy=RetryPresets.none())


class TransientError(Exception):
    pass


class UppercaseSerDes(SerDes[Any]):
    """Turns every string value to uppercase on serialization (JSON text)."""

    def serialize(self, value: Any, _: SerDesContext) -> str:
        return json.dumps(value.upper() if isinstance(value, str) else value)

    def deserialize(self, data: str, _: SerDesContext) -> Any:
        return json.loads(data)


class RawUppercaseSerDes(SerDes[Any]):
    """Writes the uppercased string itself as the payload (not JSON), and reads it back."""

    def serialize(self, value: Any, _: SerDesContext) -> str:
        return str(value).upper()

    def deserialize(self, data: str, _: SerDesContext) -> Any:
        return data


class WrappingSerDes(SerDes[Any]):
    """A real, non-identity per-item serializer: ``wrapped:<value>``."""

    def serialize(self, value: Any, _: SerDesContext) -> str:
        return f"wrapped:{value}"

    def deserialize(self, data: str, _: SerDesContext) -> Any:
        return data.removeprefix("wrapped:")


class OpSerDes(SerDes[Any]):
    """Serializes a whole map result as ``OPSERDE:<results joined by commas>``."""

    def serialize(self, value: Any, _: SerDesContext) -> str:
        return "OPSERDE:" + ",".join(value.get_results())

    def deserialize(self, data: str, _: SerDesContext) -> Any:
        results = data.removeprefix("OPSERDE:").split(",")
        items = [
            BatchItem(index=i, status=BatchItemStatus.SUCCEEDED, result=r)
            for i, r in enumerate(results)
        ]
        return BatchResult(items, CompletionReason.ALL_COMPLETED)


def projection(batch: BatchResult[Any], *keys: str) -> dict[str, Any]:
    values = {
        "completionReason": batch.completion_reason.value,
        "status": batch.status.value,
        "successCount": batch.success_count,
        "failureCount": batch.failure_count,
        "totalCount": batch.total_count,
    }
    return {key: values[key] for key in keys}


def one_at_a_time(**completion: Any) -> MapConfig[Any]:
    return MapConfig(max_concurrency=1, completion_config=CompletionConfig(**completion))


def crash() -> None:
    """What ``process.exit`` is to a Node handler: the Lambda sandbox dies (Runtime.ExitError)."""
    raise SystemExit(1)


# ----------------------------------------------------------------------------- step 1-x


@durable_step
def greet(_step_context: StepContext, name: str) -> str:
    return f"Hello, {name}!"


@requirement("1-1")
def step_basic(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.step(greet(event))

    return handler


@requirement("1-2")
def step_with_name(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.step(lambda _: f"Hello, {event}!", name="custom_step_name")

    return handler


@requirement("1-3")
def sequential_steps(env):
    @durable_execution
    def handler(event, context: DurableContext):
        first = context.step(lambda _: "first", name="step_one")
        return context.step(lambda _: f"{first}_second", name="step_two")

    return handler


@requirement("1-4")
def complex_object(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def build_response(_):
            return {"user": {"name": event["name"], "tags": event["tags"]}, "count": 2}

        return context.step(build_response)

    return handler


@requirement("1-5")
def null_result(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.step(lambda _: None, name="do_nothing")

    return handler


@requirement("1-6")
def custom_step_serdes(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.step(
            lambda _: event, name="return_input", config=StepConfig(serdes=UppercaseSerDes())
        )

    return handler


@requirement("1-7")
def step_logger(env):
    @durable_step
    def greet_logged(step_context: StepContext, name: str) -> str:
        step_context.logger.info(f"Greeting step started for: {name}")
        greeting = f"Hello, {name}!"
        step_context.logger.info(f"Greeting step completed with: {greeting}")
        return greeting

    @durable_execution
    def handler(event, context: DurableContext):
        return context.step(greet_logged(event))

    return handler


@requirement("1-8")
def step_then_wait(env):
    @durable_execution
    def handler(event, context: DurableContext):
        value = context.step(lambda _: "computed", name="compute")
        context.wait(Duration.from_seconds(2))
        return value

    return handler


@requirement("1-9")
def replay_skips_succeeded_step(env):
    executed = []

    @durable_execution
    def handler(event, context: DurableContext):
        def cached(step_context: StepContext):
            executed.append(1)
            step_context.logger.info("step executed")
            return "cached_value"

        value = context.step(cached, name="cached")
        context.wait(Duration.from_seconds(1))
        assert len(executed) == 1
        return value

    return handler


@requirement("1-10")
def replay_rethrows_failed_step(env):
    executed = []

    @durable_execution
    def handler(event, context: DurableContext):
        def failing(_):
            executed.append(1)
            raise RuntimeError("step executed and failed")

        try:
            context.step(failing, name="failing", config=NO_RETRY)
        except Exception as error:
            caught = type(error).__name__
        context.wait(Duration.from_seconds(1))
        assert len(executed) == 1
        return caught

    return handler


@requirement("1-11")
def retry_then_succeed(env):
    attempts = []

    @durable_execution
    def handler(event, context: DurableContext):
        def unreliable(_):
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("first attempt fails")
            return "Operation succeeded"

        return context.step(unreliable, name="unreliable", config=retry(3))

    return handler


@requirement("1-12")
def retry_exhaustion(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def always_fail(_):
            raise RuntimeError("always fails")

        return context.step(always_fail, name="always_fail", config=retry(4))

    return handler


@requirement("1-13")
def default_retry_strategy(env):
    attempts = []

    @durable_execution
    def handler(event, context: DurableContext):
        def unreliable(_):
            attempts.append(1)
            if len(attempts) < 3:
                raise RuntimeError(f"attempt {len(attempts)} fails")
            return "third time lucky"

        return context.step(unreliable, name="unreliable")

    return handler


@requirement("1-14")
def custom_backoff(env):
    attempts = []

    @durable_execution
    def handler(event, context: DurableContext):
        def unreliable(_):
            attempts.append(1)
            if len(attempts) < 3:
                raise RuntimeError(f"attempt {len(attempts)} fails")
            return "succeeded"

        return context.step(unreliable, name="unreliable", config=retry(5, delay=2, backoff=3))

    return handler


def _retry_transient(error: Exception, attempt: int) -> RetryDecision:
    if isinstance(error, TransientError) and attempt < 3:
        return RetryDecision.retry(Duration.from_seconds(1))
    return RetryDecision.no_retry()


def _never_retry_transient(error: Exception, attempt: int) -> RetryDecision:
    if isinstance(error, TransientError):
        return RetryDecision.no_retry()
    return RetryDecision.retry(Duration.from_seconds(1))


@requirement("1-15")
def retry_specific_exception(env):
    attempts = []

    @durable_execution
    def handler(event, context: DurableContext):
        def transient_once(_):
            attempts.append(1)
            if len(attempts) == 1:
                raise TransientError("try again")
            return "recovered"

        return context.step(
            transient_once, name="transient", config=StepConfig(retry_strategy=_retry_transient)
        )

    return handler


@requirement("1-16")
def non_retryable_exception(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def transient(_):
            raise TransientError("not retried")

        return context.step(
            transient, name="transient", config=StepConfig(retry_strategy=_never_retry_transient)
        )

    return handler


@requirement("1-17")
def at_most_once_no_retry(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def flaky(step_context: StepContext):
            step_context.logger.info(f"about to crash: {event}")
            crash()

        return context.step(
            flaky,
            name="at_most_once_flaky_step",
            config=StepConfig(
                step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY,
                retry_strategy=RetryPresets.none(),
            ),
        )

    return handler


@requirement("1-18")
def at_most_once_with_retry(env):
    runs = []

    @durable_execution
    def handler(event, context: DurableContext):
        def flaky(step_context: StepContext):
            runs.append(1)
            step_context.logger.info(f"running with {event}")
            if len(runs) == 1:
                crash()
            return "succeeded on second attempt"

        return context.step(
            flaky,
            name="at_most_once_flaky_step",
            config=StepConfig(
                step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY,
                retry_strategy=retry(3).retry_strategy,
            ),
        )

    return handler


@requirement("1-19")
def fails_permanently(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def failing(_):
            raise RuntimeError("always fails")

        return context.step(failing, name="failing", config=NO_RETRY)

    return handler


@requirement("1-20")
def error_caught(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def failing(_):
            raise RuntimeError("fails")

        try:
            return context.step(failing, name="failing", config=NO_RETRY)
        except Exception:
            return context.step(lambda _: "fallback_result", name="fallback")

    return handler


# ----------------------------------------------------------------------------- wait 2-x


def _wait_handler(seconds: Duration, name: str | None = None) -> Builder:
    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            context.wait(seconds, name=name)
            return "done"

        return handler

    return build


requirement("2-1")(_wait_handler(Duration.from_seconds(2)))
requirement("2-2")(_wait_handler(Duration.from_seconds(2), name="custom_wait_name"))
requirement("2-4")(_wait_handler(Duration.from_minutes(1)))
requirement("2-5")(_wait_handler(Duration.from_hours(1)))


@requirement("2-3")
def sequential_waits(env):
    @durable_execution
    def handler(event, context: DurableContext):
        context.wait(Duration.from_seconds(2), name="wait-1")
        context.wait(Duration.from_seconds(2), name="wait-2")
        return {"completedWaits": 2}

    return handler


# ----------------------------------------------------------------------------- child 3-x


@requirement("3-1")
def child_basic(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.run_in_child_context(lambda child: child.step(lambda _: event))

    return handler


@requirement("3-2")
def child_with_name(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.run_in_child_context(
            lambda child: child.step(lambda _: event["value"]), name=event["name"]
        )

    return handler


@requirement("3-3")
def child_sequential_steps(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            first = child.step(lambda _: event, name="first")
            return child.step(lambda _: first, name="second")

        return context.run_in_child_context(body, name="two-steps")

    return handler


@requirement("3-4")
def child_error(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            def failing(_):
                raise RuntimeError("inner step fails")

            return child.step(failing, name="failing", config=NO_RETRY)

        return context.run_in_child_context(body, name="failing-child")

    return handler


@requirement("3-5")
def child_error_caught(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            def failing(_):
                raise RuntimeError("inner step fails")

            return child.step(failing, name="failing", config=NO_RETRY)

        try:
            context.run_in_child_context(body, name="failing-child")
        except Exception:
            return context.step(lambda _: event, name="recovery")
        return "unreachable"

    return handler


@requirement("3-6")
def nested_children(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def inner(child: DurableContext):
            return child.step(lambda _: event, name="inner-step")

        def outer(child: DurableContext):
            child.step(lambda _: event, name="outer-step")
            return child.run_in_child_context(inner, name="inner")

        return context.run_in_child_context(outer, name="outer")

    return handler


@requirement("3-7")
def child_step_retry(env):
    attempts = []

    @durable_execution
    def handler(event, context: DurableContext):
        def unreliable(_):
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("first attempt fails")
            return event

        def body(child: DurableContext):
            return child.step(unreliable, name="unreliable", config=retry(3))

        return context.run_in_child_context(body, name="retrying-child")

    return handler


@requirement("3-8")
def child_retry_exhaustion(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def always_fail(_):
            raise RuntimeError("always fails")

        def body(child: DurableContext):
            return child.step(always_fail, name="always_fail", config=retry(2))

        return context.run_in_child_context(body, name="exhausted-child")

    return handler


@requirement("3-9")
def child_replay_cached(env):
    runs = []

    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            runs.append(1)
            return child.step(lambda _: event, name="step")

        value = context.run_in_child_context(body, name="cached-child")
        context.wait(Duration.from_seconds(1))
        assert len(runs) == 1
        return value

    return handler


@requirement("3-10")
def child_step_and_wait(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            child.step(lambda _: event, name="step")
            child.wait(Duration.from_seconds(1))
            return event

        return context.run_in_child_context(body, name="step-and-wait")

    return handler


@requirement("3-11")
def child_large_result(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            child.logger.info(f"building a large result for {event}")
            small = child.step(lambda _: event, name="small")
            return small * (300 * 1024 // len(small) + 1)

        large = context.run_in_child_context(body, name="large-child")
        context.wait(Duration.from_seconds(1))
        return len(large)

    return handler


@requirement("3-12")
def child_interrupted(env):
    runs = []

    def wait_until_started(name: str) -> None:
        """Crash only once the service has the step STARTED: a non-blocking START must be
        persisted first, as "crashes after StepStarted is checkpointed" says."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for execution in env.service.executions:
                if any(op.name == name for op in execution.operations.values()):
                    return
            time.sleep(0.002)
        raise AssertionError(f"step {name} was never checkpointed STARTED")

    @durable_execution
    def handler(event, context: DurableContext):
        def step(_):
            runs.append(1)
            if len(runs) == 1:
                wait_until_started("interrupted")
                crash()
            return event

        return context.run_in_child_context(
            lambda child: child.step(step, name="interrupted"), name="interrupted-child"
        )

    return handler


@requirement("3-13")
def child_wait_then_outer_step(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            child.wait(Duration.from_seconds(1))
            return event

        context.run_in_child_context(body, name="waiting-child")
        return context.step(lambda _: event, name="outer")

    return handler


@requirement("3-14")
def child_custom_serdes(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            return child.step(lambda _: event, name="step")

        return context.run_in_child_context(
            body, name="uppercase-child", config=ChildConfig(serdes=RawUppercaseSerDes())
        )

    return handler


@requirement("3-15")
def child_error_without_step(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            raise RuntimeError("thrown directly in the child body")

        return context.run_in_child_context(body, name="throwing-child")

    return handler


@requirement("3-16")
def child_returning_null(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.run_in_child_context(lambda child: None, name="null-child")

    return handler


@requirement("3-17")
def child_logger_only(env):
    runs = []

    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            runs.append(1)
            child.logger.info(f"child body ran for {event}")
            return event

        value = context.run_in_child_context(body, name="logging-child")
        context.wait(Duration.from_seconds(1))
        assert len(runs) == 1
        return value

    return handler


@requirement("3-18")
def child_then_outer_step_and_wait(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            child.step(lambda _: event, name="inner-step")
            child.wait(Duration.from_seconds(1))
            return event

        context.run_in_child_context(body, name="child")
        value = context.step(lambda _: event, name="outer-step")
        context.wait(Duration.from_seconds(1))
        return value

    return handler


# ----------------------------------------------------------------------------- map 9-x


@requirement("9-1")
def map_basic(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def per_item(ctx: DurableContext, item, index, items):
            return ctx.step(lambda _: f"Hello, {item}!", name="greet")

        return context.map(event, per_item, name="map", config=one_at_a_time()).get_results()

    return handler


@requirement("9-2")
def map_items_only(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            event, lambda ctx, item, index, items: item * 2, config=one_at_a_time()
        ).get_results()

    return handler


@requirement("9-3")
def map_item_and_index(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            event, lambda ctx, item, index, items: item + index, config=one_at_a_time()
        ).get_results()

    return handler


@requirement("9-4")
def map_empty(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(event, lambda ctx, item, index, items: item).get_results()

    return handler


def _ok_or_fail(ctx, item, index, items):
    if item == "fail":
        raise RuntimeError(f"item {index} fails")
    return item


PROJECTION = ("completionReason", "status", "successCount", "failureCount", "totalCount")


@requirement("9-5")
def map_fail_fast(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["ok", "fail", "ok"], _ok_or_fail, config=one_at_a_time(tolerated_failure_count=0)
        )
        return projection(batch, *PROJECTION)

    return handler


@requirement("9-6")
def map_rethrow(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["fail", "ok"], _ok_or_fail, config=one_at_a_time(tolerated_failure_count=0)
        )
        batch.throw_if_error()
        return "unreachable"

    return handler


@requirement("9-7")
def map_min_successful(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["a", "b", "c", "d"],
            lambda ctx, item, index, items: "done",
            config=one_at_a_time(min_successful=2),
        )
        return projection(batch, "completionReason", "successCount", "totalCount")

    return handler


@requirement("9-8")
def map_tolerated_failure(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["ok", "fail", "ok"], _ok_or_fail, config=one_at_a_time(tolerated_failure_count=1)
        )
        return projection(batch, *PROJECTION)

    return handler


@requirement("9-9")
def map_tolerance_exceeded(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["fail", "fail", "ok"], _ok_or_fail, config=one_at_a_time(tolerated_failure_count=1)
        )
        return projection(batch, "completionReason", "successCount", "failureCount", "totalCount")

    return handler


@requirement("9-10")
def map_tolerated_percentage(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["fail", "fail", "ok", "ok"],
            _ok_or_fail,
            config=one_at_a_time(tolerated_failure_percentage=25),
        )
        return projection(batch, "completionReason", "successCount", "failureCount", "totalCount")

    return handler


@requirement("9-11")
def map_concurrent(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            [0, 1, 2],
            lambda ctx, item, index, items: f"r{item}",
            config=MapConfig(max_concurrency=2),
        ).get_results()

    return handler


@requirement("9-12")
def map_flat(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            ["fa", "fb"],
            lambda ctx, item, index, items: ctx.step(lambda _: item, name="item"),
            config=MapConfig(max_concurrency=1, nesting_type=NestingType.FLAT),
        ).get_results()

    return handler


@requirement("9-13")
def map_item_namer(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            event,
            lambda ctx, item, index, items: item * 10,
            config=MapConfig(max_concurrency=1, item_namer=lambda item, index: f"item-{item}"),
        ).get_results()

    return handler


@requirement("9-14")
def map_item_serdes(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            ["x", "y"],
            lambda ctx, item, index, items: item.upper(),
            config=MapConfig(max_concurrency=1, item_serdes=WrappingSerDes()),
        ).get_results()

    return handler


@requirement("9-15")
def map_wait_inside(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def per_item(ctx: DurableContext, item, index, items):
            if index == 1:
                ctx.wait(Duration.from_seconds(1))
            return ctx.step(lambda _: item, name="result")

        return context.map(
            ["r0", "r1"], per_item, name="suspend", config=one_at_a_time()
        ).get_results()

    return handler


@requirement("9-16")
def map_large_results(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            [0, 1, 2, 3],
            lambda ctx, item, index, items: str(item) * (70 * 1024),
            name="large",
            config=one_at_a_time(),
        )
        return projection(batch, "successCount", "totalCount")

    return handler


@requirement("9-17")
def map_then_wait(env):
    @durable_execution
    def handler(event, context: DurableContext):
        results = context.map(
            ["a", "b"],
            lambda ctx, item, index, items: item.upper(),
            name="then-wait",
            config=one_at_a_time(),
        ).get_results()
        context.wait(Duration.from_seconds(1))
        return results

    return handler


@requirement("9-18")
def map_failure_then_wait(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["ok", "fail"],
            _ok_or_fail,
            name="fail-then-wait",
            config=one_at_a_time(tolerated_failure_count=1),
        )
        context.wait(Duration.from_seconds(1))
        return projection(batch, *PROJECTION)

    return handler


def _map_operation_serdes(name: str, wait: bool) -> Builder:
    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            batch = context.map(
                ["x", "y"],
                lambda ctx, item, index, items: item.upper(),
                name=name,
                # The SDK applies a lone ``serdes`` to the items too; the requirement wants the
                # default serializer per item, so name it.
                config=MapConfig(
                    max_concurrency=1, serdes=OpSerDes(), item_serdes=EXTENDED_TYPES_SERDES
                ),
            )
            if wait:
                context.wait(Duration.from_seconds(1))
            return batch.get_results()

        return handler

    return build


requirement("9-19")(_map_operation_serdes("op-serde", wait=False))
requirement("9-20")(_map_operation_serdes("op-serde-replay", wait=True))
