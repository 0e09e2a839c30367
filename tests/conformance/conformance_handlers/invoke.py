"""Handlers for the invoke suite (5-x): ``context.invoke`` of other durable functions.

Each builder registers the functions its handler invokes with
``durable.register_durable_function``: they run as their own executions, with their own
histories, on the same virtual clock.
"""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, InvokeConfig
from aws_durable_execution_sdk_python.exceptions import InvokeError
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext

from conformance_handlers.common import requirement

ECHO = "echo-target"
FAILING = "failing-target"
SIZE = "size-target"


@durable_execution
def echo(event, context: DurableContext):
    """The echo target: returns whatever it receives."""
    return event


@durable_execution
def failing(event, context: DurableContext):
    raise RuntimeError("the target function failed")


@durable_execution
def measure(event, context: DurableContext):
    return {"received_chars": len(event["blob"])}


def _with_echo(env) -> None:
    env.register_durable_function(ECHO, echo)


def _with_failing(env) -> None:
    env.register_durable_function(FAILING, failing)


@requirement("5-1", "5-3", "5-4")
def invoke_echo(env):
    _with_echo(env)

    @durable_execution
    def handler(event, context: DurableContext):
        return context.invoke(ECHO, event)

    return handler


@requirement("5-2")
def invoke_with_name(env):
    _with_echo(env)

    @durable_execution
    def handler(event, context: DurableContext):
        return context.invoke(ECHO, event["payload"], name=event["name"])

    return handler


@requirement("5-5")
def target_fails(env):
    _with_failing(env)

    @durable_execution
    def handler(event, context: DurableContext):
        return context.invoke(FAILING, event)

    return handler


@requirement("5-6")
def target_fails_caught(env):
    _with_failing(env)

    @durable_execution
    def handler(event, context: DurableContext):
        try:
            return context.invoke(FAILING, event)
        except InvokeError:
            return "fallback"

    return handler


#: Just under the 256 KB Lambda asynchronous-invocation payload limit, once JSON-encoded.
LARGE_CHARS = 250_000


@requirement("5-7")
def large_payload(env):
    env.register_durable_function(SIZE, measure)

    @durable_execution
    def handler(event, context: DurableContext):
        return context.invoke(SIZE, {"blob": "x" * LARGE_CHARS})

    return handler


@requirement("5-8")
def with_tenant(env):
    _with_echo(env)

    @durable_execution
    def handler(event, context: DurableContext):
        return context.invoke(
            ECHO, event["payload"], config=InvokeConfig(tenant_id=event["tenantId"])
        )

    return handler


@requirement("5-9")
def cached_on_replay(env):
    _with_echo(env)

    @durable_execution
    def handler(event, context: DurableContext):
        value = context.invoke(ECHO, event)
        context.wait(Duration.from_seconds(1))
        return value

    return handler


@requirement("5-10")
def rethrown_on_replay(env):
    _with_failing(env)

    @durable_execution
    def handler(event, context: DurableContext):
        try:
            outcome = context.invoke(FAILING, event)
        except InvokeError as error:
            outcome = f"caught: {error}"
        context.wait(Duration.from_seconds(1))
        return outcome

    return handler


@requirement("5-11")
def step_then_invoke(env):
    _with_echo(env)

    @durable_execution
    def handler(event, context: DurableContext):
        prepared = context.step(lambda _: {"prepared": True}, name="prepare")
        return context.invoke(ECHO, prepared)

    return handler


@requirement("5-12")
def invoke_then_step(env):
    _with_echo(env)

    @durable_execution
    def handler(event, context: DurableContext):
        echoed = context.invoke(ECHO, {"value": 21})
        return context.step(lambda _: echoed["value"] * 2, name="use-result")

    return handler


@requirement("5-13")
def inside_child_context(env):
    _with_echo(env)

    @durable_execution
    def handler(event, context: DurableContext):
        return context.run_in_child_context(lambda child: child.invoke(ECHO, "from the child"))

    return handler


@requirement("5-14")
def two_in_sequence(env):
    env.register_durable_function("target-1", echo)
    env.register_durable_function("target-2", echo)

    @durable_execution
    def handler(event, context: DurableContext):
        first = context.invoke("target-1", "one")
        second = context.invoke("target-2", "two")
        return [first, second]

    return handler


class UppercasePayload(SerDes[Any]):
    """Sends the payload as JSON with every letter uppercased."""

    def serialize(self, value: Any, _: SerDesContext) -> str:
        return json.dumps(value).upper()

    def deserialize(self, data: str, _: SerDesContext) -> Any:
        return json.loads(data)


class UppercaseResult(SerDes[str]):
    """Reads the result text uppercased, as is (no JSON parsing)."""

    def serialize(self, value: str, _: SerDesContext) -> str:
        return value

    def deserialize(self, data: str, _: SerDesContext) -> str:
        return data.upper()


@requirement("5-15")
def custom_payload_serdes(env):
    _with_echo(env)

    @durable_execution
    def handler(event, context: DurableContext):
        return context.invoke(ECHO, event, config=InvokeConfig(serdes_payload=UppercasePayload()))

    return handler


@requirement("5-16")
def custom_result_serdes(env):
    _with_echo(env)

    @durable_execution
    def handler(event, context: DurableContext):
        return context.invoke(ECHO, event, config=InvokeConfig(serdes_result=UppercaseResult()))

    return handler
