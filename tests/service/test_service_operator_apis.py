"""The APIs tests and operators call (docs/service-semantics.md#client):
GetDurableExecution, ListDurableExecutionsByFunction, StopDurableExecution, the callback APIs,
and the page-size defaults the botocore model documents for the paged APIs."""

import re

import pytest
from service_helpers import (
    T0,
    Env,
    Running,
    assert_output,
    at,
    callback_start,
    step_start,
)

from pytest_durable.errors import CallbackTimeoutException
from pytest_durable.service import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)

ARN_PATTERN = (
    r"arn:aws:lambda:us-east-1:123456789012:function:orders:\$LATEST"
    r"/durable-execution/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+"
)


def test_get_durable_execution_of_a_running_execution(env: Env):
    arn = env.start(payload='{"n": 1}', execution_name="run-1", execution_timeout_seconds=300)
    described = env.describe(arn)  # also checked against the botocore output shape
    assert re.fullmatch(ARN_PATTERN, arn)
    assert described == {
        "DurableExecutionArn": arn,
        "DurableExecutionName": "run-1",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST",
        "InputPayload": '{"n": 1}',
        "StartTimestamp": at(T0),
        "Status": "RUNNING",
        "Version": "$LATEST",
        "ExecutionDataIncluded": True,
        "DurableConfig": {"RetentionPeriodInDays": 14, "ExecutionTimeout": 300},
        "ExpectedExecutionTimeoutTimestamp": at(T0 + 300_000),
    }


def test_get_durable_execution_without_execution_data(env: Env):
    arn = env.start(payload='{"secret": 1}')
    env.invoke(arn)
    env.service.end_invocation(arn, {"Status": "SUCCEEDED", "Result": '"hidden"'})
    described = env.service.get_durable_execution(
        DurableExecutionArn=arn, IncludeExecutionData=False
    )
    assert_output("GetDurableExecution", described)
    assert "InputPayload" not in described
    assert "Result" not in described
    assert described["ExecutionDataIncluded"] is False
    assert described["Status"] == "SUCCEEDED"


def test_unknown_execution_is_resource_not_found(env: Env):
    arn = env.start()
    missing = arn[:-1] + ("0" if arn[-1] != "0" else "1")
    for call in (
        lambda: env.service.get_durable_execution(DurableExecutionArn=missing),
        lambda: env.service.get_durable_execution_history(DurableExecutionArn=missing),
        lambda: env.service.stop_durable_execution(DurableExecutionArn=missing),
    ):
        with pytest.raises(ResourceNotFoundException) as caught:
            call()
        assert caught.value.status == 404


def test_list_executions_filters_and_orders(env: Env):
    first = env.start(execution_name="a")
    env.advance(seconds=1)
    second = env.start(execution_name="b")
    env.advance(seconds=1)
    third = env.start(execution_name="c")
    env.start(function_name="other")
    env.invoke(second)
    env.service.end_invocation(second, {"Status": "SUCCEEDED", "Result": "1"})
    service = env.service

    def arns(**kwargs):
        answer = service.list_durable_executions_by_function(FunctionName="orders", **kwargs)
        assert_output("ListDurableExecutionsByFunction", answer)
        return [e["DurableExecutionArn"] for e in answer["DurableExecutions"]]

    # Default newest first; ReverseOrder gives chronological order (the model's documentation).
    assert arns() == [third, second, first]
    assert arns(ReverseOrder=True) == [first, second, third]
    assert arns(Statuses=["SUCCEEDED"]) == [second]
    assert arns(Statuses=["RUNNING", "FAILED"]) == [third, first]
    assert arns(DurableExecutionName="c") == [third]
    assert arns(StartedAfter=at(T0)) == [third, second]
    assert arns(StartedBefore=at(T0 + 2_000)) == [second, first]
    assert arns(Qualifier="$LATEST") == [third, second, first]
    assert arns(Qualifier="7") == []
    # A full function ARN names the same function.
    full = service.function_arn("orders")
    assert service.list_durable_executions_by_function(FunctionName=full)["DurableExecutions"]

    summary = service.list_durable_executions_by_function(
        FunctionName="orders", Statuses=["SUCCEEDED"]
    )["DurableExecutions"][0]
    assert summary == {
        "DurableExecutionArn": second,
        "DurableExecutionName": "b",
        "FunctionArn": full,
        "Status": "SUCCEEDED",
        "StartTimestamp": at(T0 + 1_000),
        "EndTimestamp": at(T0 + 2_000),
    }


def test_list_executions_pages(env: Env):
    created = []
    for index in range(5):
        created.append(env.start(execution_name=f"e{index}"))
        env.advance(ms=10)
    seen, marker = [], None
    while True:
        kwargs = {"MaxItems": 2} if marker is None else {"MaxItems": 2, "Marker": marker}
        page = env.service.list_durable_executions_by_function(FunctionName="orders", **kwargs)
        seen += [e["DurableExecutionArn"] for e in page["DurableExecutions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == created[::-1]


def test_execution_names_are_unique_per_function(env: Env):
    env.start(execution_name="same")
    with pytest.raises(ResourceConflictException):
        env.start(execution_name="same")
    env.start(execution_name="same", function_name="another")


def test_stop_ends_the_execution_stopped(run: Running):
    run.env.advance(seconds=3)
    error = {"ErrorType": "Stopped", "ErrorMessage": "by operator"}
    answer = run.env.service.stop_durable_execution(DurableExecutionArn=run.arn, Error=error)
    assert_output("StopDurableExecution", answer)
    assert answer == {"StopTimestamp": at(T0 + 3_000)}
    described = run.env.describe(run.arn)
    assert described["Status"] == "STOPPED"
    assert described["Error"] == error
    assert run.env.history(run.arn)[-1]["EventType"] == "ExecutionStopped"
    # Stop declares no ResourceConflictException in the botocore model.
    with pytest.raises(InvalidParameterValueException, match="Cannot stop"):
        run.env.service.stop_durable_execution(DurableExecutionArn=run.arn)


def _callback(run: Running, **options) -> str:
    response = run.cp(callback_start("cb", **options))
    return run.ops(response)["cb"]["CallbackDetails"]["CallbackId"]


def test_callback_success_stores_the_raw_body_as_the_result(run: Running):
    callback_id = _callback(run)
    answer = run.env.service.send_durable_execution_callback_success(
        CallbackId=callback_id, Result=b'{"approved": true}'
    )
    assert answer == {}
    op = run.execution.operations["cb"]
    assert (op.status.value, op.result) == ("SUCCEEDED", '{"approved": true}')
    event = run.env.history(run.arn)[-1]
    assert event["EventType"] == "CallbackSucceeded"
    assert event["CallbackSucceededDetails"] == {
        "Result": {"Payload": '{"approved": true}', "Truncated": False}
    }
    assert run.env.service.woke_since_last_invocation(run.arn)


def test_callback_failure_stores_the_error(run: Running):
    callback_id = _callback(run)
    error = {"ErrorType": "Rejected", "ErrorMessage": "no"}
    run.env.service.send_durable_execution_callback_failure(CallbackId=callback_id, Error=error)
    op = run.execution.operations["cb"]
    assert (op.status.value, op.error) == ("FAILED", error)
    assert run.env.history(run.arn)[-1]["CallbackFailedDetails"] == {
        "Error": {"Payload": error, "Truncated": False}
    }


def test_an_answered_callback_cannot_be_answered_again(run: Running):
    callback_id = _callback(run)
    service = run.env.service
    service.send_durable_execution_callback_success(CallbackId=callback_id, Result=b"1")
    with pytest.raises(CallbackTimeoutException):
        service.send_durable_execution_callback_success(CallbackId=callback_id, Result=b"2")
    with pytest.raises(CallbackTimeoutException):
        service.send_durable_execution_callback_heartbeat(CallbackId=callback_id)
    assert run.execution.operations["cb"].result == "1"


def test_unknown_callback_is_resource_not_found(env: Env):
    with pytest.raises(ResourceNotFoundException):
        env.service.send_durable_execution_callback_success(CallbackId="bm9wZQ==", Result=b"")


# The model's documentation: "The default is 100 and the maximum allowed is 1000. A value of 0
# uses the default." (GetDurableExecutionState, GetDurableExecutionHistory; "Default is 100" for
# ListDurableExecutionsByFunction.)


def test_state_pages_default_to_100_operations(run: Running):
    run.cp(*(step_start(f"s{i}") for i in range(120)))
    for max_items in (None, 0):
        kwargs = {} if max_items is None else {"MaxItems": max_items}
        page = run.env.service.get_durable_execution_state(
            DurableExecutionArn=run.arn, CheckpointToken=run.token, **kwargs
        )
        assert len(page["Operations"]) == 100
        assert page["NextMarker"]


def test_history_pages_default_to_100_events(run: Running):
    run.cp(*(step_start(f"s{i}") for i in range(120)))
    for max_items in (None, 0):
        kwargs = {} if max_items is None else {"MaxItems": max_items}
        page = run.env.service.get_durable_execution_history(DurableExecutionArn=run.arn, **kwargs)
        assert len(page["Events"]) == 100
        assert page["NextMarker"]


def test_list_pages_default_to_100_executions(env: Env):
    for _ in range(101):
        env.start()
    page = env.service.list_durable_executions_by_function(FunctionName="orders")
    assert len(page["DurableExecutions"]) == 100
    assert page["NextMarker"]
