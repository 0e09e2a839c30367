"""Faults on demand, through the released SDK: what a handler survives when the service
throttles, fails, loses an answer or is slow, and when its Lambda sandbox dies."""

from __future__ import annotations

import threading
import time

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig, StepSemantics
from botocore.exceptions import ClientError

from pytest_durable import DurableEnvironment
from pytest_durable.cassette.standin import LambdaStandIn
from pytest_durable.errors import FakeServiceBugError
from pytest_durable.service import DurableService
from pytest_durable.transport import Router
from pytest_durable.transport.http import HttpEndpoint, make_http_client

CHECKPOINT = "CheckpointDurableExecution"
BODIES: list[str] = []


def _body(name: str, value: int):
    def run(_) -> int:
        BODIES.append(name)
        return value

    return run


@durable_execution
def three_steps(event, context: DurableContext) -> int:
    a = context.step(_body("a", 1), name="a")
    b = context.step(_body("b", 2), name="b")
    c = context.step(_body("c", 3), name="c")
    return a + b + c


@pytest.fixture(autouse=True)
def _clear_bodies():
    BODIES.clear()


def test_survives_two_throttles_and_a_lost_checkpoint_answer_with_no_step_rerun(durable):
    durable.faults.throttle(CHECKPOINT, times=2)
    durable.faults.lose_answer(CHECKPOINT, operation="b")
    result = durable.run(three_steps, {})
    assert result.status == "SUCCEEDED"
    assert result.output == 6
    assert BODIES == ["a", "b", "c"]  # no step body ran twice
    assert len(result.invocations) == 1  # botocore's retries absorbed every fault
    kinds = [(f.kind, f.call) for f in result.faults]
    assert kinds == [("throttle", 1), ("throttle", 2), ("lose_answer", kinds[2][1])]
    first, second, lost = result.faults
    assert first.code == second.code == "TooManyRequestsException"
    # The same request, sent again after each throttle (botocore's standard retries).
    assert (first.reaction, second.reaction) == (
        "retried by botocore (2x)",
        "retried by botocore (1x)",
    )
    assert lost.retries == 1
    assert lost.reaction.endswith("answered from the idempotency cache")
    # The lost answer's batch was applied once: one START/SUCCEED pair for "b".
    assert [u.action for u in result.updates(name="b")] == ["START", "SUCCEED"]
    assert len([e for e in result.history if e.get("Name") == "b"]) == 2


def test_a_service_error_that_outlasts_botocore_crashes_the_invocation_and_lambda_reinvokes(
    durable,
):
    durable.faults.fail(CHECKPOINT, "ServiceException", times=3)
    result = durable.run(three_steps, {})
    assert result.status == "SUCCEEDED"
    assert result.invocations[0].status == "FAILED"  # the SDK re-raised: Lambda retries
    assert [f.reaction for f in result.faults] == [
        "retried by botocore (2x), then invocation crashed; Lambda re-invoked",
        "retried by botocore (1x), then invocation crashed; Lambda re-invoked",
        "invocation crashed; Lambda re-invoked",
    ]


def test_a_kms_error_fails_the_execution(durable):
    durable.faults.fail(CHECKPOINT, "KMSDisabledException", times=None, operation="b")
    result = durable.run(three_steps, {})
    assert result.status == "FAILED"
    assert "KMSDisabledException" in str(result.error)
    assert result.faults[-1].reaction.endswith("the SDK failed the execution")
    assert BODIES == ["a", "b"]


def test_virtual_latency_moves_the_handlers_clock(durable):
    durable.faults.delay(CHECKPOINT, 3600, on_call=2)
    result = durable.run(three_steps, {})
    assert result.status == "SUCCEEDED"
    assert result.duration.total_seconds() >= 3600
    assert result.faults[0].detail == "answered 3600 s late (virtual time)"


@durable_execution
def five_steps(event, context: DurableContext) -> list[int]:
    return [context.step(_body(f"s{i}", i), name=f"s{i}") for i in range(5)]


def test_a_sandbox_death_after_checkpoint_3_reinvokes_and_finishes(durable):
    durable.faults.kill_sandbox(after_checkpoint=3)
    result = durable.run(five_steps, {})
    assert result.status == "SUCCEEDED"
    assert result.output == [0, 1, 2, 3, 4]
    assert [i.status for i in result.invocations] == ["FAILED", "COMPLETED"]
    assert result.invocations[0].error.type == "Runtime.ExitError"
    (death,) = result.faults
    assert (death.kind, death.call, death.invocation) == ("kill_sandbox", 3, 0)
    assert death.reaction == "sandbox died; Lambda re-invoked"
    # Checkpoints 1-3 came from the dead invocation, the rest from its successor, which
    # replayed s0-s2 from the service and ran s3 and s4: every body ran exactly once.
    assert [c.invocation for c in result.checkpoints] == [0, 0, 0, 1, 1]
    assert BODIES == ["s0", "s1", "s2", "s3", "s4"]


def test_a_sandbox_death_before_a_checkpoint_loses_it_and_the_replay_redoes_it(durable):
    durable.faults.kill_sandbox(before_checkpoint=2)
    result = durable.run(five_steps, {})
    assert result.status == "SUCCEEDED"
    assert result.invocations[0].status == "FAILED"
    # Nothing of the dead invocation's second checkpoint reached the service: s1 ran in the
    # dead sandbox, and again in the next invocation (at least once, as Lambda promises).
    assert [c.invocation for c in result.checkpoints] == [0, 1, 1, 1, 1]
    assert BODIES == ["s0", "s1", "s1", "s2", "s3", "s4"]


@durable_execution
def charge_once(event, context: DurableContext) -> str:
    context.step(_body("reserve", 1), name="reserve")
    context.wait(Duration.from_hours(1), name="cool-off")
    context.step(
        _body("charge", 2),
        name="charge",
        config=StepConfig(step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY),
    )
    return "done"


def test_a_sandbox_death_at_a_named_step(durable):
    durable.faults.kill_sandbox(at_step="charge")
    result = durable.run(charge_once, {})
    assert result.status == "SUCCEEDED"
    (death,) = result.faults
    assert death.reaction == "sandbox died; Lambda re-invoked"
    # Killed before the charge's START reached the service: its body had not run.
    assert BODIES.count("charge") == 1


def test_fault_rules_are_checked_when_declared(durable):
    with pytest.raises(ValueError, match="declares no 'NoSuchError'"):
        durable.faults.fail(CHECKPOINT, "NoSuchError")
    with pytest.raises(ValueError, match="not a durable-execution API"):
        durable.faults.throttle("Checkpoint")
    with pytest.raises(ValueError, match="needs a point"):
        durable.faults.kill_sandbox()
    with pytest.raises(TypeError, match="unknown keyword"):
        durable.faults.throttle(CHECKPOINT, time=2)


def test_kill_sandbox_needs_the_runner():
    with pytest.raises(ValueError, match="needs the runner"):
        Router(DurableService(lambda: 0)).faults.kill_sandbox(after_checkpoint=1)


def test_faults_are_per_environment():
    with DurableEnvironment() as first:
        first.faults.throttle(CHECKPOINT, times=None)
    with DurableEnvironment() as second:
        assert second.run(three_steps, {}).faults == ()


def test_nothing_of_a_dead_sandbox_outlives_the_run(durable):
    durable.faults.kill_sandbox(every=1, times=None)
    result = durable.run(five_steps, {})
    assert result.status == "SUCCEEDED"
    assert len(result.faults) == 5
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        alive = [
            t.name for t in threading.enumerate() if t.name.startswith(("lambda-", "dex-handler"))
        ]
        if not alive:
            break
        time.sleep(0.02)
    assert alive == []


def test_invoke_faults_on_the_lambda_stand_in(durable):
    # serve --function and cloud mode's stand-in answer Lambda's Invoke: faults reach it too,
    # and the executions it starts checkpoint through the same plan.
    standin = LambdaStandIn(durable)
    standin.register("orders", three_steps)
    endpoint = HttpEndpoint(standin).start()
    client = make_http_client(endpoint.url)
    durable.faults.fail("Invoke", "ServiceException", times=3)
    durable.faults.throttle(CHECKPOINT, times=1)
    try:
        with pytest.raises(ClientError) as caught:
            client.invoke(FunctionName="orders", InvocationType="Event", Payload=b"{}")
        assert caught.value.response["Error"]["Code"] == "ServiceException"
        client.invoke(FunctionName="orders", InvocationType="Event", Payload=b"{}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            e.status.is_terminal for e in durable.service.executions
        ):
            time.sleep(0.02)
    finally:
        client.close()
        endpoint.stop()
        standin.stop()
    kinds = [(f.kind, f.api) for f in durable.faults.injected]
    assert kinds == [("fail", "Invoke")] * 3 + [("throttle", CHECKPOINT)]


def test_a_bug_in_the_fake_fails_the_run_as_the_fakes_with_its_traceback(durable, monkeypatch):
    # Regression: the bug was answered as a 500; botocore retried it three times and the SDK
    # took it for a transient service failure, crashing invocation after invocation.
    calls = []

    def broken(**_):
        calls.append(1)
        raise ZeroDivisionError("division by zero in the fake")

    monkeypatch.setattr(durable.service, "checkpoint_durable_execution", broken)
    with pytest.raises(FakeServiceBugError) as caught:
        durable.run(three_steps, {})
    assert "bug in pytest-durable, not in your handler" in str(caught.value)
    assert "ZeroDivisionError: division by zero in the fake" in str(caught.value)
    assert "in broken" in str(caught.value)  # the traceback reaches the failing frame
    assert len(calls) == 1  # not retried
