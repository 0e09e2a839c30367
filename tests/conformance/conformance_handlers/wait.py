"""Handlers for the wait suite (2-x)."""

from __future__ import annotations

from aws_durable_execution_sdk_python import (
    DurableContext,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import (
    Duration,
)

from conformance_handlers.common import (
    Builder,
    requirement,
)

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
