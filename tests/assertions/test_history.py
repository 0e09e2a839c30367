"""GetDurableExecutionHistory: from the result object and through a real boto3 client.

The shapes asserted here are those of the expected histories of real executions in
AWS's conformance requirements (docs/conformance.md; the reference for every field).
"""

from __future__ import annotations

import json

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import (
    CallbackConfig,
    Duration,
    InvokeConfig,
    StepConfig,
)
from aws_durable_execution_sdk_python.retries import (
    JitterStrategy,
    RetryStrategyConfig,
    create_retry_strategy,
)
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitForConditionDecision,
)

from pytest_durable.assertions import assert_history_matches
from pytest_durable.assertions.history import fetch_history
from pytest_durable.runner.payloads import decode_payload


def make_retrying_handler():
    attempts = []

    def unreliable(_):
        attempts.append(1)
        if len(attempts) < 3:
            raise TimeoutError(f"attempt {len(attempts)}")
        return "done"

    @durable_execution
    def handler(event, context: DurableContext):
        value = context.step(
            unreliable,
            name="unreliable",
            config=StepConfig(
                retry_strategy=create_retry_strategy(
                    RetryStrategyConfig(
                        max_attempts=5,
                        initial_delay=Duration.from_seconds(2),
                        backoff_rate=3,
                        jitter_strategy=JitterStrategy.NONE,
                    )
                )
            ),
        )
        context.wait(Duration.from_seconds(30), name="cool-down")
        return value

    return handler


@pytest.fixture
def retried(durable):
    return durable.run(make_retrying_handler(), {"order": 7})


def test_the_history_through_boto3_is_the_history_of_the_result(durable, retried):
    assert fetch_history(durable.client, retried.arn) == list(retried.history)


def test_event_ids_count_from_one_in_order_and_time_never_goes_back(retried):
    ids = [event["EventId"] for event in retried.history]
    assert ids == list(range(1, len(ids) + 1))
    stamps = [event["EventTimestamp"] for event in retried.history]
    assert stamps == sorted(stamps)
    assert retried.history[0]["EventType"] == "ExecutionStarted"
    assert retried.history[0]["ExecutionStartedDetails"]["Input"] == {
        "Payload": '{"order": 7}',
        "Truncated": False,
    }
    assert [e["EventType"] for e in retried.history[-2:]] == [
        "InvocationCompleted",
        "ExecutionSucceeded",
    ]


def test_invocation_completed_events_carry_each_invocation(retried):
    completed = [e for e in retried.history if e["EventType"] == "InvocationCompleted"]
    assert len(completed) == len(retried.invocations) == 4
    for event, invocation in zip(completed, retried.invocations, strict=True):
        details = event["InvocationCompletedDetails"]
        assert details == {
            "StartTimestamp": invocation.start,
            "EndTimestamp": invocation.end,
            "RequestId": invocation.request_id,
        }
        assert "Id" not in event and "SubType" not in event


def test_step_succeeded_after_retries_has_its_retry_details(retried):
    assert_history_matches(
        retried,
        [
            {"EventId": 2, "EventType": "StepStarted", "SubType": "Step", "Id": "${STEP}"},
            {
                "EventId": 3,
                "EventType": "StepFailed",
                "Id": "${STEP}",
                "Name": "unreliable",
                "StepFailedDetails": {
                    "Error": {
                        "Payload": {"ErrorType": "TimeoutError", "ErrorMessage": "attempt 1"}
                    },
                    "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 2},
                },
            },
            {"EventId": 4, "EventType": "InvocationCompleted"},
            {
                "EventId": 6,
                "EventType": "StepFailed",
                "StepFailedDetails": {
                    "RetryDetails": {"CurrentAttempt": 2, "NextAttemptDelaySeconds": 6}
                },
            },
            {
                "EventId": 9,
                "EventType": "StepSucceeded",
                "Id": "${STEP}",
                "StepSucceededDetails": {
                    "Result": {"Payload": '"done"'},
                    "RetryDetails": {"CurrentAttempt": 3},
                },
            },
            {
                "EventId": 10,
                "EventType": "WaitStarted",
                "WaitStartedDetails": {"Duration": 30, "ScheduledEndTimestamp": "*"},
            },
        ],
    )
    succeeded = next(e for e in retried.history if e["EventType"] == "StepSucceeded")
    assert "NextAttemptDelaySeconds" not in succeeded["StepSucceededDetails"]["RetryDetails"]


def test_a_crashed_invocation_is_a_failed_invocation_completed_event(durable):
    crashes = []

    @durable_execution
    def handler(event, context: DurableContext):
        if not crashes:
            crashes.append(1)
            raise SystemExit(2)  # the sandbox dies
        return "second time"

    result = durable.run(handler)
    assert result.output == "second time"
    events = fetch_history(durable.client, result.arn)
    assert_history_matches(
        events,
        [
            {
                "EventId": 2,
                "EventType": "InvocationCompleted",
                "InvocationCompletedDetails": {
                    "Error": {"Payload": {"ErrorType": "Runtime.ExitError", "ErrorMessage": "2"}},
                    "RequestId": result.invocations[0].request_id,
                },
            },
            {"EventId": 3, "EventType": "InvocationCompleted"},
        ],
    )
    assert "Error" not in events[2]["InvocationCompletedDetails"]


def test_wait_for_condition_results_are_payloads(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        def check(state: dict, _ctx) -> dict:
            return {"polls": state["polls"] + 1}

        def strategy(state: dict, attempt: int) -> WaitForConditionDecision:
            if state["polls"] >= 2:
                return WaitForConditionDecision.stop_polling()
            return WaitForConditionDecision.continue_waiting(Duration.from_seconds(5))

        return context.wait_for_condition(
            check,
            config=WaitForConditionConfig(wait_strategy=strategy, initial_state={"polls": 0}),
            name="poll",
        )

    result = durable.run(handler)
    assert result.output == {"polls": 2}
    events = [e for e in fetch_history(durable.client, result.arn) if e.get("Name") == "poll"]
    assert [(e["EventType"], e["SubType"]) for e in events] == [
        ("StepStarted", "WaitForCondition"),
        ("StepSucceeded", "WaitForCondition"),  # a poll asking for more: wait_for_condition/6-5
        ("StepStarted", "WaitForCondition"),
        ("StepSucceeded", "WaitForCondition"),
    ]
    polled = events[1]["StepSucceededDetails"]
    assert decode_payload(polled["Result"]["Payload"]) == {"polls": 1}
    assert polled["RetryDetails"] == {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 5}
    final = events[3]["StepSucceededDetails"]
    assert decode_payload(final["Result"]["Payload"]) == {"polls": 2}
    assert final["RetryDetails"] == {"CurrentAttempt": 2}
    poll = result.operation("poll")
    assert [(a.number, a.status) for a in poll.attempts] == [(1, "RETRY"), (2, "SUCCEEDED")]


def test_callback_started_details_carry_timeout_and_heartbeat_timeout(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        callback = context.create_callback(
            name="approval",
            config=CallbackConfig(
                timeout=Duration.from_minutes(10), heartbeat_timeout=Duration.from_seconds(90)
            ),
        )
        return callback.result()

    driver = durable.start(handler)
    driver.invoke()
    events = fetch_history(durable.client, driver.arn)
    started = next(e for e in events if e["EventType"] == "CallbackStarted")
    assert started["SubType"] == "Callback" and started["Name"] == "approval"
    details = started["CallbackStartedDetails"]
    assert (details["Timeout"], details["HeartbeatTimeout"]) == (600, 90)
    durable.client.send_durable_execution_callback_success(
        CallbackId=details["CallbackId"], Result=b'"approved"'
    )
    result = driver.run()
    assert result.status == "SUCCEEDED"
    assert_history_matches(
        result,
        [
            {
                "EventId": started["EventId"],
                "EventType": "CallbackStarted",
                "Id": "${CB}",
                "CallbackStartedDetails": {
                    "CallbackId": "*",
                    "Timeout": 600,
                    "HeartbeatTimeout": 90,
                },
            },
            {
                "EventId": started["EventId"] + 2,
                "EventType": "CallbackSucceeded",
                "Id": "${CB}",
                "CallbackSucceededDetails": {"Result": {"Payload": '"approved"'}},
            },
        ],
    )


def test_chained_invoke_started_details_carry_executed_version_and_tenant_id(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.invoke(
            "billing", {"amount": 3}, name="bill", config=InvokeConfig(tenant_id="tenant-7")
        )

    driver = durable.start(handler)
    driver.invoke()
    events = fetch_history(durable.client, driver.arn)
    started = next(e for e in events if e["EventType"] == "ChainedInvokeStarted")
    assert started["Name"] == "bill"
    details = started["ChainedInvokeStartedDetails"]
    assert details["FunctionName"] == "billing"
    assert details["TenantId"] == "tenant-7"
    assert details["ExecutedVersion"] == "$LATEST"
    assert json.loads(details["Input"]["Payload"]) == {"amount": 3}


def test_include_execution_data_false_leaves_payloads_out(durable, retried):
    full = fetch_history(durable.client, retried.arn)
    bare = fetch_history(durable.client, retried.arn, include_execution_data=False)
    assert [e["EventId"] for e in bare] == [e["EventId"] for e in full]
    assert "Payload" not in json.dumps([e.get("ExecutionStartedDetails") for e in bare])
    succeeded = next(e for e in bare if e["EventType"] == "StepSucceeded")
    assert "Payload" not in succeeded["StepSucceededDetails"].get("Result", {})
    assert succeeded["StepSucceededDetails"]["RetryDetails"] == {"CurrentAttempt": 3}
    failed = next(e for e in bare if e["EventType"] == "StepFailed")
    assert "Payload" not in failed["StepFailedDetails"].get("Error", {})


def test_reverse_order_and_paging(durable, retried):
    forward = fetch_history(durable.client, retried.arn)
    assert fetch_history(durable.client, retried.arn, reverse_order=True) == forward[::-1]
    assert fetch_history(durable.client, retried.arn, page_size=3) == forward
    assert (
        fetch_history(durable.client, retried.arn, page_size=4, reverse_order=True)
        == (forward[::-1])
    )
    first = durable.client.get_durable_execution_history(
        DurableExecutionArn=retried.arn, MaxItems=5, IncludeExecutionData=True
    )
    assert [e["EventId"] for e in first["Events"]] == [1, 2, 3, 4, 5]
    second = durable.client.get_durable_execution_history(
        DurableExecutionArn=retried.arn,
        MaxItems=5,
        Marker=first["NextMarker"],
        IncludeExecutionData=True,
    )
    assert [e["EventId"] for e in second["Events"]] == [6, 7, 8, 9, 10]


def test_fetch_history_pages_with_botocore_paginator(durable):
    """Small pages and reverse order go through botocore's paginator and lose no event."""
    result = durable.run(_many_steps)
    everything = fetch_history(durable.client, result.arn)
    assert len(everything) > 6
    assert fetch_history(durable.client, result.arn, page_size=2) == everything
    reverse = fetch_history(durable.client, result.arn, reverse_order=True, page_size=3)
    assert reverse == everything[::-1]


@durable_execution
def _many_steps(event, context: DurableContext):
    return [context.step(lambda _, i=i: i, name=f"s{i}") for i in range(3)]
