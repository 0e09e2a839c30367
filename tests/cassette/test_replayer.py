"""The determinism replay: the current code against a recorded execution, no step body run, and
every change named with the operation, what was recorded and what the code does now."""

from __future__ import annotations

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from cassette_handlers import (
    BODIES,
    declined,
    fulfilment,
    fulfilment_renamed_in_child,
    orders,
    orders_added,
    orders_added_at_end,
    orders_removed,
    orders_renamed,
    orders_reordered,
    orders_retyped,
    orders_with_wait,
)
from test_reconstruct import everything, pricing

from pytest_durable.cassette import NonDeterminismError, assert_replays
from pytest_durable.cassette.local import RecordingEnvironment, local_cassette
from pytest_durable.cassette.replay.replayer import replay_cassette, replay_execution
from pytest_durable.cassette.replay.seams import seams_supported


def recording_of(handler, event=None, **answers):
    with RecordingEnvironment() as env:
        env.on_callback().succeed("ok")
        env.register_durable_function("pricing", pricing)
        env.run(handler, event or {})
    BODIES.clear()
    return local_cassette(env)


@pytest.fixture(scope="module")
def recorded_orders():
    return recording_of(orders)


def test_unchanged_code_replays_clean_without_running_step_bodies(recorded_orders):
    report = replay_execution(orders, recorded_orders)

    assert report.ok, str(report)
    assert report.divergences == []
    assert report.replayed_status == "SUCCEEDED"
    assert report.replayed_operations == 3
    assert report.steps_not_run == []
    assert BODIES == []
    assert "no divergence; 3 recorded operations replayed" in str(report)


@pytest.mark.parametrize(
    ("handler", "event"),
    [(fulfilment, {"items": ["a", "b", "c"]}), (everything, {})],
    ids=["child-context-map-callback", "parallel-wait-for-callback-condition-invoke"],
)
def test_every_operation_kind_replays_clean(handler, event):
    report = replay_execution(handler, recording_of(handler, event))
    assert report.ok, str(report)
    assert BODIES == []


def test_a_renamed_step_is_reported_with_its_old_and_new_name(recorded_orders):
    report = replay_execution(orders_renamed, recorded_orders)

    assert report.kinds() == ["renamed"]
    divergence = report.divergences[0]
    assert (divergence.recorded.name, divergence.current.name) == ("charge", "bill")
    assert (divergence.recorded.type, divergence.recorded.position) == ("STEP", 2)
    assert "STEP 'charge' (#2 at the top level) is now named 'bill'" in str(report)
    assert "NonDeterministicExecutionError" in report.sdk_error
    assert BODIES == []


def test_a_reordered_step_is_reported_as_reordered(recorded_orders):
    report = replay_execution(orders_reordered, recorded_orders)

    assert report.kinds() == ["reordered"]
    assert {report.divergences[0].recorded.name, report.divergences[0].current.name} <= {
        "charge",
        "ship",
    }
    assert "STEP 'ship' and STEP 'charge' swapped places" in str(report)
    assert BODIES == []


def test_an_added_step_is_reported_where_it_was_added(recorded_orders):
    report = replay_execution(orders_added, recorded_orders)

    assert report.kinds() == ["added"]
    added = report.divergences[0].current
    assert (added.name, added.type, added.position) == ("audit", "STEP", 2)
    assert "STEP 'audit' at #2 at the top level is new" in str(report)
    assert BODIES == []  # not even the added step's body


def test_a_step_added_after_the_recording_ends_is_not_run(recorded_orders):
    report = replay_execution(orders_added_at_end, recorded_orders)

    assert report.kinds() == ["added"]
    assert report.divergences[0].current.name == "notify"
    assert report.steps_not_run == ["'notify'"]
    assert report.replayed_status == "PENDING"
    assert report.sdk_error is None  # in-flight executions would not notice; finished ones differ
    assert BODIES == []


def test_a_removed_step_is_reported(recorded_orders):
    report = replay_execution(orders_removed, recorded_orders)

    assert report.kinds() == ["removed"]
    assert report.divergences[0].recorded.name == "charge"
    assert "STEP 'charge' (recorded #2 at the top level) is no longer run" in str(report)


def test_a_step_that_became_a_wait_is_a_type_change(recorded_orders):
    report = replay_execution(orders_retyped, recorded_orders)

    assert report.kinds() == ["type"]
    assert "STEP 'charge' (#2 at the top level) is now a WAIT 'charge'" in str(report)


def test_an_added_wait_is_reported_and_the_rest_still_compared(recorded_orders):
    report = replay_execution(orders_with_wait, recorded_orders)
    assert report.kinds() == ["added"]
    assert report.divergences[0].current.describe() == "WAIT 'cool-off'"


def test_changes_inside_child_contexts_are_found():
    recorded = recording_of(fulfilment, {"items": ["a"]})
    report = replay_execution(fulfilment_renamed_in_child, recorded)

    assert report.kinds() == ["renamed"]
    divergence = report.divergences[0]
    assert divergence.recorded.path == "shipping/label"
    assert divergence.current.path == "shipping/print-label"
    assert "(#1 in 'shipping') is now named 'print-label'" in str(report)
    assert BODIES == []


def test_a_shallow_replay_trusts_completed_child_contexts():
    recorded = recording_of(fulfilment, {"items": ["a"]})
    assert replay_execution(fulfilment_renamed_in_child, recorded, deep=False).ok


def test_a_recording_of_a_running_execution_replays_up_to_where_it_stood():
    with RecordingEnvironment() as env:
        driver = env.start(orders_with_wait, {})
        driver.invoke()  # reserve, then suspended on the wait
    recorded = local_cassette(env)
    assert recorded.execution(0).status == "RUNNING"

    report = replay_execution(orders_with_wait, recorded)
    assert report.ok, str(report)
    assert report.replayed_status == "PENDING"
    changed = replay_execution(orders_renamed, recorded)
    assert changed.kinds() == ["replaced"]
    assert "WAIT 'cool-off' (#2 at the top level) is now STEP 'bill'" in str(changed)


def test_assert_replays_raises_with_the_report(recorded_orders):
    assert [r.ok for r in assert_replays(orders, recorded_orders)] == [True]
    with pytest.raises(NonDeterminismError) as caught:
        assert_replays(orders_renamed, recorded_orders)
    assert "renamed" in str(caught.value)
    assert caught.value.report.kinds() == ["renamed"]


def test_every_execution_of_a_cassette_is_replayed():
    with RecordingEnvironment() as env:
        env.run(orders, {})
        env.run(orders, {"again": True})
    reports = replay_cassette(orders_removed, local_cassette(env))
    assert [r.kinds() for r in reports] == [["removed"], ["removed"]]


def test_the_installed_sdk_has_the_points_the_replay_watches():
    assert seams_supported()


def test_a_recorded_failure_replays_clean():
    recorded = recording_of(declined, {"order": "o-3"})
    assert recorded.execution(0).status == "FAILED"
    report = replay_execution(declined, recorded)
    assert report.ok, str(report)
    assert report.replayed_status == "FAILED"


@durable_execution
def orders_that_now_fail(event, context: DurableContext):
    for name in ("reserve", "charge", "ship"):
        context.step(lambda _: "never run", name=name)
    raise RuntimeError("a new validation rejects the recorded order")


def test_code_that_now_ends_differently_is_an_outcome_divergence(recorded_orders):
    report = replay_execution(orders_that_now_fail, recorded_orders)

    assert report.kinds() == ["outcome"]
    assert "the recorded execution SUCCEEDED; replayed, the code now ends FAILED" in str(report)
    assert "a new validation rejects the recorded order" in str(report)
