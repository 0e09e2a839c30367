"""Handlers for the step suite (1-x)."""

from __future__ import annotations

from aws_durable_execution_sdk_python import (
    DurableContext,
    StepContext,
    durable_execution,
    durable_step,
)
from aws_durable_execution_sdk_python.config import (
    Duration,
    StepConfig,
    StepSemantics,
)
from aws_durable_execution_sdk_python.retries import (
    RetryDecision,
    RetryPresets,
)

from conformance_handlers.common import (
    NO_RETRY,
    TransientError,
    UppercaseSerDes,
    crash,
    requirement,
    retry,
)

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
