"""Tests of the order workflow, run by pytest-durable on a virtual clock.

The ``durable`` fixture comes from the pytest-durable plugin; no conftest is needed.
"""

from __future__ import annotations

import datetime
import itertools
import time
from typing import Any

import pytest
from order_workflow import (
    GatewayUnavailableError,
    PaymentDeclinedError,
    handler,
    payment_gateway,
)

UTC = datetime.UTC
START = datetime.datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
DAY = datetime.timedelta(hours=24)
#: Slack for code that really runs: the virtual clock ticks at the real rate between jumps.
SLACK = datetime.timedelta(seconds=1)

# Every test here starts its virtual clock at START.
pytestmark = pytest.mark.durable(start=START)

ITEMS = [
    {"sku": "MUG-01", "qty": 2, "unit_price_cents": 1250},
    {"sku": "TEA-07", "qty": 1, "unit_price_cents": 899},
]
ITEMS_TOTAL_CENTS = 2 * 1250 + 899


# A day or a week of virtual time in far less wall time; seconds of room for a loaded CI machine.
AT_ONCE = 5.0


class _Real:
    """The wall clock: ``time.perf_counter`` is never virtual (only ``time.time`` and
    ``datetime`` follow the durable clock); kept as a class attribute so that it stays real even
    should a test start its own freezegun."""

    perf_counter = time.perf_counter


@pytest.fixture(autouse=True)
def healthy_gateway():
    """Each test starts with a healthy payment gateway and no recorded calls."""
    payment_gateway.reset()
    yield payment_gateway
    payment_gateway.reset()


def order(items: list[dict[str, Any]] = ITEMS, order_id: str = "o-1001") -> dict[str, Any]:
    return {"order_id": order_id, "items": items, "address": "1 Main St, Springfield"}


def seconds(n: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=n)


def at(iso: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(iso)


def qualified_name(error_type: type[BaseException]) -> str:
    """The ErrorType the SDK records for an exception: its module-qualified class name."""
    return f"{error_type.__module__}.{error_type.__qualname__}"


def charge_attempts(result) -> list[dict[str, Any]]:
    """Each attempt of the charge_payment step, from the execution history."""
    events = [e for e in result.history if e.get("Name") == "charge_payment"]
    started = [e["EventTimestamp"] for e in events if e["EventType"] == "StepStarted"]
    ended = [e for e in events if e["EventType"] in ("StepSucceeded", "StepFailed")]
    assert len(started) == len(ended)
    attempts = []
    for start, end in zip(started, ended, strict=True):
        failed = end.get("StepFailedDetails", {})
        attempts.append(
            {
                "started": start,
                "outcome": end["EventType"],
                "error_type": failed.get("Error", {}).get("Payload", {}).get("ErrorType"),
                "retry_in": failed.get("RetryDetails", {}).get("NextAttemptDelaySeconds"),
            }
        )
    return attempts


# --------------------------------------------------------------------------- happy path


def test_happy_path_ships_the_order(durable):
    result = durable.run(handler, order())

    assert result.status == "SUCCEEDED"
    assert result.error is None
    output = result.output
    assert output == {
        "order_id": "o-1001",
        "status": "SHIPPED",
        "reservation_id": "res_o-1001",
        "reserved_at": output["reserved_at"],
        "charge": {
            "charge_id": f"ch_o-1001_{ITEMS_TOTAL_CENTS}",
            "amount_cents": ITEMS_TOTAL_CENTS,
            "charged_at": output["charge"]["charged_at"],
            "attempt": 1,
        },
        "packed": [
            {"sku": "MUG-01", "qty": 2, "parcel_id": "parcel_o-1001_MUG-01"},
            {"sku": "TEA-07", "qty": 1, "parcel_id": "parcel_o-1001_TEA-07"},
        ],
        # Picked up the day after the charge, which is the day after the reservation.
        "shipment": {"tracking_number": "TRK-o-1001", "pickup_date": "2030-01-03"},
    }

    # The top-level operations, in the order the workflow ran them.
    assert [(op.type, op.sub_type, op.name, op.status) for op in result.operations] == [
        ("STEP", "Step", "reserve_inventory", "SUCCEEDED"),
        ("WAIT", "Wait", "cooling_off", "SUCCEEDED"),
        ("STEP", "Step", "charge_payment", "SUCCEEDED"),
        ("CONTEXT", "Map", "pack_items", "SUCCEEDED"),
        ("CONTEXT", "RunInChildContext", "shipping", "SUCCEEDED"),
    ]
    names = {op.name for op in result.all_operations()}
    assert "release_inventory" not in names

    # Shipping is a child context holding its two steps.
    shipping = result.operation("shipping")
    assert [(op.name, op.status) for op in shipping.children] == [
        ("create_shipping_label", "SUCCEEDED"),
        ("schedule_pickup", "SUCCEEDED"),
    ]
    assert all(op.parent_id == shipping.id for op in shipping.children)
    assert shipping.result == {"tracking_number": "TRK-o-1001", "pickup_date": "2030-01-03"}
    assert result.operation("create_shipping_label").result == {
        "tracking_number": "TRK-o-1001",
        "address": "1 Main St, Springfield",
        "parcels": 2,
    }

    charge = result.operation("charge_payment")
    assert charge.attempt == 1
    assert charge.error is None
    assert [outcome for _, outcome in payment_gateway.calls] == ["charged"]


@pytest.mark.durable(execution_timeout=int(datetime.timedelta(days=2).total_seconds()))
def test_cooling_off_takes_24_virtual_hours_and_no_wall_time(durable):
    wall_start = _Real.perf_counter()
    result = durable.run(handler, order())
    wall_time = _Real.perf_counter() - wall_start

    assert result.status == "SUCCEEDED"

    # The handler itself sees the clock move: datetime.now() in the charge step is a day later.
    reserved_at = at(result.output["reserved_at"])
    charged_at = at(result.output["charge"]["charged_at"])
    assert START <= reserved_at < START + SLACK
    assert DAY <= charged_at - reserved_at < DAY + SLACK

    # The service's timestamps agree: the wait lasted exactly 24 hours, and the charge started
    # after it.
    reserve = result.operation("reserve_inventory")
    wait = result.operation("cooling_off")
    charge = result.operation("charge_payment")
    assert wait.end is not None and reserve.end is not None
    assert wait.end - wait.start == DAY
    assert reserve.end <= wait.start
    assert wait.end <= charge.start < wait.end + SLACK
    assert DAY <= charge.start - reserve.end < DAY + SLACK

    # Lambda ran the function twice: up to the wait, then again when it was over.
    assert [inv.status for inv in result.invocations] == ["COMPLETED", "COMPLETED"]
    first, second = result.invocations
    assert first.end is not None and first.end <= wait.end <= second.start
    assert result.duration is not None and DAY <= result.duration < DAY + SLACK
    assert DAY <= durable.clock.now() - START < DAY + SLACK

    # ... and the whole day cost well under a second of real time.
    assert wall_time < AT_ONCE


def test_a_week_long_cooling_off_is_as_instant(durable):
    week = datetime.timedelta(days=7)
    wall_start = _Real.perf_counter()
    result = durable.run(handler, {**order(), "cooling_off_seconds": int(week.total_seconds())})
    wall_time = _Real.perf_counter() - wall_start

    assert result.status == "SUCCEEDED"
    charged_at = at(result.output["charge"]["charged_at"])
    reserved_at = at(result.output["reserved_at"])
    assert week <= charged_at - reserved_at < week + SLACK  # what the handler's clock said
    assert result.operation("cooling_off").duration == week
    assert wall_time < AT_ONCE


# --------------------------------------------------------------------------- payment retries


def test_transient_gateway_failures_are_retried_with_backoff(durable, healthy_gateway):
    healthy_gateway.outage(failures=3)

    result = durable.run(handler, order())

    assert result.status == "SUCCEEDED"
    assert result.output["status"] == "SHIPPED"
    assert result.output["charge"]["attempt"] == 4

    charge = result.operation("charge_payment")
    assert charge.status == "SUCCEEDED"
    assert charge.attempt == 4
    assert charge.error is None
    assert charge.result["attempt"] == 4

    # Three failures, each followed by exponential backoff (10 s, 20 s, 40 s), then success.
    attempts = charge_attempts(result)
    unavailable = qualified_name(GatewayUnavailableError)
    assert [(a["outcome"], a["error_type"], a["retry_in"]) for a in attempts] == [
        ("StepFailed", unavailable, 10),
        ("StepFailed", unavailable, 20),
        ("StepFailed", unavailable, 40),
        ("StepSucceeded", None, None),
    ]
    for previous, following in itertools.pairwise(attempts):
        delay = seconds(previous["retry_in"])
        assert delay <= following["started"] - previous["started"] < delay + SLACK

    # The gateway saw the same schedule, on the clock the handler sees.
    call_times = [when for when, _ in healthy_gateway.calls]
    assert [outcome for _, outcome in healthy_gateway.calls] == [
        "unavailable",
        "unavailable",
        "unavailable",
        "charged",
    ]
    gaps = [b - a for a, b in itertools.pairwise(call_times)]
    for gap, delay in zip(gaps, (seconds(10), seconds(20), seconds(40)), strict=True):
        assert delay <= gap < delay + SLACK

    # One invocation up to the cooling-off wait, then one per charge attempt.
    assert len(result.invocations) == 1 + 4
    assert all(inv.status == "COMPLETED" for inv in result.invocations)
    assert charge.end is not None
    assert seconds(70) <= charge.end - charge.start < seconds(70) + SLACK


def test_gateway_down_for_good_fails_the_order_after_five_attempts(durable, healthy_gateway):
    healthy_gateway.outage(failures=None)

    result = durable.run(handler, order())

    assert result.status == "FAILED"
    assert result.output is None
    # The StepError the handler re-raised fails the execution, with the gateway's message.
    assert result.error is not None
    assert result.error.type == "aws_durable_execution_sdk_python.exceptions.StepError"
    assert result.error.message == "payment gateway unavailable (HTTP 503)"

    charge = result.operation("charge_payment")
    assert charge.status == "FAILED"
    assert charge.attempt == 5
    assert charge.error is not None
    assert charge.error.type == qualified_name(GatewayUnavailableError)
    assert charge.error.message == "payment gateway unavailable (HTTP 503)"

    attempts = charge_attempts(result)
    assert [a["retry_in"] for a in attempts] == [10, 20, 40, 80, None]
    assert len(healthy_gateway.calls) == 5
    assert len(result.invocations) == 1 + 5

    # The reservation was released, and nothing was packed or shipped.
    assert [op.name for op in result.operations] == [
        "reserve_inventory",
        "cooling_off",
        "charge_payment",
        "release_inventory",
    ]
    assert result.operation("release_inventory").result["reservation_id"] == "res_o-1001"


def test_declined_card_is_not_retried(durable, healthy_gateway):
    healthy_gateway.decline("insufficient funds")

    result = durable.run(handler, order())

    assert result.status == "FAILED"
    assert result.error is not None
    assert result.error.type == "aws_durable_execution_sdk_python.exceptions.StepError"
    assert result.error.message == "card declined for order o-1001: insufficient funds"

    charge = result.operation("charge_payment")
    assert charge.status == "FAILED"
    assert charge.attempt == 1
    assert charge.error is not None
    assert charge.error.type == qualified_name(PaymentDeclinedError)
    assert charge.error.message == "card declined for order o-1001: insufficient funds"
    assert [a["retry_in"] for a in charge_attempts(result)] == [None]

    assert [outcome for _, outcome in healthy_gateway.calls] == ["declined"]
    assert len(result.invocations) == 2
    assert result.operation("release_inventory").status == "SUCCEEDED"
    # The decline was immediate: the execution ended right after the cooling-off period.
    assert result.duration is not None and DAY <= result.duration < DAY + SLACK


# --------------------------------------------------------------------------- packing (map)


def test_each_item_is_packed_in_its_own_map_iteration(durable):
    items = [
        {"sku": "MUG-01", "qty": 2, "unit_price_cents": 1250},
        {"sku": "TEA-07", "qty": 1, "unit_price_cents": 899},
        {"sku": "SPOON-3", "qty": 4, "unit_price_cents": 150},
        {"sku": "KETTLE-9", "qty": 1, "unit_price_cents": 4999},
        {"sku": "CLOTH-2", "qty": 3, "unit_price_cents": 300},
    ]

    result = durable.run(handler, order(items, order_id="o-2002"))

    assert result.status == "SUCCEEDED"
    expected = [
        {"sku": item["sku"], "qty": item["qty"], "parcel_id": f"parcel_o-2002_{item['sku']}"}
        for item in items
    ]
    # get_results() keeps the items' order, however the iterations interleaved.
    assert result.output["packed"] == expected
    assert result.output["charge"]["amount_cents"] == 2 * 1250 + 899 + 4 * 150 + 4999 + 3 * 300

    pack_items = result.operation("pack_items")
    assert (pack_items.type, pack_items.sub_type, pack_items.status) == (
        "CONTEXT",
        "Map",
        "SUCCEEDED",
    )
    iterations = {op.name: op for op in pack_items.children}
    assert set(iterations) == {f"pack-{item['sku']}" for item in items}
    for item, packed in zip(items, expected, strict=True):
        iteration = iterations[f"pack-{item['sku']}"]
        assert (iteration.type, iteration.sub_type, iteration.status) == (
            "CONTEXT",
            "MapIteration",
            "SUCCEEDED",
        )
        assert iteration.parent_id == pack_items.id
        assert iteration.result == packed
        (step,) = iteration.children
        assert (step.name, step.status, step.attempt) == ("pack_item", "SUCCEEDED", 1)
        assert step.result == packed

    assert result.operation("create_shipping_label").result["parcels"] == len(items)
    # Packing needs no waiting: the map ran in the same invocation as the charge.
    assert len(result.invocations) == 2


def test_empty_order_charges_and_ships_nothing(durable, healthy_gateway):
    result = durable.run(handler, order(items=[], order_id="o-0"))

    assert result.status == "SUCCEEDED"
    output = result.output
    assert output == {
        "order_id": "o-0",
        "status": "NOTHING_TO_SHIP",
        "reservation_id": "res_o-0",
        "reserved_at": output["reserved_at"],
        "charge": None,
        "packed": [],
        "shipment": None,
    }
    assert result.operation("reserve_inventory").result["units"] == 0

    # The map over no items still ran, and succeeded with no iterations.
    assert [(op.name, op.status) for op in result.operations] == [
        ("reserve_inventory", "SUCCEEDED"),
        ("cooling_off", "SUCCEEDED"),
        ("pack_items", "SUCCEEDED"),
    ]
    assert result.operation("pack_items").children == ()
    assert healthy_gateway.calls == []
    assert len(result.invocations) == 2


def test_operation_result_is_the_value_the_step_returned(durable):
    result = durable.run(handler, order())

    assert result.operation("create_shipping_label").result == {
        "tracking_number": "TRK-o-1001",
        "address": "1 Main St, Springfield",
        "parcels": 2,
    }
