"""Through a real botocore ``lambda`` client from ``make_client(Router(service))``: the requests are
serialized by botocore, answered by the router and parsed by botocore's rest-json parser, exactly
as the SDK's boto3 client would see an AWS endpoint (docs/service-semantics.md: #client, #errors,
#model-limits)."""

import datetime as dt
import uuid
from dataclasses import replace

import pytest
from aws_durable_execution_sdk_python.exceptions import CheckpointError, GetExecutionStateError
from aws_durable_execution_sdk_python.lambda_service import LambdaClient, OperationUpdate
from botocore.exceptions import ClientError
from transport_helpers import (
    T0,
    Wired,
    callback,
    error_of,
    step,
    wait,
    without_metadata,
)

UTC = dt.UTC


def at(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=ms)


# ------------------------------------------------------------------------------ checkpoint


def test_checkpoint_round_trip(wired: Wired):
    arn, token = wired.running()
    wired.checkpoint(arn, token, [step("ctx-free", Name="charge card")])
    answer = without_metadata(
        wired.checkpoint(
            arn,
            wired.service.execution(arn).checkpoint_token,
            [step("ctx-free", "SUCCEED", Name="charge card", Payload='"ok"')],
        )
    )
    assert set(answer) == {"CheckpointToken", "NewExecutionState"}
    (op,) = answer["NewExecutionState"]["Operations"]
    assert op == {
        "Id": "ctx-free",
        "Name": "charge card",
        "Type": "STEP",
        "SubType": "Step",
        "StartTimestamp": at(T0),
        "EndTimestamp": at(T0),
        "Status": "SUCCEEDED",
        "StepDetails": {"Attempt": 1, "Result": '"ok"'},
    }


@pytest.mark.parametrize("millis", [0, 1, 7, 123, 500, 999])
def test_timestamps_parse_to_aware_datetimes_with_millisecond_precision(wired: Wired, millis: int):
    wired.now[0] = 1_700_000_000_000 + millis
    arn, token = wired.running()
    answer = wired.checkpoint(arn, token, [wait("w", seconds=3)])
    (op,) = answer["NewExecutionState"]["Operations"]
    for value, expected_ms in (
        (op["StartTimestamp"], wired.now[0]),
        (op["WaitDetails"]["ScheduledEndTimestamp"], wired.now[0] + 3_000),
    ):
        assert value.tzinfo is not None
        assert value.utcoffset() is not None
        assert value == at(expected_ms)
        assert value.microsecond == millis * 1000


def test_stale_token_is_an_invalid_parameter_value_client_error(wired: Wired):
    arn, token = wired.running()
    wired.checkpoint(arn, token, [])
    with pytest.raises(ClientError) as caught:
        wired.checkpoint(arn, token, [step("s")])
    code, message, status = error_of(caught.value)
    assert code == "InvalidParameterValueException"
    assert message.startswith("Invalid checkpoint token")
    assert status == 400
    headers = caught.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == "InvalidParameterValueException"
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_the_sdk_classifies_a_stale_token_as_retryable(wired: Wired):
    # docs/service-semantics.md#errors: only "Invalid checkpoint token"
    # InvalidParameterValueExceptions make the SDK raise (so Lambda re-invokes) instead of failing
    # the execution.
    arn, token = wired.running()
    wired.checkpoint(arn, token, [])
    sdk = LambdaClient(client=wired.client)
    with pytest.raises(CheckpointError) as caught:
        sdk.checkpoint(arn, token, [], None)
    assert caught.value.is_retryable()
    with pytest.raises(GetExecutionStateError) as state_error:
        sdk.get_execution_state(arn, token, "", 1000)
    assert state_error.value.is_retryable()


def test_the_sdk_classifies_a_rejected_batch_as_not_retryable(wired: Wired):
    arn, token = wired.running()
    sdk = LambdaClient(client=wired.client)
    bad = OperationUpdate.from_dict(step("s", ParentId="missing"))
    with pytest.raises(CheckpointError) as caught:
        sdk.checkpoint(arn, token, [bad], None)
    assert not caught.value.is_retryable()
    assert caught.value.error is not None
    assert caught.value.error["Code"] == "InvalidParameterValueException"


def test_the_sdk_reads_the_echoed_operation_and_the_next_token(wired: Wired):
    arn, token = wired.running()
    sdk = LambdaClient(client=wired.client)
    output = sdk.checkpoint(arn, token, [OperationUpdate.from_dict(wait("w", seconds=60))], None)
    assert output.checkpoint_token
    assert output.checkpoint_token != token
    (op,) = output.new_execution_state.operations
    assert op.operation_id == "w"
    assert op.status.value == "STARTED"
    assert op.wait_details is not None
    scheduled = op.wait_details.scheduled_end_timestamp
    assert scheduled == at(T0 + 60_000)
    # suspend.py compares it with datetime.now(tz=UTC), which raises for a naive datetime.
    assert scheduled is not None
    assert scheduled.tzinfo is not None
    assert scheduled < dt.datetime.now(tz=UTC)
    state = sdk.get_execution_state(arn, output.checkpoint_token, "", 1000)
    assert {o.operation_id for o in state.operations} == {arn.rsplit("/", 1)[-1], "w"}


def test_a_rejected_batch_leaves_the_state_unchanged(wired: Wired):
    arn, token = wired.running()
    token = wired.checkpoint(arn, token, [step("s1"), wait("w1")])["CheckpointToken"]
    state = wired.state(arn, token)
    history = wired.history(arn)
    with pytest.raises(ClientError) as caught:
        wired.checkpoint(arn, token, [step("s2"), step("s1", "SUCCEED"), step("bad", ParentId="x")])
    code, message, status = error_of(caught.value)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Updates[2] ")
    assert wired.state(arn, token) == state
    assert wired.history(arn) == history
    # The token was not consumed either.
    assert wired.checkpoint(arn, token, [])["CheckpointToken"]


def test_a_repeated_explicit_client_token_gets_the_identical_parsed_answer(wired: Wired):
    arn, token = wired.running()
    updates = [step("s"), step("s", "SUCCEED", Payload="1"), callback("cb")]
    first = wired.checkpoint(arn, token, updates, ClientToken="retry-me")
    again = wired.checkpoint(arn, token, updates, ClientToken="retry-me")
    assert without_metadata(again) == without_metadata(first)
    assert len([e for e in wired.history(arn) if e["EventType"] == "CallbackStarted"]) == 1


def test_botocore_fills_in_a_client_token(wired: Wired):
    # docs/service-semantics.md#client: ClientToken carries the idempotencyToken trait; botocore
    # sends a uuid4.
    seen = []
    wired.service.add_checkpoint_listener(lambda arn, request, _: seen.append(request))
    arn, token = wired.running()
    token = wired.checkpoint(arn, token, [])["CheckpointToken"]
    wired.checkpoint(arn, token, [])
    tokens = [request["ClientToken"] for request in seen]
    assert len(set(tokens)) == 2
    for value in tokens:
        assert uuid.UUID(value).version == 4


def test_execution_update_answer_has_no_token_after_parsing(wired: Wired):
    arn, token = wired.running()
    answer = wired.checkpoint(
        arn,
        token,
        [{"Id": "execution-result-1", "Type": "EXECUTION", "Action": "SUCCEED", "Payload": '"x"'}],
    )
    assert "CheckpointToken" not in answer
    assert answer["NewExecutionState"] == {"Operations": []}


def test_checkpoint_on_an_unknown_arn_is_an_invalid_parameter(wired: Wired):
    arn, token = wired.running()
    with pytest.raises(ClientError) as caught:
        wired.checkpoint(arn.rsplit("/", 1)[0] + "/nope", token, [])
    code, _, status = error_of(caught.value)
    assert (code, status) == ("InvalidParameterValueException", 400)


# ------------------------------------------------------------------------------ state paging


def test_state_pages_through_the_client(wired: Wired):
    arn, token = wired.running()
    token = wired.checkpoint(arn, token, [step(f"s{i}") for i in range(5)])["CheckpointToken"]
    ids, marker = [], None
    while True:
        kwargs = {"MaxItems": 2} if marker is None else {"MaxItems": 2, "Marker": marker}
        page = wired.client.get_durable_execution_state(
            DurableExecutionArn=arn, CheckpointToken=token, **kwargs
        )
        ids += [op["Id"] for op in page["Operations"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert ids == [arn.rsplit("/", 1)[-1], "s0", "s1", "s2", "s3", "s4"]


def test_state_max_items_above_the_model_maximum_is_rejected(wired: Wired):
    # botocore enforces min but not max client-side (docs/service-semantics.md#model-limits); the
    # service must.
    arn, token = wired.running()
    with pytest.raises(ClientError) as caught:
        wired.client.get_durable_execution_state(
            DurableExecutionArn=arn, CheckpointToken=token, MaxItems=1001
        )
    assert error_of(caught.value)[0] == "InvalidParameterValueException"


def test_state_with_a_bad_marker_is_rejected(wired: Wired):
    arn, token = wired.running()
    with pytest.raises(ClientError) as caught:
        wired.client.get_durable_execution_state(
            DurableExecutionArn=arn, CheckpointToken=token, Marker="garbage!"
        )
    code, message, _ = error_of(caught.value)
    assert code == "InvalidParameterValueException"
    assert "Marker" in message


# ---------------------------------------------------------------------- operator APIs


def test_get_durable_execution_shape(wired: Wired):
    arn = wired.start(payload='{"n": 2}', execution_name="named", execution_timeout_seconds=120)
    answer = without_metadata(wired.client.get_durable_execution(DurableExecutionArn=arn))
    assert answer == {
        "DurableExecutionArn": arn,
        "DurableExecutionName": "named",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST",
        "InputPayload": '{"n": 2}',
        "StartTimestamp": at(T0),
        "Status": "RUNNING",
        "Version": "$LATEST",
        "ExecutionDataIncluded": True,
        "DurableConfig": {"RetentionPeriodInDays": 14, "ExecutionTimeout": 120},
        "ExpectedExecutionTimeoutTimestamp": at(T0 + 120_000),
    }


def test_get_durable_execution_after_success(wired: Wired):
    arn, _ = wired.running()
    wired.advance(ms=2_500)
    wired.service.end_invocation(arn, {"Status": "SUCCEEDED", "Result": '{"ok": 1}'})
    answer = wired.client.get_durable_execution(DurableExecutionArn=arn)
    assert answer["Status"] == "SUCCEEDED"
    assert answer["Result"] == '{"ok": 1}'
    assert answer["EndTimestamp"] == at(T0 + 2_500)
    assert "ExpectedExecutionTimeoutTimestamp" not in answer
    lean = wired.client.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=False)
    assert "Result" not in lean
    assert "InputPayload" not in lean
    assert lean["ExecutionDataIncluded"] is False


def test_unknown_arn_is_resource_not_found(wired: Wired):
    arn = wired.start()
    unknown = arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    for call in (
        lambda: wired.client.get_durable_execution(DurableExecutionArn=unknown),
        lambda: wired.client.get_durable_execution_history(DurableExecutionArn=unknown),
        lambda: wired.client.stop_durable_execution(DurableExecutionArn=unknown),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught.value)
        assert (code, status) == ("ResourceNotFoundException", 404)
        assert unknown in message


def test_history_through_the_client(wired: Wired):
    arn, token = wired.running()
    wired.checkpoint(arn, token, [step("s", Name="n"), step("s", "SUCCEED", Payload='"r"')])
    wired.advance(ms=10)
    wired.service.end_invocation(arn, {"Status": "SUCCEEDED", "Result": '"r"'})
    events = wired.history(arn)
    assert [e["EventType"] for e in events] == [
        "ExecutionStarted",
        "StepStarted",
        "StepSucceeded",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]
    assert [e["EventId"] for e in events] == [1, 2, 3, 4, 5]
    assert events[2] == {
        "EventType": "StepSucceeded",
        "SubType": "Step",
        "EventId": 3,
        "Id": "s",
        "Name": "n",
        "EventTimestamp": at(T0),
        "StepSucceededDetails": {
            "Result": {"Payload": '"r"', "Truncated": False},
            "RetryDetails": {"CurrentAttempt": 1},
        },
    }
    completed = events[3]["InvocationCompletedDetails"]
    assert completed["StartTimestamp"] == at(T0)
    assert completed["EndTimestamp"] == at(T0 + 10)
    assert completed["RequestId"]

    page = wired.client.get_durable_execution_history(DurableExecutionArn=arn, MaxItems=2)
    assert [e["EventId"] for e in page["Events"]] == [1, 2]
    rest = wired.client.get_durable_execution_history(
        DurableExecutionArn=arn, Marker=page["NextMarker"]
    )
    assert [e["EventId"] for e in rest["Events"]] == [3, 4, 5]
    newest = wired.client.get_durable_execution_history(DurableExecutionArn=arn, ReverseOrder=True)
    assert [e["EventId"] for e in newest["Events"]] == [5, 4, 3, 2, 1]
    lean = wired.client.get_durable_execution_history(
        DurableExecutionArn=arn, IncludeExecutionData=False
    )
    assert lean["Events"][2]["StepSucceededDetails"]["Result"] == {"Truncated": False}


def test_list_executions_through_the_client(wired: Wired):
    first = wired.start(execution_name="one")
    wired.advance(seconds=1)
    second, _ = wired.running(execution_name="two")
    wired.service.end_invocation(second, {"Status": "FAILED", "Error": {"ErrorType": "E"}})
    wired.advance(seconds=1)
    third = wired.start(execution_name="three")

    def listed(**kwargs):
        answer = wired.client.list_durable_executions_by_function(FunctionName="orders", **kwargs)
        return [e["DurableExecutionArn"] for e in answer["DurableExecutions"]]

    assert listed() == [third, second, first]
    # Statuses is a query list sent as repeated keys (docs/service-semantics.md#model-limits).
    assert listed(Statuses=["RUNNING", "FAILED"]) == [third, second, first]
    assert listed(Statuses=["FAILED"]) == [second]
    assert listed(StartedAfter=at(T0)) == [third, second]
    assert listed(StartedBefore=at(T0 + 1_500)) == [second, first]
    assert listed(ReverseOrder=True, MaxItems=2) == [first, second]
    full_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders"
    answer = wired.client.list_durable_executions_by_function(FunctionName=full_arn)
    summary = answer["DurableExecutions"][1]
    assert summary == {
        "DurableExecutionArn": second,
        "DurableExecutionName": "two",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST",
        "Status": "FAILED",
        "StartTimestamp": at(T0 + 1_000),
        "EndTimestamp": at(T0 + 1_000),
    }


def test_stop_through_the_client(wired: Wired):
    arn, token = wired.running()
    wired.advance(ms=42)
    answer = wired.client.stop_durable_execution(
        DurableExecutionArn=arn, Error={"ErrorType": "Halt", "ErrorMessage": "enough"}
    )
    assert answer["StopTimestamp"] == at(T0 + 42)
    assert wired.client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "STOPPED"
    with pytest.raises(ClientError) as caught:
        wired.checkpoint(arn, token, [])
    code, message, _ = error_of(caught.value)
    assert code == "InvalidParameterValueException"
    assert message.startswith("Invalid checkpoint token")


def test_callbacks_through_the_client(wired: Wired):
    arn, token = wired.running()
    answer = wired.checkpoint(arn, token, [callback("a"), callback("b"), callback("c")])
    ids = {
        op["Id"]: op["CallbackDetails"]["CallbackId"]
        for op in answer["NewExecutionState"]["Operations"]
    }
    # The ids use + / = (each is percent-encoded in the path by botocore,
    # docs/service-semantics.md#client).
    wired.client.send_durable_execution_callback_success(CallbackId=ids["a"], Result=b'"yes"')
    wired.client.send_durable_execution_callback_failure(
        CallbackId=ids["b"], Error={"ErrorType": "Denied", "ErrorMessage": "no"}
    )
    wired.client.send_durable_execution_callback_heartbeat(CallbackId=ids["c"])
    operations = wired.service.execution(arn).operations
    assert (operations["a"].status.value, operations["a"].result) == ("SUCCEEDED", '"yes"')
    assert operations["b"].status.value == "FAILED"
    assert operations["b"].error == {"ErrorType": "Denied", "ErrorMessage": "no"}
    assert operations["c"].status.value == "STARTED"


def test_callback_ids_with_reserved_characters_survive_the_path(wired: Wired, monkeypatch):
    # botocore escapes + / = in the CallbackId label (%2B %2F %3D); the router must unquote it.
    tricky = "a+b/c=="
    arn, token = wired.running()
    minting = wired.service._minting
    monkeypatch.setattr(wired.service, "_minting", replace(minting, callback_id=lambda: tricky))
    answer = wired.checkpoint(arn, token, [callback("cb")])
    assert answer["NewExecutionState"]["Operations"][0]["CallbackDetails"]["CallbackId"] == tricky
    wired.client.send_durable_execution_callback_success(CallbackId=tricky, Result=b"1")
    assert wired.service.execution(arn).operations["cb"].result == "1"


def test_unknown_callback_is_resource_not_found(wired: Wired):
    with pytest.raises(ClientError) as caught:
        wired.client.send_durable_execution_callback_success(CallbackId="bm8=", Result=b"x")
    code, _, status = error_of(caught.value)
    assert (code, status) == ("ResourceNotFoundException", 404)
