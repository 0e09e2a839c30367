"""Stop, pause, resume, delete and list durable executions through a real boto3 client, with
handlers run by the real SDK. Semantics from the botocore model's documentation of each API."""

from __future__ import annotations

import datetime

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from botocore.exceptions import ClientError

from pytest_durable import ExecutionBlockedError


@durable_execution
def waits_an_hour(event, context: DurableContext):
    context.step(lambda _: "before", name="before")
    context.wait(Duration.from_hours(1), name="hour")
    return context.step(lambda _: "after", name="after")


@durable_execution
def needs_approval(event, context: DurableContext):
    return context.create_callback(name="approval").result()


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_stop_ends_a_waiting_execution(durable):
    driver = durable.start(needs_approval).run_until_blocked()
    answer = durable.client.stop_durable_execution(
        DurableExecutionArn=driver.arn,
        Error={"ErrorType": "Cancelled", "ErrorMessage": "order withdrawn"},
    )
    assert abs(answer["StopTimestamp"] - durable.clock.now()) < datetime.timedelta(seconds=1)
    assert driver.done
    result = driver.result()
    assert result.status == "STOPPED"
    assert result.history[-1]["EventType"] == "ExecutionStopped"
    assert result.history[-1]["ExecutionStoppedDetails"]["Error"]["Payload"]["ErrorType"] == (
        "Cancelled"
    )
    with pytest.raises(ClientError) as caught:
        durable.client.stop_durable_execution(DurableExecutionArn=driver.arn)
    assert _code(caught) == "InvalidParameterValueException"
    # The stopped execution's callback is closed to answers.
    with pytest.raises(ClientError) as caught:
        driver.callback("approval").succeed("late")
    assert _code(caught) == "CallbackTimeoutException"


def test_pause_between_invocations_then_resume(durable):
    driver = durable.start(waits_an_hour)
    driver.invoke()  # suspends on the one-hour wait
    answer = durable.client.pause_durable_execution(
        DurableExecutionArn=driver.arn, Reason="maintenance"
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    described = durable.client.get_durable_execution(DurableExecutionArn=driver.arn)
    assert described["Status"] == "PAUSED"
    assert described["PauseDetails"]["Reason"] == "maintenance"
    assert described["PauseDetails"]["ExecutionTimeoutPaused"] is True

    # While paused, the wait still completes, but nothing invokes the function.
    driver.advance(datetime.timedelta(hours=2))
    assert driver.result().operation("hour").status == "SUCCEEDED"
    assert len(driver.result().invocations) == 1
    with pytest.raises(ExecutionBlockedError, match="resume"):
        driver.run()

    resumed = durable.client.resume_durable_execution(DurableExecutionArn=driver.arn, Reason="done")
    assert resumed["ResponseMetadata"]["HTTPStatusCode"] == 202
    result = driver.run()
    assert result.status == "SUCCEEDED"
    assert result.output == "after"
    types = [e["EventType"] for e in result.history]
    assert types.index("ExecutionPaused") < types.index("WaitSucceeded")
    assert types.index("ExecutionResumed") < types.index("ExecutionSucceeded")
    paused = next(e for e in result.history if e["EventType"] == "ExecutionPaused")
    assert paused["ExecutionPausedDetails"]["Reason"]["Payload"] == "maintenance"


def test_pause_during_an_invocation_takes_effect_at_its_next_checkpoint(durable):
    @durable_execution
    def pauses_itself(event, context: DurableContext):
        def request_pause(_):
            durable.client.pause_durable_execution(DurableExecutionArn=arn[0])
            return "paused"

        context.step(request_pause, name="request-pause")
        return context.step(lambda _: "finished", name="finish")

    arn: list[str] = []
    driver = durable.start(pauses_itself)
    arn.append(driver.arn)
    driver.run_until_blocked()  # the step's checkpoint is answered without a token: PENDING
    assert durable.service.execution(driver.arn).status.value == "PAUSED"
    assert [i.status for i in driver.result().invocations] == ["COMPLETED"]

    durable.client.resume_durable_execution(DurableExecutionArn=driver.arn)
    result = driver.run()  # the interrupted invocation is re-invoked at once
    assert result.output == "finished"
    assert len(result.invocations) == 2


@pytest.mark.durable(execution_timeout=3600)
def test_a_paused_execution_timeout_is_extended_by_the_pause(durable):
    driver = durable.start(waits_an_hour)
    driver.invoke()
    durable.client.pause_durable_execution(DurableExecutionArn=driver.arn)
    driver.advance(datetime.timedelta(hours=3))
    durable.client.resume_durable_execution(DurableExecutionArn=driver.arn)
    assert driver.run().status == "SUCCEEDED"


@pytest.mark.durable(execution_timeout=3600)
def test_an_unpaused_execution_timeout_keeps_running_while_paused(durable):
    driver = durable.start(waits_an_hour)
    driver.invoke()
    durable.client.pause_durable_execution(
        DurableExecutionArn=driver.arn, ExecutionTimeoutPaused=False
    )
    driver.advance(datetime.timedelta(hours=3))
    assert driver.result().status == "TIMED_OUT"


def test_pause_and_resume_refuse_the_wrong_states(durable):
    driver = durable.start(waits_an_hour)
    with pytest.raises(ClientError) as caught:
        durable.client.resume_durable_execution(DurableExecutionArn=driver.arn)
    assert _code(caught) == "ResourceConflictException"
    driver.run()
    with pytest.raises(ClientError) as caught:
        durable.client.pause_durable_execution(DurableExecutionArn=driver.arn)
    assert _code(caught) == "ResourceConflictException"


def test_a_repeated_pause_with_the_same_client_token_succeeds_once(durable):
    driver = durable.start(waits_an_hour)
    driver.invoke()
    for _ in range(2):
        durable.client.pause_durable_execution(DurableExecutionArn=driver.arn, ClientToken="t-1")
    paused = [e for e in driver.result().history if e["EventType"] == "ExecutionPaused"]
    assert len(paused) == 1
    with pytest.raises(ClientError) as caught:
        durable.client.pause_durable_execution(DurableExecutionArn=driver.arn, ClientToken="t-2")
    assert _code(caught) == "ResourceConflictException"


def test_delete_only_a_finished_execution(durable):
    driver = durable.start(waits_an_hour)
    with pytest.raises(ClientError) as caught:
        durable.client.delete_durable_execution(DurableExecutionArn=driver.arn)
    assert _code(caught) == "ResourceConflictException"
    driver.run()
    answer = durable.client.delete_durable_execution(DurableExecutionArn=driver.arn)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert "DeletionRequestTimestamp" in answer
    with pytest.raises(ClientError) as caught:
        durable.client.get_durable_execution(DurableExecutionArn=driver.arn)
    assert _code(caught) == "ResourceNotFoundException"


def test_list_executions_by_function_with_filters_and_paging(durable):
    finished = [durable.run(waits_an_hour, execution_name=f"done-{i}") for i in range(3)]
    durable.clock.advance(60)
    running = durable.start(needs_approval, function_name="waits_an_hour", execution_name="open")
    running.run_until_blocked()
    durable.run(waits_an_hour, function_name="other")

    everything = durable.client.list_durable_executions_by_function(FunctionName="waits_an_hour")
    names = [e["DurableExecutionName"] for e in everything["DurableExecutions"]]
    assert names == ["open", "done-2", "done-1", "done-0"]  # newest first

    oldest_first = durable.client.list_durable_executions_by_function(
        FunctionName="waits_an_hour", ReverseOrder=True
    )
    assert oldest_first["DurableExecutions"][0]["DurableExecutionName"] == "done-0"

    only_running = durable.client.list_durable_executions_by_function(
        FunctionName="waits_an_hour", Statuses=["RUNNING"]
    )
    assert [e["Status"] for e in only_running["DurableExecutions"]] == ["RUNNING"]

    by_name = durable.client.list_durable_executions_by_function(
        FunctionName="waits_an_hour", DurableExecutionName="done-1"
    )
    assert [e["DurableExecutionArn"] for e in by_name["DurableExecutions"]] == [finished[1].arn]

    seen = []
    marker = None
    while True:
        kwargs = {"Marker": marker} if marker else {}
        page = durable.client.list_durable_executions_by_function(
            FunctionName="waits_an_hour", MaxItems=1, **kwargs
        )
        seen += [e["DurableExecutionName"] for e in page["DurableExecutions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == names

    later = durable.client.list_durable_executions_by_function(
        FunctionName="waits_an_hour", StartedAfter=finished[2].end
    )
    assert [e["DurableExecutionName"] for e in later["DurableExecutions"]] == ["open"]
