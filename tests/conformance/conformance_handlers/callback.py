"""Handlers for the callback suite (4-x): ``create_callback`` answered (or not) from outside.

The answers are the requirement's ``CallbackActions``, sent by the test through the driver; the
handlers only create callbacks and wait on them. Without a serdes the SDK hands over the raw
callback body (the JSON text the outside world sent).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration
from aws_durable_execution_sdk_python.exceptions import CallbackError
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext

from conformance_handlers.common import requirement


def seconds(timeout: int = 0, heartbeat: int = 0) -> CallbackConfig:
    return CallbackConfig(
        timeout=Duration.from_seconds(timeout), heartbeat_timeout=Duration.from_seconds(heartbeat)
    )


def _awaiting(name: str | None = None, config: CallbackConfig | None = None):
    """A handler that creates one callback (named ``name``, or the input) and returns its
    result."""

    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            return context.create_callback(name=name or event, config=config).result()

        return handler

    return build


requirement("4-1")(_awaiting())
requirement("4-2")(_awaiting(name="approval"))
requirement("4-3")(_awaiting(config=seconds(timeout=5)))
requirement("4-4")(_awaiting(config=seconds(heartbeat=5)))
requirement("4-5")(_awaiting(config=seconds(heartbeat=10)))
requirement("4-6")(_awaiting())


def _then_step(config: CallbackConfig | None = None):
    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            callback = context.create_callback(name=event, config=config)
            context.step(lambda _: "work done while waiting", name="work")
            return callback.result()

        return handler

    return build


requirement("4-7")(_then_step())
requirement("4-8")(_then_step(seconds(timeout=5)))


def _then_wait(wait: int, config: CallbackConfig | None = None):
    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            callback = context.create_callback(name=event, config=config)
            context.wait(Duration.from_seconds(wait))
            return callback.result()

        return handler

    return build


requirement("4-9")(_then_wait(5))
requirement("4-10")(_then_wait(5))
requirement("4-11")(_then_wait(6, seconds(timeout=3)))


@requirement("4-12")
def result_then_wait(env):
    @durable_execution
    def handler(event, context: DurableContext):
        value = context.create_callback(name=event).result()
        context.wait(Duration.from_seconds(2))
        return value

    return handler


def _caught_then_wait(config: CallbackConfig | None = None):
    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            try:
                message = context.create_callback(name=event, config=config).result()
            except CallbackError as error:
                message = f"callback failed: {error}"
            context.wait(Duration.from_seconds(2))
            return message

        return handler

    return build


requirement("4-13")(_caught_then_wait())
requirement("4-14")(_caught_then_wait(seconds(timeout=3)))


@dataclass(frozen=True)
class Received:
    id: str
    message: str
    timestamp: datetime.datetime


class ReceivedSerDes(SerDes[Received]):
    """Parses the raw JSON body into a ``Received``, its ISO timestamp into a datetime."""

    def serialize(self, value: Received, _: SerDesContext) -> str:
        stamp = value.timestamp.isoformat().replace("+00:00", "Z")
        return json.dumps({"id": value.id, "message": value.message, "timestamp": stamp})

    def deserialize(self, data: str, _: SerDesContext) -> Received:
        raw = json.loads(data)
        stamp = datetime.datetime.fromisoformat(raw["timestamp"].replace("Z", "+00:00"))
        return Received(id=raw["id"], message=raw["message"], timestamp=stamp)


class NumberSerDes(SerDes[int]):
    def serialize(self, value: int, _: SerDesContext) -> str:
        return str(value)

    def deserialize(self, data: str, _: SerDesContext) -> int:
        return int(json.loads(data))


@requirement("4-15")
def typed_result(env):
    @durable_execution
    def handler(event, context: DurableContext):
        received = context.create_callback(
            name=event, config=CallbackConfig(serdes=ReceivedSerDes())
        ).result()
        return {
            "received": {
                "id": received.id,
                "message": received.message,
                "timestamp": int(received.timestamp.timestamp()),
            }
        }

    return handler


@requirement("4-16")
def numeric_result(env):
    @durable_execution
    def handler(event, context: DurableContext):
        count = context.create_callback(
            name=event, config=CallbackConfig(serdes=NumberSerDes())
        ).result()
        return {"count": count, "doubled": count * 2}

    return handler


@requirement("4-17")
def two_in_sequence(env):
    @durable_execution
    def handler(event, context: DurableContext):
        a = context.create_callback(name=event[0]).result()
        b = context.create_callback(name=event[1]).result()
        return [a, b]

    return handler


def _both_then(order: tuple[int, int]):
    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            callbacks: list[Any] = [context.create_callback(name=name) for name in event[:2]]
            results = {i: callbacks[i].result() for i in order}
            return [results[0], results[1]]

        return handler

    return build


requirement("4-18")(_both_then((0, 1)))
requirement("4-19")(_both_then((1, 0)))
