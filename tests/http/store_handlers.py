"""Handlers ``pytest-durable serve --store --function`` runs in the restart tests: importable
by ``module:function`` from this directory."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def approval(event: Any, context: DurableContext) -> dict[str, Any]:
    """Reserve, wait for a human's approval (a callback), then ship."""
    reserved = context.step(lambda _: f"reserved-{event['order']}", name="reserve")
    callback = context.create_callback(name="approval")
    answer = callback.result()
    shipped = context.step(lambda _: f"shipped-{event['order']}", name="ship")
    return {"reserved": reserved, "approval": answer, "shipped": shipped}
