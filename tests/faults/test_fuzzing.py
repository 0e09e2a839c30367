"""Re-invocation fuzzing through the released SDK: a deterministic handler passes; one that
draws a uuid outside a step fails with a report naming the operation and the line."""

from __future__ import annotations

import random
import uuid

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig, StepSemantics

from pytest_durable.errors import ReplayDivergenceError

AT_MOST_ONCE = StepConfig(step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY)
CHARGES: list[str] = []


@durable_execution
def deterministic(event, context: DurableContext) -> dict:
    order = context.step(lambda _: str(uuid.uuid4()), name="order-id")  # inside a step: fine
    total = 0
    for n in range(event["items"]):
        total += context.step(lambda _, n=n: n * random.randint(1, 1), name=f"price-{n}")
    context.wait(Duration.from_minutes(5), name="settle")

    def charge(_) -> str:
        CHARGES.append(order)
        return f"charged {total}"

    receipt = context.step(charge, name="charge", config=AT_MOST_ONCE)
    return {"order": order, "receipt": receipt}


@durable_execution
def uuid_outside_a_step(event, context: DurableContext) -> str:
    request_id = str(uuid.uuid4())  # runs again, with a new value, on every replay
    context.step(lambda _: "reserved", name="reserve")
    return context.step(lambda _: f"charged for {request_id}", name="charge")


@pytest.fixture(autouse=True)
def _clear():
    CHARGES.clear()


def test_a_deterministic_handler_passes(durable):
    report = durable.fuzz(deterministic, {"items": 4})
    assert report.passed, str(report)
    assert report.fuzzed.status == report.clean.status == "SUCCEEDED"
    assert report.fuzzed.output == report.clean.output
    # Killed after every checkpoint that recorded something new (an at-most-once step's
    # retried START is the same point again): each invocation replayed all before it.
    points = {
        frozenset((u["Id"], u["Action"]) for u in call.updates)
        for call in report.fuzzed.checkpoints
    }
    assert report.kills == len(points) >= 8
    assert len(report.fuzzed.invocations) > len(report.clean.invocations) + 4
    assert report.repeated_bodies == {}
    once_per_run = [report.clean.output["order"]] * 2  # never again on a replay
    assert once_per_run == CHARGES
    assert "equals the clean run" in str(report)


def test_uuid_outside_a_step_fails_naming_the_operation_and_the_line(durable):
    with pytest.raises(ReplayDivergenceError) as caught:
        durable.fuzz(uuid_outside_a_step, {})
    message = str(caught.value)
    assert "first divergence: operation #2 STEP 'charge'" in message, message
    assert "returned" in message and "in the fuzzed run" in message
    assert "uuid.uuid4() at " in message and "test_fuzzing.py:" in message
    assert "ran outside a step" in message


def test_the_report_without_raising(durable):
    report = durable.fuzz(uuid_outside_a_step, {}, check=False)
    assert not report.passed
    assert report.divergence is not None
    assert report.divergence.fuzzed.name == "charge"
    assert {d.function for d in report.draws} == {"uuid.uuid4()"}


def test_every_kth_checkpoint_and_seeded_random_points(durable):
    every_second = durable.fuzz(deterministic, {"items": 4}, every=2)
    assert 0 < every_second.kills < len(every_second.fuzzed.checkpoints)
    seeded = durable.fuzz(deterministic, {"items": 4}, probability=0.5, seed=3)
    again = durable.fuzz(deterministic, {"items": 4}, probability=0.5, seed=3)
    assert seeded.kills == again.kills


@durable_execution
def unordered(event, context: DurableContext) -> list:
    # Set iteration order of strings changes between processes, not between replays in one:
    # stands in here for any outside-step input that changes between invocations.
    names = sorted(event["names"], key=lambda _: random.random())
    return [context.step(lambda _, n=n: n, name=n) for n in names]


def test_a_changed_order_is_named_as_an_operation_mismatch(durable):
    report = durable.fuzz(unordered, {"names": ["a", "b", "c", "d"]}, check=False)
    assert not report.passed
    assert "the clean run has STEP" in report.divergence.what
    assert "random.random() at" in report.divergence.cause
