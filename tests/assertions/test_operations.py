"""The operation tree: lookups by name, name and index, index, id and path; what each one holds."""

from __future__ import annotations

import contextlib
import datetime
import json

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, MapConfig, StepConfig
from aws_durable_execution_sdk_python.retries import (
    JitterStrategy,
    RetryStrategyConfig,
    create_retry_strategy,
)
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext

from pytest_durable import Attempt


class Reversed(SerDes[str]):
    def serialize(self, value: str, _: SerDesContext) -> str:
        return json.dumps(value[::-1])

    def deserialize(self, data: str, _: SerDesContext) -> str:
        return json.loads(data)[::-1]


def make_tree_handler():
    attempts = []

    def flaky(_):
        attempts.append(datetime.datetime.now(datetime.UTC))
        if len(attempts) < 3:
            raise ConnectionError(f"attempt {len(attempts)} refused")
        return {"ok": True}

    retry = StepConfig(
        retry_strategy=create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=5,
                initial_delay=Duration.from_seconds(10),
                backoff_rate=2,
                jitter_strategy=JitterStrategy.NONE,
            )
        )
    )

    @durable_execution
    def handler(event, context: DurableContext):
        context.step(flaky, name="flaky", config=retry)
        context.step(lambda _: "first", name="poll")
        context.step(lambda _: "second", name="poll")

        def shipping(child: DurableContext):
            child.step(lambda _: "label-1", name="print-label")
            child.wait(Duration.from_hours(1), name="courier")
            return "shipped"

        context.run_in_child_context(shipping, name="shipping")
        context.map(
            [1, 2, 3],
            lambda ctx, item, index, items: ctx.step(lambda _: item * 10, name="multiply"),
            name="items",
            config=MapConfig(max_concurrency=1),
        )
        context.parallel(
            [lambda ctx: ctx.step(lambda _: "a", name="left"), lambda ctx: "b"], name="both"
        )
        context.step(lambda _: "secret", name="custom", config=StepConfig(serdes=Reversed()))
        with contextlib.suppress(Exception):
            context.step(
                lambda _: (_ for _ in ()).throw(KeyError("sku-9")),
                name="doomed",
                config=StepConfig(
                    retry_strategy=create_retry_strategy(RetryStrategyConfig(max_attempts=1))
                ),
            )
        return "done"

    return handler, attempts


@pytest.fixture
def run(durable):
    handler, attempts = make_tree_handler()
    result = durable.run(handler)
    assert result.output == "done"
    return result, attempts


@pytest.fixture
def tree(run):
    return run[0]


def test_lookup_by_name_and_by_name_and_index(tree):
    assert tree.operation("poll").result == "first"
    assert tree.operation("poll", index=1).result == "second"
    assert tree.operation("multiply", index=2).result == 30
    with pytest.raises(LookupError, match=r"No operation named 'poll' at index 2 \(2 found\)"):
        tree.operation("poll", index=2)


def test_lookup_by_index(tree):
    names = [op.name for op in tree.operations]
    assert names[:4] == ["flaky", "poll", "poll", "shipping"]
    assert tree.operations[3].name == "shipping"
    assert tree.all_operations()[4].name == "print-label"  # depth-first
    assert tree.operation("shipping").child(1).name == "courier"
    assert tree.operation("items").child(2).child("multiply").result == 30
    assert tree.operation_at("items/[2]/[0]").result == 30
    with pytest.raises(LookupError, match=r"No operation 5 under items"):
        tree.operation("items").child(5)


def test_lookup_by_id(tree):
    courier = tree.operation("courier")
    assert tree.operation_by_id(courier.id) == courier
    with pytest.raises(LookupError, match="No operation with Id 'nope'"):
        tree.operation_by_id("nope")


def test_lookup_by_path_through_child_contexts_map_items_and_parallel_branches(tree):
    assert tree.operation_at("shipping/print-label").result == "label-1"
    assert tree.operation_at("items/map-item-2/multiply").result == 30
    assert tree.operation_at(("items", "map-item-0", "multiply")).result == 10
    assert tree.operation_at("both/parallel-branch-0/left").result == "a"
    assert tree.operation_at("both/parallel-branch-1").result == "b"
    assert tree.operation_at("poll[1]").result == "second"
    assert tree.operation_at(["both", 0, "left"]).result == "a"
    shipping = tree.operation("shipping")
    assert shipping.operation_at("courier") == tree.operation("courier")
    assert shipping.child("courier").path == "shipping/courier"
    assert tree.operation_at("items/map-item-1/multiply").path == "items/map-item-1/multiply"


def test_every_operation_is_found_again_by_its_path(tree):
    assert tree.operation("poll", index=1).path == "poll[1]"
    for op in tree.all_operations():
        assert tree.operation_at(op.path) == op


def test_unnamed_operations_have_positional_paths(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        context.step(lambda _: 1)
        return context.run_in_child_context(lambda ctx: ctx.step(lambda _: 2))

    result = durable.run(handler)
    assert [op.path for op in result.all_operations()] == ["[0]", "[1]", "[1]/[0]"]
    assert result.operation_at("[1]/[0]").result == 2
    assert result.operation_at((1, 0)).result == 2


def test_a_wrong_path_says_what_is_there(tree):
    with pytest.raises(LookupError) as caught:
        tree.operation_at("items/map-item-7/multiply")
    assert str(caught.value) == (
        "No operation 'map-item-7' under items. "
        "Operations there: map-item-0, map-item-1, map-item-2"
    )
    with pytest.raises(LookupError, match="under the top level"):
        tree.operation_at("nowhere")


def test_each_operation_has_status_timestamps_result_and_error(tree):
    courier = tree.operation("courier")
    assert (courier.type, courier.sub_type, courier.status) == ("WAIT", "Wait", "SUCCEEDED")
    assert courier.duration == datetime.timedelta(hours=1)
    assert tree.start <= courier.start < courier.end <= tree.end
    items = tree.operation("items")
    assert items.result.get_results() == [10, 20, 30]  # the SDK's BatchResult, decoded
    assert tree.operation("flaky").result == {"ok": True}
    doomed = tree.operation("doomed")
    assert doomed.status == "FAILED"
    assert doomed.error is not None and doomed.error.type == "KeyError"
    assert "sku-9" in (doomed.error.message or "")


def test_a_custom_serdes_result_is_decoded_with_that_serdes(tree):
    custom = tree.operation("custom")
    assert custom.result_payload == '"terces"'
    assert custom.result == "terces"
    assert custom.decode(Reversed()) == "secret"


def test_step_attempts_come_from_the_history_on_the_virtual_clock(run):
    tree, attempt_times = run
    flaky = tree.operation("flaky")
    assert flaky.attempt == 3
    attempts = flaky.attempts
    assert [(a.number, a.status) for a in attempts] == [
        (1, "RETRY"),
        (2, "RETRY"),
        (3, "SUCCEEDED"),
    ]
    assert [a.next_attempt_delay for a in attempts] == [
        datetime.timedelta(seconds=10),
        datetime.timedelta(seconds=20),
        None,
    ]
    assert [a.error.message if a.error else None for a in attempts] == [
        "attempt 1 refused",
        "attempt 2 refused",
        None,
    ]
    assert attempts[2].result == {"ok": True}
    for attempt, seen in zip(attempts, attempt_times, strict=True):
        assert attempt.start is not None and attempt.end is not None
        assert abs(attempt.start - seen) < datetime.timedelta(seconds=1)
    gap = attempts[1].start - attempts[0].end
    assert datetime.timedelta(seconds=10) <= gap < datetime.timedelta(seconds=11)
    assert tree.operation("doomed").attempts[0].status == "FAILED"
    assert tree.operation("courier").attempts == ()
    assert [e["EventType"] for e in tree.operation("courier").events] == [
        "WaitStarted",
        "WaitSucceeded",
    ]


def test_an_interrupted_attempt_is_still_open(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        def crash(_):
            raise SystemExit(1)

        return context.step(crash, name="crash")

    driver = durable.start(handler)
    driver.invoke()
    driver.invoke()
    attempts = driver.result().operation("crash").attempts
    assert len(attempts) == 1
    assert isinstance(attempts[0], Attempt)
    assert (attempts[0].status, attempts[0].end) == ("STARTED", None)


def test_the_result_repr_is_compact(tree):
    text = repr(tree)
    assert text.startswith("ExecutionResult(status='SUCCEEDED', name=")
    assert "output='done'" in text and "invocations=4" in text
    assert "History" not in text and len(text) < 200
