"""An order workflow written as an AWS Lambda durable function.

The workflow, in order:

1. ``reserve_inventory``: a step that reserves stock for the order's items.
2. ``cooling_off``: a 24-hour durable wait (the customer may still cancel; an order may set
   ``cooling_off_seconds`` to shorten it). In Lambda the function is not running during the
   wait; it is re-invoked when the wait is over.
3. ``charge_payment``: a step that charges the card through :data:`payment_gateway`, retried
   with exponential backoff when the gateway is unavailable. A declined card is not retried: the
   reservation is released and the execution fails.
4. ``pack_items``: a ``context.map`` over the items, one ``pack_item`` step per item.
5. ``shipping``: a child context with two steps, ``create_shipping_label`` and
   ``schedule_pickup``.

It returns a summary dict. Steps read the time with ``datetime.now()``, so the summary shows
when each step really ran (``reserved_at``, ``charged_at``, ...).

The payment gateway is a module-level fake (:class:`FakePaymentGateway`) with no I/O; tests
make it fail a number of times, fail forever, or decline the card.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Sequence
from typing import Any

from aws_durable_execution_sdk_python import (
    DurableContext,
    StepContext,
    StepError,
    durable_execution,
    durable_step,
    durable_with_child_context,
)
from aws_durable_execution_sdk_python.config import (
    Duration,
    JitterStrategy,
    MapConfig,
    StepConfig,
)
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

COOLING_OFF = Duration.from_hours(24)


# --------------------------------------------------------------------------- payment gateway


class GatewayUnavailableError(Exception):
    """The gateway could not be reached or answered 503: worth retrying later."""


class PaymentDeclinedError(Exception):
    """The card was declined: retrying will not help."""


class FakePaymentGateway:
    """Stands in for a payment provider's client. Tests configure how it misbehaves.

    ``calls`` records the time (as the handler sees it) and outcome of every charge attempt.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to a healthy gateway with no recorded calls."""
        self._failures_left: int | None = 0
        self._decline_reason: str | None = None
        self.calls: list[tuple[datetime.datetime, str]] = []

    def outage(self, failures: int | None) -> None:
        """Be unavailable for the next ``failures`` charges, or for ever if ``None``."""
        self._failures_left = failures

    def decline(self, reason: str) -> None:
        """Decline every charge from now on."""
        self._decline_reason = reason

    def charge(self, order_id: str, amount_cents: int) -> str:
        """Charge ``amount_cents``; returns the charge id."""
        with self._lock:
            now = datetime.datetime.now(datetime.UTC)
            if self._decline_reason is not None:
                self.calls.append((now, "declined"))
                raise PaymentDeclinedError(
                    f"card declined for order {order_id}: {self._decline_reason}"
                )
            if self._failures_left is None or self._failures_left > 0:
                if self._failures_left is not None:
                    self._failures_left -= 1
                self.calls.append((now, "unavailable"))
                raise GatewayUnavailableError("payment gateway unavailable (HTTP 503)")
            self.calls.append((now, "charged"))
            return f"ch_{order_id}_{amount_cents}"


#: The gateway the workflow uses. Tests reconfigure it (and ``reset()`` it between tests).
payment_gateway = FakePaymentGateway()

#: Retry the charge when the gateway is unavailable: 5 attempts, 10 s, 20 s, 40 s, 80 s apart.
#: No jitter, so the schedule is exact (tests check it; production code may prefer jitter).
PAYMENT_RETRY = create_retry_strategy(
    RetryStrategyConfig(
        max_attempts=5,
        initial_delay=Duration.from_seconds(10),
        backoff_rate=2,
        max_delay=Duration.from_minutes(5),
        jitter_strategy=JitterStrategy.NONE,
        retryable_error_types=[GatewayUnavailableError],
    )
)


# --------------------------------------------------------------------------- steps


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


@durable_step
def reserve_inventory(
    step_context: StepContext, order_id: str, items: list[dict[str, Any]]
) -> dict[str, Any]:
    units = sum(item["qty"] for item in items)
    return {"reservation_id": f"res_{order_id}", "units": units, "reserved_at": _now()}


@durable_step
def release_inventory(step_context: StepContext, reservation_id: str) -> dict[str, Any]:
    return {"reservation_id": reservation_id, "released_at": _now()}


@durable_step
def charge_payment(step_context: StepContext, order_id: str, amount_cents: int) -> dict[str, Any]:
    charge_id = payment_gateway.charge(order_id, amount_cents)
    return {
        "charge_id": charge_id,
        "amount_cents": amount_cents,
        "charged_at": _now(),
        "attempt": step_context.attempt,
    }


@durable_step
def pack_item(step_context: StepContext, order_id: str, sku: str, qty: int) -> dict[str, Any]:
    return {"sku": sku, "qty": qty, "parcel_id": f"parcel_{order_id}_{sku}"}


@durable_step
def create_shipping_label(
    step_context: StepContext, order_id: str, address: str, parcels: int
) -> dict[str, Any]:
    return {"tracking_number": f"TRK-{order_id}", "address": address, "parcels": parcels}


@durable_step
def schedule_pickup(step_context: StepContext, tracking_number: str) -> dict[str, Any]:
    tomorrow = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1)
    return {"tracking_number": tracking_number, "pickup_date": tomorrow.isoformat()}


# --------------------------------------------------------------------------- the workflow


def pack_one(
    context: DurableContext, item: dict[str, Any], index: int, items: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """One map iteration: pack one item of the order."""
    return context.step(pack_item(item["order_id"], item["sku"], item["qty"]))


@durable_with_child_context
def ship_order(context: DurableContext, order_id: str, address: str, parcels: int) -> dict:
    label = context.step(create_shipping_label(order_id, address, parcels))
    pickup = context.step(schedule_pickup(label["tracking_number"]))
    return {"tracking_number": label["tracking_number"], "pickup_date": pickup["pickup_date"]}


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    order_id: str = event["order_id"]
    items: list[dict[str, Any]] = event.get("items", [])
    amount_cents = sum(item["qty"] * item["unit_price_cents"] for item in items)

    reservation = context.step(reserve_inventory(order_id, items))

    # A test stage may shorten the cooling-off period (the cloud-mode tests do).
    cooling_off = Duration.from_seconds(event.get("cooling_off_seconds", COOLING_OFF.seconds))
    context.wait(cooling_off, name="cooling_off")

    charge = None
    if amount_cents > 0:
        try:
            charge = context.step(
                charge_payment(order_id, amount_cents),
                config=StepConfig(retry_strategy=PAYMENT_RETRY),
            )
        except StepError:
            context.step(release_inventory(reservation["reservation_id"]))
            raise

    packed = context.map(
        [{"order_id": order_id, **item} for item in items],
        pack_one,
        name="pack_items",
        config=MapConfig(item_namer=lambda item, index: f"pack-{item['sku']}"),
    ).get_results()

    shipment = None
    if packed:
        shipment = context.run_in_child_context(
            ship_order(order_id, event.get("address", ""), len(packed)), name="shipping"
        )

    return {
        "order_id": order_id,
        "status": "SHIPPED" if shipment else "NOTHING_TO_SHIP",
        "reservation_id": reservation["reservation_id"],
        "reserved_at": reservation["reserved_at"],
        "charge": charge,
        "packed": packed,
        "shipment": shipment,
    }
