"""What the SDK sent: every checkpoint call in order, its updates, filters, and expectations."""

from __future__ import annotations

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, MapConfig, StepConfig
from aws_durable_execution_sdk_python.retries import (
    JitterStrategy,
    RetryStrategyConfig,
    create_retry_strategy,
)

from pytest_durable.assertions import ANY, MismatchError
from pytest_durable.assertions.updates import ExpectedUpdates


def _retry(attempts: int, seconds: int) -> StepConfig:
    return StepConfig(
        retry_strategy=create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=attempts,
                initial_delay=Duration.from_seconds(seconds),
                backoff_rate=1,
                jitter_strategy=JitterStrategy.NONE,
            )
        )
    )


def make_order_handler():
    attempts = []

    def charge(_):
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("gateway timeout")
        return "charged"

    @durable_execution
    def handler(event, context: DurableContext):
        paid = context.step(charge, name="charge", config=_retry(3, 30))

        def shipping(child: DurableContext):
            label = child.step(lambda _: "label-1", name="print-label")
            child.wait(Duration.from_minutes(5), name="courier")
            return label

        label = context.run_in_child_context(shipping, name="shipping")
        doubled = context.map(
            [1, 2],
            lambda ctx, item, index, items: ctx.step(lambda _: item * 2, name="double"),
            name="items",
            config=MapConfig(max_concurrency=1),
        ).get_results()
        return {"paid": paid, "label": label, "doubled": doubled}

    return handler


@pytest.fixture
def order(durable):
    return durable.run(make_order_handler(), {"order": 1})


def test_every_checkpoint_call_is_recorded_in_order_with_its_invocation_and_response(order):
    assert order.output == {"paid": "charged", "label": "label-1", "doubled": [2, 4]}
    calls = order.checkpoints
    assert [call.sequence for call in calls] == list(range(len(calls)))
    assert [call.at for call in calls] == sorted(call.at for call in calls)
    assert {call.invocation for call in calls} == {0, 1, 2}
    for call in calls:
        invocation = order.invocations[call.invocation]
        assert call.request_id == invocation.request_id
        assert invocation.start <= call.at <= invocation.end
        assert "CheckpointToken" in call.response
        assert isinstance(call.response["NewExecutionState"]["Operations"], list)
    # The first call of the run carried the charge step's START (and, batched, its RETRY).
    first = calls[0].updates[0]
    assert (first["Type"], first["Action"], first["Name"]) == ("STEP", "START", "charge")


def test_updates_are_the_calls_flattened_in_order(order):
    updates = order.updates()
    assert [u.sequence for u in updates] == list(range(len(updates)))
    assert [u.raw for u in updates] == [raw for call in order.checkpoints for raw in call.updates]
    assert [str(u) for u in updates[:4]] == [
        "STEP START charge",
        "STEP RETRY charge",
        "STEP START charge",
        "STEP SUCCEED charge",
    ]
    retry = updates[1]
    assert retry.error is not None and retry.error.type == "RuntimeError"
    assert retry.raw["StepOptions"] == {"NextAttemptDelaySeconds": 30}
    assert updates[3].payload == '"charged"' and updates[3].value == "charged"
    assert updates[0].invocation == 0 and updates[3].invocation == 1


def test_filter_by_type_action_and_name(order):
    assert [str(u) for u in order.updates(type="WAIT")] == ["WAIT START courier"]
    assert [u.name for u in order.updates(type="step", action="succeed")] == [
        "charge",
        "print-label",
        "double",
        "double",
    ]
    assert [u.action for u in order.updates(name="charge")] == [
        "START",
        "RETRY",
        "START",
        "SUCCEED",
    ]
    assert order.updates(name="nothing") == []


def test_filter_by_parent_given_as_path_name_id_view_or_none(order):
    shipping = order.operation("shipping")
    by_path = order.updates(parent="shipping")
    assert [str(u) for u in by_path] == [
        "STEP START print-label",
        "STEP SUCCEED print-label",
        "WAIT START courier",
    ]
    assert order.updates(parent=shipping.id) == by_path
    assert order.updates(parent=shipping) == by_path
    item = order.operation_at("items/map-item-1")
    assert [str(u) for u in order.updates(parent="items/map-item-1")] == [
        "STEP START double",
        "STEP SUCCEED double",
    ]
    assert all(u.parent_id == item.id for u in order.updates(parent="map-item-1"))
    top = order.updates(parent=None)
    assert {u.name for u in top} == {"charge", "shipping", "items"}
    assert all(u.parent_id is None for u in top)


def test_filter_by_operation_id_and_invocation(order):
    courier = order.operation("courier")
    assert [str(u) for u in order.updates(id=courier.id)] == ["WAIT START courier"]
    assert [str(u) for u in order.updates(invocation=0)] == [
        "STEP START charge",
        "STEP RETRY charge",
    ]
    assert {u.invocation for u in order.updates(type="CONTEXT")} == {1, 2}


def test_a_large_result_is_sent_as_an_execution_update(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        return "x" * (7 * 1024 * 1024)

    result = durable.run(handler)
    assert result.status == "FAILED"  # over the payload maximum: the SDK's update is refused
    assert result.updates(type="EXECUTION") == []  # a refused call is not an accepted one


# ----------------------------------------------------------------------------- ExpectedUpdates


def order_expectation() -> ExpectedUpdates:
    return (
        ExpectedUpdates()
        .add("STEP", "START", Name="charge", Id="${CHARGE}", invocation=0)
        .add(
            "STEP",
            "RETRY",
            Id="${CHARGE}",
            Error={"ErrorType": "RuntimeError", "ErrorMessage": "gateway timeout"},
            StepOptions={"NextAttemptDelaySeconds": 30},
        )
        .add("STEP", "START", Name="charge", invocation=1)
        .add("STEP", "SUCCEED", Name="charge", Payload='"charged"')
        .add("CONTEXT", "START", Name="shipping", Id="${SHIPPING}", SubType="RunInChildContext")
        .add("STEP", "START", Name="print-label", ParentId="${SHIPPING}")
        .add("STEP", "SUCCEED", Name="print-label", ParentId="${SHIPPING}", Payload=ANY)
        .add("WAIT", "START", Name="courier", WaitOptions={"WaitSeconds": 300})
    )


def test_expected_updates_match(order):
    expected = order_expectation()
    expected.assert_matches(order.updates()[:8])
    report = expected.check(order.updates()[:8])
    assert report.ok
    assert report.bindings["CHARGE"] == order.operation("charge").id


def test_expected_updates_fail_on_the_first_difference_and_show_it(order):
    expected = order_expectation()
    expected._expected[3].update["Payload"] = '"refunded"'
    expected._expected[6].update["Payload"] = '"wrong too"'
    with pytest.raises(MismatchError) as caught:
        expected.assert_matches(order.updates()[:8])
    text = str(caught.value)
    assert "checkpoint updates differ at update #3 (of 8 sent, 8 expected): 1 mismatch" in text
    assert ">> #3 invocation 1, call" in text and "STEP SUCCEED charge" in text
    assert "Payload: expected '\"refunded\"', got '\"charged\"'" in text
    assert "wrong too" not in text  # the first difference only
    assert "-Payload: '\"refunded\"'" in text and "+Payload: '\"charged\"'" in text


def test_expected_updates_report_missing_extra_and_wrong_invocation(order):
    with pytest.raises(MismatchError, match=r"unexpected STEP RETRY charge: only 1"):
        ExpectedUpdates().add("STEP", "START").assert_matches(order, name="charge")
    too_many = ExpectedUpdates().add("WAIT", "START").add("WAIT", "SUCCEED")
    with pytest.raises(MismatchError, match=r"expected WAIT SUCCEED, but the run sent only 1"):
        too_many.assert_matches(order, type="WAIT")
    wrong_invocation = ExpectedUpdates().add("WAIT", "START", invocation=2)
    with pytest.raises(MismatchError, match=r"sent by invocation 1, expected 2"):
        wrong_invocation.assert_matches(order, type="WAIT")
    same_id = ExpectedUpdates().add("STEP", "START", Id="${X}").add("CONTEXT", "START", Id="${X}")
    report = same_id.check([order.updates(name="charge")[0], order.updates(type="CONTEXT")[0]])
    assert "Id: ${X} is bound to" in report.explain()


def test_a_misspelt_filter_is_refused_rather_than_matching_nothing(durable):
    @durable_execution
    def one_step(event, context):
        return context.step(lambda _: 1, name="one")

    result = durable.run(one_step)
    with pytest.raises(ValueError, match="action='SUCCEEDED' is not one of START, SUCCEED"):
        result.updates(action="SUCCEEDED")
    with pytest.raises(ValueError, match="type='STEPS'"):
        result.updates(type="STEPS")
    assert [u.action for u in result.updates(type="step")] == ["START", "SUCCEED"]
