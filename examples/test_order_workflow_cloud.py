"""Cloud-mode tests of the order workflow, and the determinism check of every recorded order.

The ``durable_cloud`` tests run three ways, with the same test body:

- ``pytest examples`` runs them against the fake service, like the other tests;
- ``pytest examples --durable-mode=cloud --durable-record-mode=once`` runs them against the
  deployed function ``order-workflow`` and records cassettes in
  ``fixtures/cassettes/examples/test_order_workflow_cloud/``;
- ``pytest examples --durable-mode=cloud`` replays them offline from those cassettes (CI).

The cassettes in this repository were recorded through pytest-durable's stand-in for Lambda
(``--durable-standin``): no AWS account is needed to run or change this example.

``test_the_current_code_replays_every_recorded_order`` replays the current handler code against
every recorded execution without running a step: a renamed, reordered, added or removed step
fails it before a deploy could fail executions in flight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig
from order_workflow import PAYMENT_RETRY, charge_payment, handler, reserve_inventory

CASSETTES = Path(__file__).resolve().parents[1] / "fixtures/cassettes/examples"
RECORDED = sorted((CASSETTES / "test_order_workflow_cloud").glob("*.yaml"))

# In cloud mode the handler runs as the deployed function named here.
pytestmark = pytest.mark.durable_function("order-workflow")


def order(items: list[dict[str, Any]], order_id: str = "o-2001") -> dict[str, Any]:
    # A one-minute cooling-off: a real deployment should not keep a test waiting a day.
    return {
        "order_id": order_id,
        "items": items,
        "address": "1 Main St, Springfield",
        "cooling_off_seconds": 60,
    }


def test_an_order_ships(durable_cloud):
    result = durable_cloud.run(
        handler,
        order(
            [
                {"sku": "MUG-01", "qty": 2, "unit_price_cents": 1250},
                {"sku": "TEA-07", "qty": 1, "unit_price_cents": 899},
            ]
        ),
    )

    assert result.status == "SUCCEEDED"
    assert result.output["status"] == "SHIPPED"
    assert result.output["charge"]["amount_cents"] == 3399
    assert [op.name for op in result.operations] == [
        "reserve_inventory",
        "cooling_off",
        "charge_payment",
        "pack_items",
        "shipping",
    ]
    assert result.operation("cooling_off").duration.total_seconds() == 60
    assert [op.name for op in result.operation("pack_items").children] == [
        "pack-MUG-01",
        "pack-TEA-07",
    ]
    assert result.operation_at("shipping/schedule_pickup").status == "SUCCEEDED"


def test_an_order_without_items_ships_nothing(durable_cloud):
    result = durable_cloud.run(handler, order([], order_id="o-2002"))

    assert result.status == "SUCCEEDED"
    assert result.output["status"] == "NOTHING_TO_SHIP"
    assert [op.name for op in result.operations] == [
        "reserve_inventory",
        "cooling_off",
        "pack_items",
    ]


@pytest.mark.parametrize("cassette", RECORDED, ids=lambda path: path.stem)
def test_the_current_code_replays_every_recorded_order(durable_replay, cassette):
    for report in durable_replay.check(handler, cassette):
        assert report.steps_not_run == []


@durable_execution
def handler_with_charge_renamed(event: dict[str, Any], context: DurableContext) -> Any:
    """What a careless refactoring might deploy: the charge step under a new name."""
    reservation = context.step(reserve_inventory(event["order_id"], event["items"]))
    context.wait(Duration.from_seconds(event.get("cooling_off_seconds", 86400)), name="cooling_off")
    amount = sum(item["qty"] * item["unit_price_cents"] for item in event["items"])
    return context.step(
        charge_payment(event["order_id"], amount),
        name="charge_card",
        config=StepConfig(retry_strategy=PAYMENT_RETRY),
    ), reservation


def test_a_renamed_step_would_break_orders_in_flight(durable_replay):
    report = durable_replay.report(handler_with_charge_renamed, RECORDED[0])

    assert not report.ok
    assert report.kinds()[0] == "renamed"
    assert "STEP 'charge_payment' (#3 at the top level) is now named 'charge_card'" in str(report)
    assert "NonDeterministicExecutionError" in report.sdk_error
