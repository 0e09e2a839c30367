"""Handlers for the child-context suite (3-x)."""

from __future__ import annotations

from aws_durable_execution_sdk_python import (
    DurableContext,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import (
    ChildConfig,
    Duration,
)

from conformance_handlers.common import (
    NO_RETRY,
    RawUppercaseSerDes,
    crash,
    requirement,
    retry,
    wait_for_event,
)

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
            # "Replay logging enabled": the Python SDK's context logger always drops records
            # while replaying, so log through its underlying logger, which does not.
            child.logger.get_logger().info(f"building a large result for {event}")
            small = child.step(lambda _: event, name="small")
            return small * (300 * 1024 // len(small) + 1)

        large = context.run_in_child_context(body, name="large-child")
        context.wait(Duration.from_seconds(1))
        return len(large)

    return handler


@requirement("3-12")
def child_interrupted(env):
    runs = []

    @durable_execution
    def handler(event, context: DurableContext):
        def body(child: DurableContext):
            arn = child.execution_context.durable_execution_arn

            def step(_):
                runs.append(1)
                if len(runs) == 1:
                    # "crashes after StepStarted is checkpointed": the SDK sends this START
                    # without blocking, so crash only once the service shows it.
                    wait_for_event(env, arn, "StepStarted", "interrupted")
                    crash()
                return event

            return child.step(step, name="interrupted")

        return context.run_in_child_context(body, name="interrupted-child")

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
            child.logger.get_logger().info(f"child body ran for {event}")  # as in 3-11
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
