"""What the service does with an invalid handler output, on wire-shaped dicts.

The real service (aws/aws-durable-execution-sdk-python#670): an unreadable output, a missing or
unknown Status, FAILED with a Result and SUCCEEDED with an Error fail the execution at once with
an InvalidParameterValueException-shaped error; PENDING while nothing is pending is retried, and
the third such invocation in a row fails the execution with "Cannot return PENDING status with
no pending operations." (the message a real history shows, aws-durable-execution-sdk-java#295).
"""

from typing import Any

import pytest
from service_helpers import (
    Env,
    Running,
    callback_start,
    invoke_start,
    step_retry,
    step_start,
    wait_start,
)

from pytest_durable.service.invocation_output import NOTHING_PENDING_MESSAGE

INVALID = "InvalidParameterValueException"


def _events(env: Env, arn: str) -> list[str]:
    return [e["EventType"] for e in env.history(arn)]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ({"statusCode": 200}, "The invocation output has no Status"),
        ({"Status": "DONE"}, "Invalid Status 'DONE'"),
        ({"Status": "FAILED", "Result": '"x"'}, "Status FAILED cannot have a Result"),
        (
            {"Status": "SUCCEEDED", "Error": {"ErrorType": "E", "ErrorMessage": "m"}},
            "Status SUCCEEDED cannot have an Error",
        ),
        ("SUCCEEDED", "not a JSON object"),
        (None, "not a JSON object"),
        ([{"Status": "SUCCEEDED"}], "not a JSON object"),
        ({"Status": "SUCCEEDED", "Result": {"a": 1}}, "Result must be a string"),
        ({"Status": "FAILED", "Error": "boom"}, "Error must be an object"),
    ],
    ids=[
        "no-status",
        "unknown-status",
        "failed-with-result",
        "succeeded-with-error",
        "a-string",
        "none",
        "a-list",
        "result-not-a-string",
        "error-not-an-object",
    ],
)
def test_an_invalid_output_fails_the_execution_at_once(run: Running, output: Any, message: str):
    run.cp(wait_start("w"))  # even with something pending: no retry
    end = run.env.service.end_invocation(run.arn, output)

    assert (end.status, end.execution_status.value) == ("INVALID_OUTPUT", "FAILED")
    assert end.problem is not None and message in end.problem
    described = run.env.describe(run.arn)
    assert described["Status"] == "FAILED"
    assert described["Error"] == {"ErrorType": INVALID, "ErrorMessage": end.problem}
    assert _events(run.env, run.arn)[-2:] == ["InvocationCompleted", "ExecutionFailed"]
    failed = run.env.history(run.arn)[-1]["ExecutionFailedDetails"]["Error"]["Payload"]
    assert failed == {"ErrorType": INVALID, "ErrorMessage": end.problem}
    assert "Error" not in run.env.history(run.arn)[-2]["InvocationCompletedDetails"]


def test_pending_with_nothing_pending_is_retried_then_fails_on_the_third(env: Env):
    arn = env.start()
    for attempt in (1, 2):
        env.invoke(arn)
        end = env.service.end_invocation(arn, {"Status": "PENDING"})
        assert (end.status, end.execution_status.value) == ("NOTHING_PENDING", "RUNNING")
        assert env.service.woke_since_last_invocation(arn), attempt  # the service invokes again
    env.invoke(arn)
    end = env.service.end_invocation(arn, {"Status": "PENDING"})

    assert (end.status, end.execution_status.value) == ("NOTHING_PENDING", "FAILED")
    assert env.describe(arn)["Error"] == {
        "ErrorType": INVALID,
        "ErrorMessage": NOTHING_PENDING_MESSAGE,
    }
    assert _events(env, arn)[1:] == [
        "InvocationCompleted",
        "InvocationCompleted",
        "InvocationCompleted",
        "ExecutionFailed",
    ]


def test_a_retry_that_finds_work_resets_the_count(env: Env):
    arn = env.start()
    for _ in range(2):
        env.invoke(arn)
        env.service.end_invocation(arn, {"Status": "PENDING"})
    running = Running(env, arn)
    running.cp(wait_start("w", seconds=1))
    assert env.service.end_invocation(arn, {"Status": "PENDING"}).status == "PENDING"
    assert not env.service.woke_since_last_invocation(arn)  # now the wait wakes it, not a retry
    env.advance(seconds=1)
    env.service.fire_due_timers(arn)
    for _ in range(2):  # two more idle ones are still tolerated
        env.invoke(arn)
        end = env.service.end_invocation(arn, {"Status": "PENDING"})
        assert end.execution_status.value == "RUNNING"


@pytest.mark.parametrize(
    "pending",
    [
        [wait_start("w")],
        [step_start("s"), step_retry("s", delay=5)],
        [callback_start("c")],
        [invoke_start("i")],
    ],
    ids=["a-wait", "a-retry", "a-callback", "a-chained-invoke"],
)
def test_pending_with_a_timer_or_an_operation_in_flight_is_plain_pending(
    run: Running, pending: list[dict[str, Any]]
):
    run.cp(*pending)
    end = run.env.service.end_invocation(run.arn, {"Status": "PENDING"})
    assert (end.status, end.execution_status.value) == ("PENDING", "RUNNING")
    assert not run.env.service.woke_since_last_invocation(run.arn)


def test_pending_after_a_timer_fired_during_the_invocation_is_plain_pending(run: Running):
    run.cp(wait_start("w", seconds=1))
    run.env.advance(seconds=2)  # the wait fires while the handler still runs
    end = run.env.service.end_invocation(run.arn, {"Status": "PENDING"})
    assert end.status == "PENDING"
    assert run.env.service.woke_since_last_invocation(run.arn)
