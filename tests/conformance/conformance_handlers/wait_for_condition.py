"""Handlers for the wait_for_condition suite (6-x)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.retries import JitterStrategy
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitForConditionDecision,
    WaitStrategyConfig,
    create_wait_strategy,
)

from conformance_handlers.common import requirement

# --------------------------------------------------------------------- wait_for_condition 6-x


def poll_until(done: Callable[[Any], bool], delay: int = 1):
    """A wait strategy: stop once ``done(state)``, else poll again after ``delay`` seconds."""

    def strategy(state: Any, attempt: int) -> WaitForConditionDecision:
        if done(state):
            return WaitForConditionDecision.stop_polling()
        return WaitForConditionDecision.continue_waiting(Duration.from_seconds(delay))

    return strategy


def increment(state: int, _check: Any) -> int:
    return state + 1


def count_up(start: int, threshold: int) -> WaitForConditionConfig[int]:
    return WaitForConditionConfig(
        wait_strategy=poll_until(lambda state: state >= threshold), initial_state=start
    )


def _counting(start: int, threshold: int | None = None, name: str | None = None):
    """Count up from ``start`` to ``threshold`` (the input when None), one per poll."""

    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            until = event if threshold is None else threshold
            return context.wait_for_condition(increment, count_up(start, until), name=name)

        return handler

    return build


requirement("6-1")(_counting(0))
requirement("6-3")(_counting(0, 2, name="poll-status"))
requirement("6-4")(_counting(5))


@requirement("6-2")
def wait_for_condition_immediate(env):
    @durable_execution
    def handler(event, context: DurableContext):
        config = WaitForConditionConfig(
            wait_strategy=poll_until(lambda state: state >= 5), initial_state=5
        )
        return context.wait_for_condition(lambda state, _: state, config)

    return handler


@requirement("6-5")
def wait_for_condition_fixed_delay(env):
    @durable_execution
    def handler(event, context: DurableContext):
        config = WaitForConditionConfig(
            wait_strategy=poll_until(lambda state: state >= event, delay=2), initial_state=0
        )
        return context.wait_for_condition(increment, config)

    return handler


@requirement("6-6")
def wait_for_condition_max_attempts(env):
    @durable_execution
    def handler(event, context: DurableContext):
        strategy = create_wait_strategy(
            WaitStrategyConfig(
                should_continue_polling=lambda state: True,
                max_attempts=3,
                initial_delay=Duration.from_seconds(1),
                backoff_rate=1,
                jitter_strategy=JitterStrategy.NONE,
            )
        )
        config = WaitForConditionConfig(wait_strategy=strategy, initial_state=event)
        return context.wait_for_condition(increment, config)

    return handler


def _check_raises(state: Any, _check: Any) -> Any:
    raise RuntimeError("the condition cannot be checked")


@requirement("6-7")
def wait_for_condition_check_raises(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.wait_for_condition(_check_raises, count_up(0, 1))

    return handler


@requirement("6-8")
def wait_for_condition_check_raises_caught(env):
    @durable_execution
    def handler(event, context: DurableContext):
        try:
            return context.wait_for_condition(_check_raises, count_up(0, 1))
        except Exception:
            return "recovered"

    return handler


@requirement("6-9")
def wait_for_condition_object_state(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def check(state: dict[str, Any], _check: Any) -> dict[str, Any]:
            attempts = state["attempts"] + 1
            return {"status": "DONE" if attempts >= 2 else "PENDING", "attempts": attempts}

        config = WaitForConditionConfig(
            wait_strategy=poll_until(lambda state: state["status"] != "PENDING"),
            initial_state={"status": "PENDING", "attempts": 0},
        )
        return context.wait_for_condition(check, config)

    return handler


@requirement("6-10")
def wait_for_condition_null(env):
    @durable_execution
    def handler(event, context: DurableContext):
        config = WaitForConditionConfig(
            wait_strategy=poll_until(lambda state: True), initial_state=None
        )
        return context.wait_for_condition(lambda state, _: None, config)

    return handler


class ReversedSerDes(SerDes[str]):
    """Checkpoints a string reversed and wrapped in angle brackets; reads it back."""

    def serialize(self, value: str, _: SerDesContext) -> str:
        return f"<{value[::-1]}>"

    def deserialize(self, data: str, _: SerDesContext) -> str:
        return data.removeprefix("<").removesuffix(">")[::-1]


@requirement("6-11")
def wait_for_condition_serdes(env):
    @durable_execution
    def handler(event, context: DurableContext):
        config = WaitForConditionConfig(
            wait_strategy=poll_until(lambda state: len(state) >= 2),
            initial_state="",
            serdes=ReversedSerDes(),
        )
        return context.wait_for_condition(lambda state, _: state + "x", config)

    return handler


@requirement("6-12")
def wait_for_condition_then_step(env):
    @durable_execution
    def handler(event, context: DurableContext):
        reached = context.wait_for_condition(increment, count_up(0, event))
        return context.step(lambda _: reached * 10, name="multiply")

    return handler


@requirement("6-13")
def wait_for_condition_sequential(env):
    @durable_execution
    def handler(event, context: DurableContext):
        first = context.wait_for_condition(increment, count_up(0, 2))
        return context.wait_for_condition(increment, count_up(first, 4))

    return handler
