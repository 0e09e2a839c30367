"""Handlers for the production-replay tests: a checkout as deployed, and the changes a deploy
might bring. Module level, so ``pytest-durable replay --handler`` can import them.

Every step body appends its name to ``BODIES``: a replay must leave it empty.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

BODIES: list[str] = []


def _body(name: str) -> Any:
    def run(_step_context: Any) -> str:
        BODIES.append(name)
        return f"{name}-done"

    return run


def _checkout(first: str, second: str) -> Any:
    @durable_execution
    def handler(event: Any, context: DurableContext) -> dict[str, Any]:
        reserved = context.step(_body(first), name=first)
        approval = context.wait_for_callback(lambda callback_id, _ctx: None, name="approval")
        charged = context.step(_body(second), name=second)
        return {"reserved": reserved, "approval": approval, "charged": charged}

    return handler


checkout = _checkout("reserve", "charge")
#: The deploy renames the first step: every execution in flight breaks.
checkout_renamed = _checkout("hold", "charge")
#: The deploy renames a step after the callback: executions still waiting on it are fine, those
#: past it are not.
checkout_renamed_later = _checkout("reserve", "bill")
for _name, _handler in list(globals().items()):
    if _name.startswith("checkout"):
        _handler.__qualname__ = _handler.__name__ = _name
