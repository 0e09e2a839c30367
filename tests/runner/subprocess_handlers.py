"""Handlers imported by a child Python process in the subprocess tests (not a test module)."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def wait_and_step(event, context: DurableContext):
    first = context.step(lambda _: event["n"] + 1, name="first")
    context.wait(Duration.from_hours(3), name="three-hours")
    return context.step(lambda _: first * 2, name="second")


@durable_execution
def crash(event, context: DurableContext):
    raise SystemExit(2)
