"""An invalid handler output, through the real SDK: the execution ends as the real service ends
it (FAILED, InvalidParameterValueException, InvocationCompleted then ExecutionFailed), and the
run still stops with an error that says what happened, carrying the execution as ``.result``.
See pytest_durable/service/invocation_output.py for the service's rules and their source."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.exceptions import SuspendExecution

from pytest_durable import ExecutionStuckError, HandlerContractError

INVALID = "InvalidParameterValueException"


def rewriting(change):
    """A middleware of the kind that breaks durable handlers: it rewrites the SDK's final
    answer (PENDING goes through untouched)."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> Any:
            output = handler(event, context)
            return output if output.get("Status") == "PENDING" else change(output)

        return wrapper

    return decorate


def _events(result) -> list[str]:
    return [event["EventType"] for event in result.history]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda output: {**output, "Error": {"ErrorType": "E"}}, "SUCCEEDED cannot have an Error"),
        (lambda output: {"statusCode": 200, "body": output}, "has no Status"),
        (lambda output: {**output, "Status": "OK"}, "Invalid Status 'OK'"),
        (lambda output: [output], "not a JSON object"),
    ],
    ids=["succeeded-with-error", "an-http-response", "unknown-status", "a-list"],
)
def test_a_rewritten_output_fails_the_execution_as_lambda_does(durable, change, problem):
    @rewriting(change)
    @durable_execution
    def handler(event, context: DurableContext):
        context.wait(Duration.from_seconds(5))
        return context.step(lambda _: "shipped", name="ship")

    with pytest.raises(HandlerContractError, match="not a valid durable invocation output") as e:
        durable.run(handler)

    message = str(e.value)
    assert problem in message and "InvalidParameterValueException" in message
    result = e.value.result
    assert result.status == "FAILED"
    assert result.error.type == INVALID and problem in result.error.message
    # Two invocations (the wait), each answered; the second answer is refused, no retry.
    assert len(result.invocations) == 2
    assert _events(result)[-3:] == ["StepSucceeded", "InvocationCompleted", "ExecutionFailed"]
    assert durable.client.get_durable_execution(DurableExecutionArn=result.arn)["Error"] == {
        "ErrorType": INVALID,
        "ErrorMessage": result.error.message,
    }


def test_a_failed_answer_carrying_a_result_is_refused(durable):
    @rewriting(lambda output: {**output, "Result": '"partial"'})
    @durable_execution
    def handler(event, context: DurableContext):
        raise ValueError("card declined")

    with pytest.raises(HandlerContractError) as caught:
        durable.run(handler)
    assert caught.value.result.error.message == (
        "An invocation output with Status FAILED cannot have a Result"
    )


def test_an_undecorated_handler_fails_the_execution_and_names_the_decorator(durable):
    def plain(event, context):
        return {"statusCode": 200}

    with pytest.raises(HandlerContractError, match="@durable_execution") as caught:
        durable.run(plain)
    result = caught.value.result
    assert (result.status, result.error.type) == ("FAILED", INVALID)


def test_pending_with_nothing_pending_is_retried_twice_then_the_execution_fails(durable):
    attempts = []

    @durable_execution
    def handler(event, context: DurableContext):
        attempts.append(1)
        context.step(lambda _: "done", name="before")
        raise SuspendExecution("suspends with nothing to wait for")

    with pytest.raises(ExecutionStuckError, match=r"nothing pending.*3 consecutive") as caught:
        durable.run(handler)

    assert len(attempts) == 3  # the first invocation and the service's two retries
    result = caught.value.result
    assert result.status == "FAILED"
    assert result.error.type == INVALID
    assert result.error.message == "Cannot return PENDING status with no pending operations."
    assert _events(result)[1:] == [
        "StepStarted",
        "StepSucceeded",
        "InvocationCompleted",
        "InvocationCompleted",
        "InvocationCompleted",
        "ExecutionFailed",
    ]


def test_a_transient_pending_that_resolves_on_the_retry_succeeds(durable):
    # The case the service retries for: an invocation that answered PENDING too early.
    calls = []

    @durable_execution
    def handler(event, context: DurableContext):
        calls.append(1)
        if len(calls) == 1:
            raise SuspendExecution("a race, gone on replay")
        return context.step(lambda _: "ok", name="work")

    result = durable.run(handler)
    assert (result.status, result.output, len(result.invocations)) == ("SUCCEEDED", "ok", 2)
