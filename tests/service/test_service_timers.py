"""Timers the service owns (docs/service-semantics.md#timers): a WAIT succeeds
at its scheduled end, a STEP retry goes PENDING -> READY at NextAttemptTimestamp, a callback times
out, and the execution times out at its ExecutionTimeout. Time is only the injected clock."""

import pytest
from service_helpers import (
    T0,
    Env,
    Running,
    assert_token_rejected,
    at,
    callback_start,
    rejected,
    step_retry,
    step_start,
    update,
    wait_start,
)

from pytest_durable.service import InvalidParameterValueException, ResourceConflictException


def _pending(env: Env, arn: str) -> None:
    env.service.end_invocation(arn, {"Status": "PENDING"})


def test_wait_succeeds_exactly_at_its_scheduled_end(run: Running):
    run.cp(wait_start("w", seconds=30, Name="nap"))
    _pending(run.env, run.arn)
    run.env.advance(ms=29_999)
    assert run.env.service.fire_due_timers(run.arn) == []
    assert run.execution.operations["w"].status.value == "STARTED"
    assert not run.env.service.woke_since_last_invocation(run.arn)

    run.env.advance(ms=1)
    assert run.env.service.fire_due_timers(run.arn) == ["w"]
    wait = run.execution.operations["w"].to_wire()
    assert wait["Status"] == "SUCCEEDED"
    assert wait["EndTimestamp"] == at(T0 + 30_000)
    assert run.env.service.woke_since_last_invocation(run.arn)
    event = run.env.history(run.arn)[-1]
    assert event["EventType"] == "WaitSucceeded"
    assert event["Id"] == "w"
    assert event["Name"] == "nap"
    assert event["SubType"] == "Wait"
    assert event["EventTimestamp"] == at(T0 + 30_000)
    assert event["WaitSucceededDetails"] == {"Duration": 30}


def test_firing_is_idempotent(run: Running):
    run.cp(wait_start("w", seconds=1))
    run.env.advance(seconds=5)
    assert run.env.service.fire_due_timers(run.arn) == ["w"]
    assert run.env.service.fire_due_timers(run.arn) == []
    assert [e["EventType"] for e in run.env.history(run.arn)].count("WaitSucceeded") == 1


def test_due_timers_fire_in_due_order(run: Running):
    run.cp(wait_start("late", seconds=20), wait_start("early", seconds=10))
    run.env.advance(seconds=60)
    assert run.env.service.fire_due_timers(run.arn) == ["early", "late"]
    succeeded = [e for e in run.env.history(run.arn) if e["EventType"] == "WaitSucceeded"]
    assert [e["Id"] for e in succeeded] == ["early", "late"]


def test_step_retry_is_pending_then_ready_at_next_attempt_timestamp(run: Running):
    run.cp(step_start("s"), step_retry("s", delay=7))
    step = run.execution.operations["s"]
    assert step.status.value == "PENDING"
    assert step.to_wire()["StepDetails"]["NextAttemptTimestamp"] == at(T0 + 7_000)
    assert run.env.service.next_timer_ms(run.arn) == T0 + 7_000
    _pending(run.env, run.arn)

    run.env.advance(ms=6_999)
    assert run.env.service.fire_due_timers(run.arn) == []
    run.env.advance(ms=1)
    assert run.env.service.fire_due_timers(run.arn) == ["s"]
    assert step.status.value == "READY"
    assert "NextAttemptTimestamp" not in step.to_wire()["StepDetails"]
    assert run.env.service.woke_since_last_invocation(run.arn)
    # READY is not an event of its own (step/1-12.yaml: StepFailed then StepStarted).
    assert run.env.history(run.arn)[-1]["EventType"] == "InvocationCompleted"


def test_execution_times_out_at_its_execution_timeout(env: Env):
    arn = env.start(execution_timeout_seconds=60)
    token = env.invoke(arn)
    env.checkpoint(arn, token, [wait_start("w", seconds=3600)])
    _pending(env, arn)
    assert env.service.next_timer_ms(arn) == T0 + 60_000

    env.advance(seconds=59)
    env.service.fire_due_timers(arn)
    assert env.describe(arn)["Status"] == "RUNNING"

    env.advance(seconds=3600)  # far past both the deadline and the wait
    env.service.fire_due_timers(arn)
    described = env.describe(arn)
    assert described["Status"] == "TIMED_OUT"
    assert described["EndTimestamp"] == at(T0 + 60_000)  # the deadline, not "now"
    assert "ExpectedExecutionTimeoutTimestamp" not in described
    root = env.service.execution(arn).operations[arn.rsplit("/", 1)[-1]]
    assert root.status.value == "TIMED_OUT"
    # The wait never completed: the execution ended first.
    assert env.service.execution(arn).operations["w"].status.value == "STARTED"
    events = env.history(arn)
    assert events[-1]["EventType"] == "ExecutionTimedOut"
    assert events[-1]["EventTimestamp"] == at(T0 + 60_000)
    assert "WaitSucceeded" not in [e["EventType"] for e in events]
    with pytest.raises(ResourceConflictException):
        env.service.begin_invocation(arn)


def test_a_checkpoint_after_the_execution_deadline_is_refused_and_changes_nothing(env: Env):
    # The deadline passes while the invocation runs. The execution is TIMED_OUT whatever the
    # handler sends next: its checkpoint must be refused as a dead token and must not be
    # applied to the finished execution (no events after ExecutionTimedOut, no new token).
    arn = env.start(execution_timeout_seconds=60)
    token = env.invoke(arn)
    token = env.checkpoint(arn, token, [step_start("before")])["CheckpointToken"]
    env.advance(seconds=61)

    error = rejected(lambda: env.checkpoint(arn, token, [step_start("after")]))

    assert_token_rejected(error)
    assert env.describe(arn)["Status"] == "TIMED_OUT"
    assert "after" not in env.service.execution(arn).operations
    assert env.history(arn)[-1]["EventType"] == "ExecutionTimedOut"
    assert env.service.execution(arn).checkpoint_token is None


def test_state_reads_after_the_execution_deadline_are_refused(env: Env):
    arn = env.start(execution_timeout_seconds=60)
    token = env.invoke(arn)
    env.advance(seconds=60)
    error = rejected(
        lambda: env.service.get_durable_execution_state(
            DurableExecutionArn=arn, CheckpointToken=token
        )
    )
    assert_token_rejected(error)
    assert env.describe(arn)["Status"] == "TIMED_OUT"


def test_the_invocation_running_at_the_timeout_still_completes_in_the_history(env: Env):
    arn = env.start(execution_timeout_seconds=60)
    env.invoke(arn)
    env.advance(seconds=61)
    env.service.fire_due_timers(arn)
    end = env.service.end_invocation(arn, {"Status": "SUCCEEDED", "Result": '"late"'})
    assert end.execution_status.value == "TIMED_OUT"
    assert env.describe(arn)["Status"] == "TIMED_OUT"
    assert "Result" not in env.describe(arn)


@pytest.mark.parametrize("seconds", [0, 31_622_401])
def test_execution_timeout_outside_the_model_range_is_refused(env: Env, seconds: int):
    with pytest.raises(InvalidParameterValueException):
        env.start(execution_timeout_seconds=seconds)


def test_callback_times_out_with_callback_timeout(run: Running):
    run.cp(callback_start("cb", timeout=5, Name="approve"))
    run.env.advance(seconds=5)
    assert run.env.service.fire_due_timers(run.arn) == ["cb"]
    op = run.execution.operations["cb"].to_wire()
    assert op["Status"] == "TIMED_OUT"
    assert op["CallbackDetails"]["Error"]["ErrorType"] == "Callback.Timeout"
    event = run.env.history(run.arn)[-1]
    assert event["EventType"] == "CallbackTimedOut"
    assert event["CallbackTimedOutDetails"]["Error"]["Payload"]["ErrorType"] == "Callback.Timeout"


def test_callback_heartbeat_expiry_and_heartbeats_push_it_back(run: Running):
    ops = run.ops(run.cp(callback_start("cb", timeout=100, heartbeat=10)))
    callback_id = ops["cb"]["CallbackDetails"]["CallbackId"]
    run.env.advance(seconds=8)
    run.env.service.send_durable_execution_callback_heartbeat(CallbackId=callback_id)
    run.env.advance(seconds=8)  # 16 s after start, 8 s after the heartbeat
    assert run.env.service.fire_due_timers(run.arn) == []
    run.env.advance(seconds=2)
    assert run.env.service.fire_due_timers(run.arn) == ["cb"]
    error = run.execution.operations["cb"].error
    assert error is not None
    assert error["ErrorType"] == "Callback.Heartbeat"
    assert run.execution.operations["cb"].end_ms == T0 + 18_000


def test_a_cancelled_wait_never_fires(run: Running):
    run.cp(wait_start("w", seconds=5))
    run.env.advance(seconds=1)
    op = run.ops(run.cp(update("WAIT", "CANCEL", "w")))["w"]
    assert op["Status"] == "CANCELLED"
    assert op["EndTimestamp"] == at(T0 + 1_000)
    run.env.advance(seconds=10)
    assert run.env.service.fire_due_timers(run.arn) == []
    assert run.cp()["NewExecutionState"]["Operations"] == []
    events = [e["EventType"] for e in run.env.history(run.arn)]
    assert events[-1] == "WaitCancelled"
    assert "WaitSucceeded" not in events


def test_a_wait_whose_timer_fired_cannot_be_cancelled_in_the_next_batch(run: Running):
    # Regression (found by fuzzing): the batch was validated before due timers fired, so a
    # CANCEL of a WAIT already due passed, and the history got WaitSucceeded then WaitCancelled.
    run.cp(wait_start("w", seconds=5))
    run.env.advance(seconds=10)
    before = run.env.snapshot(run.arn)
    error = rejected(lambda: run.cp(update("WAIT", "CANCEL", "w")))
    assert "only a STARTED WAIT can be cancelled; it is SUCCEEDED" in error.message
    assert run.env.snapshot(run.arn) == before  # rejected: nothing changed, not even the timer
    assert run.ops(run.cp())["w"]["Status"] == "SUCCEEDED"
    events = [e["EventType"] for e in run.env.history(run.arn) if e.get("Id") == "w"]
    assert events == ["WaitStarted", "WaitSucceeded"]


def test_a_step_whose_retry_is_due_can_be_started_in_the_same_batch(run: Running):
    # The other side of validating against the state after due timers: a retry that came due
    # is READY for the batch, even though no timer has fired yet.
    run.cp(step_start("s"), step_retry("s", delay=5))
    run.env.advance(seconds=5)
    response = run.cp(step_start("s"))
    assert run.ops(response)["s"]["Status"] == "STARTED"
