"""Handlers for the wait_for_callback suite (7-x).

``wait_for_callback`` runs a child context (SubType WaitForCallback) holding the callback and the
submitter step. The submitters here hand the callback id to nobody: the test plays the external
system from the requirement's ``CallbackActions``.
"""

from __future__ import annotations

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.exceptions import CallbackError
from aws_durable_execution_sdk_python.retries import (
    JitterStrategy,
    RetryStrategyConfig,
    create_retry_strategy,
)
from aws_durable_execution_sdk_python.serdes import JsonSerDes

from conformance_handlers.common import requirement


def register_callback_id(callback_id: str, _context) -> None:
    """The submitter: completes without doing anything durable."""


def _config(timeout: int = 0, heartbeat: int = 0) -> WaitForCallbackConfig:
    return WaitForCallbackConfig(
        timeout=Duration.from_seconds(timeout), heartbeat_timeout=Duration.from_seconds(heartbeat)
    )


def _single(name: str | None = None, config: WaitForCallbackConfig | None = None):
    """One wait_for_callback named ``name`` (default: the input); returns its result."""

    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            return context.wait_for_callback(
                register_callback_id, name=name or event, config=config
            )

        return handler

    return build


requirement("7-1")(_single())
requirement("7-2")(_single(name="approval"))
requirement("7-4")(_single())
requirement("7-5")(_single(config=_config(timeout=3)))
requirement("7-12")(_single(config=_config(heartbeat=5)))
requirement("7-13")(_single(config=_config(heartbeat=10)))
requirement("7-15")(_single())


@requirement("7-3")
def anonymous_submitter(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.wait_for_callback(lambda callback_id, _ctx: None)

    return handler


def _recovering(fallback: str, config: WaitForCallbackConfig | None = None):
    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            try:
                return context.wait_for_callback(register_callback_id, name=event, config=config)
            except CallbackError:
                return fallback

        return handler

    return build


requirement("7-6")(_recovering("recovered"))
requirement("7-14")(_recovering("timed-out-handled", _config(timeout=3)))


@requirement("7-7")
def submitter_retry_exhaustion(env):
    def submitter(callback_id: str, _context) -> None:
        raise ConnectionError("the approval system is down")

    two_attempts = create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=2,
            initial_delay=Duration.from_seconds(1),
            jitter_strategy=JitterStrategy.NONE,
        )
    )

    @durable_execution
    def handler(event, context: DurableContext):
        return context.wait_for_callback(
            submitter, name=event, config=WaitForCallbackConfig(retry_strategy=two_attempts)
        )

    return handler


@requirement("7-8")
def inside_child_context(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.run_in_child_context(
            lambda child: child.wait_for_callback(register_callback_id, name=event),
            name="wrapper",
        )

    return handler


@requirement("7-9")
def two_in_sequence(env):
    @durable_execution
    def handler(event, context: DurableContext):
        context.wait_for_callback(register_callback_id, name="first")
        return context.wait_for_callback(register_callback_id, name="second")

    return handler


@requirement("7-10")
def after_wait_and_step(env):
    @durable_execution
    def handler(event, context: DurableContext):
        context.wait(Duration.from_seconds(1))
        context.step(lambda _: {"fixed": "data"}, name="prepare")
        return context.wait_for_callback(register_callback_id, name=event)

    return handler


@requirement("7-11")
def json_result(env):
    @durable_execution
    def handler(event, context: DurableContext):
        answer = context.wait_for_callback(
            register_callback_id, name=event, config=WaitForCallbackConfig(serdes=JsonSerDes())
        )
        return answer["status"]

    return handler
