"""Operations rebuilt from the history equal the service's own, for every operation kind: what
cloud mode shows (and records) is what a local run shows."""

from __future__ import annotations

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitForConditionDecision,
)
from cassette_handlers import declined, fulfilment

from pytest_durable.cassette.cloud.reconstruct import (
    execution_from_cloud,
    operation_from_wire,
    operations_from_history,
)
from pytest_durable.runner.result import ExecutionResult
from pytest_durable.service.model import datetime_to_ms

ATTEMPTS = {"n": 0}


def _flaky(_ctx):
    ATTEMPTS["n"] += 1
    if ATTEMPTS["n"] < 3:
        raise RuntimeError("gateway down")
    return "paid"


@durable_execution
def everything(event, context: DurableContext):
    ATTEMPTS["n"] = 0
    paid = context.step(
        _flaky,
        name="pay",
        config=StepConfig(
            retry_strategy=create_retry_strategy(
                RetryStrategyConfig(max_attempts=5, initial_delay=Duration.from_seconds(3))
            )
        ),
    )
    both = context.parallel(
        [lambda c: c.step(lambda _: 1, name="one"), lambda c: c.step(lambda _: 2, name="two")],
        name="both",
    ).get_results()
    answer = context.wait_for_callback(lambda callback_id, _ctx: None, name="ask")
    polled = context.wait_for_condition(
        lambda state, _ctx: state + 1,
        config=WaitForConditionConfig(
            wait_strategy=lambda state, attempt: WaitForConditionDecision(
                should_continue=state < 3, delay=Duration.from_seconds(10)
            ),
            initial_state=0,
        ),
        name="poll",
    )
    context.invoke("pricing", {"n": 1}, name="price")
    return [paid, both, answer, polled]


@durable_execution
def pricing(event, context: DurableContext):
    return context.step(lambda _: event["n"] * 10, name="compute")


def _comparable(operation):
    wire = operation.to_wire()
    # History carries no ReplayChildren: the one field a rebuilt CONTEXT cannot have.
    details = wire.get("ContextDetails")
    if details is not None:
        details.pop("ReplayChildren", None)
        if not details:
            del wire["ContextDetails"]
    return wire


@pytest.mark.parametrize(
    ("handler", "event"),
    [(fulfilment, {"items": ["a", "b"]}), (everything, {}), (declined, {"order": "o-9"})],
    ids=["fulfilment", "every-kind", "failed"],
)
def test_operations_from_history_equal_the_services(durable, handler, event):
    durable.on_callback().succeed("ok")
    durable.register_durable_function("pricing", pricing)
    durable.run(handler, event)
    for execution in durable.service.executions:
        rebuilt = operations_from_history(execution.history)

        assert rebuilt.truncated == []
        assert [_comparable(op) for op in rebuilt.operations] == [
            _comparable(op) for op in execution.operations.values()
        ]


def test_a_retry_is_pending_until_due_and_ready_after(durable):
    @durable_execution
    def retrying(event, context: DurableContext):
        return context.step(
            lambda _: (_ for _ in ()).throw(RuntimeError("no")),
            name="try",
            config=StepConfig(
                retry_strategy=create_retry_strategy(
                    RetryStrategyConfig(max_attempts=3, initial_delay=Duration.from_seconds(60))
                )
            ),
        )

    driver = durable.start(retrying)
    driver.invoke()
    history = list(driver.execution.history)
    failed = next(e for e in history if e["EventType"] == "StepFailed")
    now_ms = datetime_to_ms(failed["EventTimestamp"])
    delay_ms = failed["StepFailedDetails"]["RetryDetails"]["NextAttemptDelaySeconds"] * 1000

    pending = operations_from_history(history, now_ms=now_ms).operations[-1]
    ready = operations_from_history(history, now_ms=now_ms + delay_ms).operations[-1]

    assert (pending.status.value, pending.attempt, pending.error["ErrorMessage"]) == (
        "PENDING",
        1,
        "no",
    )
    assert pending.next_attempt_ms == now_ms + delay_ms
    assert ready.status.value == "READY"


def test_truncated_payloads_are_reported():
    events = [
        {
            "EventType": "StepSucceeded",
            "Id": "abc",
            "Name": "big",
            "SubType": "Step",
            "EventId": 2,
            "EventTimestamp": 1.0,
            "StepSucceededDetails": {
                "Result": {"Payload": "{...", "Truncated": True},
                "RetryDetails": {"CurrentAttempt": 1},
            },
        }
    ]
    rebuilt = operations_from_history(events)
    assert rebuilt.truncated == [("abc", "StepSucceeded")]
    assert rebuilt.operations[0].result == "{..."


def test_operation_wire_round_trips(durable):
    durable.on_callback().succeed("ok")
    durable.run(fulfilment, {"items": ["a"]})
    for operation in durable.service.executions[0].operations.values():
        assert operation_from_wire(operation.to_wire()).to_wire() == operation.to_wire()


def test_a_result_from_cloud_answers_equals_the_local_result(durable):
    durable.on_callback().succeed("ok")
    local = durable.run(fulfilment, {"items": ["a", "b"]})
    described = durable.client.get_durable_execution(
        DurableExecutionArn=local.arn, IncludeExecutionData=True
    )
    events = durable.client.get_durable_execution_history(
        DurableExecutionArn=local.arn, IncludeExecutionData=True
    )["Events"]

    rebuilt = ExecutionResult.from_execution(execution_from_cloud(described, events), events)

    assert (rebuilt.status, rebuilt.output, rebuilt.arn, rebuilt.name) == (
        local.status,
        local.output,
        local.arn,
        local.name,
    )
    assert [op.path for op in rebuilt.all_operations()] == [
        op.path for op in local.all_operations()
    ]
    assert [op.status for op in rebuilt.all_operations()] == [
        op.status for op in local.all_operations()
    ]
    assert [i.request_id for i in rebuilt.invocations] == [i.request_id for i in local.invocations]
    assert (rebuilt.start, rebuilt.end) == (local.start, local.end)


def test_a_wait_for_condition_poll_is_pending_with_its_state(durable):
    # The service records a poll that asks for another attempt as StepSucceeded with
    # NextAttemptDelaySeconds (conformance wait_for_condition 6.5): rebuilt, it is PENDING and
    # keeps the state as its result, not SUCCEEDED.
    @durable_execution
    def polling(event, context: DurableContext):
        return context.wait_for_condition(
            lambda state, _ctx: state + 1,
            config=WaitForConditionConfig(
                wait_strategy=lambda state, attempt: WaitForConditionDecision(
                    should_continue=state < 3, delay=Duration.from_seconds(10)
                ),
                initial_state=0,
            ),
            name="poll",
        )

    driver = durable.start(polling)
    driver.invoke()
    history = list(driver.execution.history)
    rebuilt = operations_from_history(history).operations[-1]
    assert (rebuilt.status.value, rebuilt.result, rebuilt.attempt) == ("PENDING", "1", 1)
    assert rebuilt.to_wire() == driver.execution.operations[rebuilt.id].to_wire()
