"""Handlers a child Python process imports in the HTTP tests (not a test module): the SDK in the
child reaches the service only through AWS_ENDPOINT_URL_LAMBDA."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def wait_a_day(event, context: DurableContext):
    doubled = context.step(lambda _: event["n"] * 2, name="double")
    context.wait(Duration.from_days(1), name="a-day")
    return context.step(lambda _: doubled + 1, name="increment")


@durable_execution
def approval(event, context: DurableContext):
    callback = context.create_callback(name="approval")
    return {"order": event["order"], "answer": callback.result()}
