"""Handlers for the cassette tests: one workflow and the code changes a deploy might bring.

Module level, so the ``pytest-durable replay`` command can import them by ``module:function``.
Every step body appends its name to ``BODIES``: a determinism replay must leave it empty.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration

BODIES: list[str] = []


def _body(name: str) -> Any:
    def run(_step_context: Any) -> str:
        BODIES.append(name)
        return f"{name}-done"

    return run


def _workflow(plan: list[str]) -> Any:
    """A handler running ``plan`` in order: ``name`` is a step, ``wait:name`` a 5 s wait."""

    @durable_execution
    def handler(event: Any, context: DurableContext) -> list[str]:
        done = []
        for item in plan:
            if item.startswith("wait:"):
                context.wait(Duration.from_seconds(5), name=item[5:])
            else:
                done.append(context.step(_body(item), name=item))
        return done

    return handler


# The recorded code, and the changes the replay must name.
orders = _workflow(["reserve", "charge", "ship"])
orders_renamed = _workflow(["reserve", "bill", "ship"])
orders_reordered = _workflow(["reserve", "ship", "charge"])
orders_added = _workflow(["reserve", "audit", "charge", "ship"])
orders_added_at_end = _workflow(["reserve", "charge", "ship", "notify"])
orders_removed = _workflow(["reserve", "ship"])
orders_retyped = _workflow(["reserve", "wait:charge", "ship"])
orders_with_wait = _workflow(["reserve", "wait:cool-off", "charge", "ship"])
for _name, _handler in list(globals().items()):
    if _name.startswith("orders"):
        _handler.__qualname__ = _handler.__name__ = _name


@durable_execution
def fulfilment(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    """Steps, a wait, a callback, a map and a child context: every kind the cloud runner reads."""
    reserved = context.step(_body("reserve"), name="reserve")
    context.wait(Duration.from_hours(24), name="cooling-off")
    approval = context.create_callback(name="approval")
    packed = context.map(
        event.get("items", []),
        lambda ctx, item, index, items: ctx.step(lambda _: f"packed-{item}", name="pack"),
        name="pack-items",
    ).get_results()

    def ship(ctx: DurableContext) -> str:
        label = ctx.step(_body("label"), name="label")
        return ctx.step(lambda _: f"shipped-with-{label}", name="pickup")

    shipped = context.run_in_child_context(ship, name="shipping")
    return {
        "reserved": reserved,
        "approval": approval.result(),
        "packed": packed,
        "shipped": shipped,
    }


@durable_execution
def fulfilment_renamed_in_child(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    """``fulfilment`` with the child context's first step renamed."""
    reserved = context.step(_body("reserve"), name="reserve")
    context.wait(Duration.from_hours(24), name="cooling-off")
    approval = context.create_callback(name="approval")
    packed = context.map(
        event.get("items", []),
        lambda ctx, item, index, items: ctx.step(lambda _: f"packed-{item}", name="pack"),
        name="pack-items",
    ).get_results()

    def ship(ctx: DurableContext) -> str:
        label = ctx.step(_body("label"), name="print-label")
        return ctx.step(lambda _: f"shipped-with-{label}", name="pickup")

    shipped = context.run_in_child_context(ship, name="shipping")
    return {
        "reserved": reserved,
        "approval": approval.result(),
        "packed": packed,
        "shipped": shipped,
    }


@durable_execution
def declined(event: dict[str, Any], context: DurableContext) -> None:
    context.step(_body("reserve"), name="reserve")
    raise ValueError(f"card declined for {event['order']}")
