"""Every durable-execution API through a plain boto3 client given ``endpoint_url``, over a real
loopback socket: botocore serializes, urllib3 sends, the endpoint answers, botocore parses. The
same router as the in-process transport, so what is checked here is the HTTP leg: paths and
labels as urllib3 sends them, raw and JSON bodies, status codes, error headers."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace

import pytest
from botocore.exceptions import ClientError
from http_helpers import T0, Served, boto3_client, callback, error_of, step, wait

from pytest_durable.transport import DURABLE_OPERATIONS

UTC = dt.UTC


def at(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=ms)


def tricky_callback_ids(served: Served, monkeypatch: pytest.MonkeyPatch, *ids: str) -> None:
    """Make the service mint these CallbackIds, in order (+ / = need escaping in a path)."""
    minted = iter(ids)
    monkeypatch.setattr(
        served.service,
        "_minting",
        replace(served.service._minting, callback_id=lambda: next(minted)),
    )


def test_all_twelve_apis_over_the_socket(served: Served, monkeypatch: pytest.MonkeyPatch):
    seen: list[tuple[str, int, str]] = []

    def record(model, http_response, **_):
        seen.append((model.name, http_response.status_code, http_response.headers["Server"]))

    served.client.meta.events.register("after-call.lambda", record)
    tricky_callback_ids(served, monkeypatch, "a+b/c==", "x/y+z=", "+/+/==")
    arn, ids = _checkpoint_and_read_state(served)
    _answer_callbacks(served, arn, ids)
    _operate(served, arn)

    assert {name for name, _, _ in seen} == set(DURABLE_OPERATIONS)
    assert all(server.startswith("pytest-durable") for _, _, server in seen)  # the real socket
    statuses = {name: status for name, status, _ in seen}
    assert {name for name, status in statuses.items() if status == 202} == {
        "PauseDurableExecution",
        "ResumeDurableExecution",
        "DeleteDurableExecution",
    }


def _checkpoint_and_read_state(served: Served) -> tuple[str, dict[str, str]]:
    """CheckpointDurableExecution (tokens consumed and chained) and GetDurableExecutionState."""
    arn, token = served.running(execution_name="tour")
    answer = served.checkpoint(arn, token, [step("s1", Name="charge")])
    served.advance(ms=5)
    answer = served.checkpoint(
        arn, answer["CheckpointToken"], [step("s1", "SUCCEED", Name="charge", Payload='"ok"')]
    )
    (charged,) = answer["NewExecutionState"]["Operations"]
    assert charged["Status"] == "SUCCEEDED"
    assert charged["StepDetails"]["Result"] == '"ok"'
    assert charged["EndTimestamp"] == at(T0 + 5)
    answer = served.checkpoint(
        arn, answer["CheckpointToken"], [callback("cb1"), callback("cb2"), callback("cb3")]
    )
    token = answer["CheckpointToken"]
    ids = {
        op["Id"]: op["CallbackDetails"]["CallbackId"]
        for op in answer["NewExecutionState"]["Operations"]
    }
    assert ids == {"cb1": "a+b/c==", "cb2": "x/y+z=", "cb3": "+/+/=="}

    # Two pages of state; the token travels in the query string.
    first = served.client.get_durable_execution_state(
        DurableExecutionArn=arn, CheckpointToken=token, MaxItems=3
    )
    rest = served.client.get_durable_execution_state(
        DurableExecutionArn=arn, CheckpointToken=token, Marker=first["NextMarker"]
    )
    assert "NextMarker" not in rest
    listed = [op["Id"] for op in first["Operations"] + rest["Operations"]]
    assert listed[1:] == ["s1", "cb1", "cb2", "cb3"]
    return arn, ids


def _answer_callbacks(served: Served, arn: str, ids: dict[str, str]) -> None:
    """The three callback APIs, each CallbackId percent-encoded in the path by botocore."""
    served.client.send_durable_execution_callback_success(
        CallbackId=ids["cb1"], Result=b'{"approved": true}'
    )
    served.client.send_durable_execution_callback_failure(
        CallbackId=ids["cb2"],
        Error={"ErrorType": "Denied", "ErrorMessage": "no", "StackTrace": ["at x"]},
    )
    served.client.send_durable_execution_callback_heartbeat(CallbackId=ids["cb3"])
    operations = served.service.execution(arn).operations
    assert operations["cb1"].result == '{"approved": true}'  # the raw body, verbatim
    assert operations["cb2"].error == {
        "ErrorType": "Denied",
        "ErrorMessage": "no",
        "StackTrace": ["at x"],
    }
    assert operations["cb3"].status.value == "STARTED"


def _operate(served: Served, arn: str) -> None:
    """The operator APIs: read, list, pause, resume, stop, delete."""
    described = served.client.get_durable_execution(DurableExecutionArn=arn)
    assert (described["Status"], described["DurableExecutionName"]) == ("RUNNING", "tour")
    assert described["StartTimestamp"] == at(T0)
    history = served.client.get_durable_execution_history(
        DurableExecutionArn=arn, MaxItems=2, ReverseOrder=True
    )
    assert len(history["Events"]) == 2
    assert history["NextMarker"]
    by_function = served.client.list_durable_executions_by_function(
        FunctionName="orders", Statuses=["RUNNING", "PAUSED"]
    )
    assert [e["DurableExecutionArn"] for e in by_function["DurableExecutions"]] == [arn]

    paused = served.client.pause_durable_execution(DurableExecutionArn=arn, Reason="look")
    assert paused["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert served.service.execution(arn).status.value == "PAUSING"
    resumed = served.client.resume_durable_execution(DurableExecutionArn=arn)
    assert resumed["ResponseMetadata"]["HTTPStatusCode"] == 202
    served.advance(seconds=1)
    stopped = served.client.stop_durable_execution(
        DurableExecutionArn=arn, Error={"ErrorType": "Halt", "ErrorMessage": "enough"}
    )
    assert stopped["StopTimestamp"] == at(T0 + 1_005)
    deleted = served.client.delete_durable_execution(DurableExecutionArn=arn)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["DeletionRequestTimestamp"] == at(T0 + 1_005)
    assert served.service.executions == []


def test_a_stale_token_is_invalid_parameter_value_with_the_retryable_message(served: Served):
    arn, token = served.running()
    served.checkpoint(arn, token, [])
    with pytest.raises(ClientError) as caught:
        served.checkpoint(arn, token, [step("late")])
    code, message, status = error_of(caught.value)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Invalid checkpoint token")
    assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    assert "late" not in served.service.execution(arn).operations


@pytest.mark.parametrize(
    "call",
    [
        "get_durable_execution",
        "get_durable_execution_history",
        "stop_durable_execution",
        "pause_durable_execution",
        "resume_durable_execution",
        "delete_durable_execution",
    ],
)
def test_an_unknown_arn_is_resource_not_found(served: Served, call: str):
    arn = served.start()
    missing = arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as caught:
        getattr(served.client, call)(DurableExecutionArn=missing)
    code, message, status = error_of(caught.value)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert missing in message


def test_an_unknown_callback_is_resource_not_found(served: Served):
    with pytest.raises(ClientError) as caught:
        served.client.send_durable_execution_callback_heartbeat(CallbackId="bm8+/w==")
    assert error_of(caught.value)[::2] == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize("answer", ["success", "failure", "heartbeat"])
def test_a_closed_callback_is_callback_timeout(
    served: Served, monkeypatch: pytest.MonkeyPatch, answer: str
):
    tricky_callback_ids(served, monkeypatch, "q+r/s==")
    arn, token = served.running()
    served.checkpoint(arn, token, [callback("cb", TimeoutSeconds=60)])
    served.advance(seconds=61)
    served.service.fire_due_timers(arn)  # the callback timed out before any answer
    before = served.snapshot()
    send = {
        "success": lambda: served.client.send_durable_execution_callback_success(
            CallbackId="q+r/s==", Result=b"late"
        ),
        "failure": lambda: served.client.send_durable_execution_callback_failure(
            CallbackId="q+r/s==", Error={"ErrorType": "Late"}
        ),
        "heartbeat": lambda: served.client.send_durable_execution_callback_heartbeat(
            CallbackId="q+r/s=="
        ),
    }[answer]
    with pytest.raises(ClientError) as caught:
        send()
    code, message, status = error_of(caught.value)
    assert (code, status) == ("CallbackTimeoutException", 400)
    assert "TIMED_OUT" in message
    assert served.snapshot() == before


def test_conflicts_are_409(served: Served):
    arn, _ = served.running()
    with pytest.raises(ClientError) as caught:
        served.client.delete_durable_execution(DurableExecutionArn=arn)
    assert error_of(caught.value)[::2] == ("ResourceConflictException", 409)
    with pytest.raises(ClientError) as caught:
        served.client.resume_durable_execution(DurableExecutionArn=arn)
    assert error_of(caught.value)[::2] == ("ResourceConflictException", 409)


def test_callback_result_is_sent_as_the_raw_body(served: Served, monkeypatch: pytest.MonkeyPatch):
    tricky_callback_ids(served, monkeypatch, "/=")
    arn, token = served.running()
    served.checkpoint(arn, token, [callback("cb")])
    served.client.send_durable_execution_callback_success(CallbackId="/=", Result=b"not json \n")
    assert served.service.execution(arn).operations["cb"].result == "not json \n"


def test_list_filters_travel_in_the_query_string(served: Served):
    first = served.start(execution_name="one")
    served.advance(seconds=1)
    second = served.start(execution_name="two")
    served.service.stop_durable_execution(DurableExecutionArn=second)

    def listed(**kwargs):
        answer = served.client.list_durable_executions_by_function(**kwargs)
        return [e["DurableExecutionArn"] for e in answer["DurableExecutions"]]

    assert listed(FunctionName="orders") == [second, first]
    assert listed(FunctionName="orders", Statuses=["STOPPED"]) == [second]
    assert listed(FunctionName="orders", StartedAfter=at(T0)) == [second]
    assert listed(FunctionName="orders", DurableExecutionName="one") == [first]
    assert listed(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:orders") == [
        second,
        first,
    ]
    assert listed(FunctionName="other") == []


def test_a_wait_fires_on_the_service_clock(served: Served):
    arn, token = served.running()
    answer = served.checkpoint(arn, token, [wait("w", seconds=30)])
    (waiting,) = answer["NewExecutionState"]["Operations"]
    assert waiting["WaitDetails"]["ScheduledEndTimestamp"] == at(T0 + 30_000)
    served.advance(seconds=30)
    answer = served.checkpoint(arn, answer["CheckpointToken"], [])
    (done,) = answer["NewExecutionState"]["Operations"]
    assert done["Status"] == "SUCCEEDED"


# ------------------------------------------------------------------ concurrency


def test_concurrent_clients_on_separate_executions(served: Served):
    executions = [served.running(execution_name=f"e{i}") for i in range(6)]
    errors: list[BaseException] = []

    def work(arn: str, token: str) -> None:
        client = boto3_client(served.url)
        try:
            for index in range(10):
                token = client.checkpoint_durable_execution(
                    DurableExecutionArn=arn, CheckpointToken=token, Updates=[step(f"s{index}")]
                )["CheckpointToken"]
                client.get_durable_execution(DurableExecutionArn=arn)
                client.get_durable_execution_history(DurableExecutionArn=arn)
        except BaseException as error:
            errors.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=execution) for execution in executions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for arn, _ in executions:
        operations = served.service.execution(arn).operations
        assert [f"s{i}" for i in range(10)] == [i for i in operations if i.startswith("s")]


def test_concurrent_checkpoints_with_one_token_exactly_one_wins(served: Served):
    arn, token = served.running()
    barrier = threading.Barrier(5)
    outcomes: list[str] = []

    def race(index: int) -> None:
        client = boto3_client(served.url)
        barrier.wait()
        try:
            client.checkpoint_durable_execution(
                DurableExecutionArn=arn, CheckpointToken=token, Updates=[step(f"r{index}")]
            )
            outcomes.append("won")
        except ClientError as error:
            code, message, _ = error_of(error)
            outcomes.append(f"{code}: {message[:24]}")
        finally:
            client.close()

    threads = [threading.Thread(target=race, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["InvalidParameterValueException: Invalid checkpoint token"] * 4 + [
        "won"
    ]
    assert len([i for i in served.service.execution(arn).operations if i.startswith("r")]) == 1
