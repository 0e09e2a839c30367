"""Targets of ``context.invoke``: what runs when a handler invokes another function.

Register a durable handler (it runs as its own child execution, with its own history, on the
same virtual clock), a plain function (called once with the payload), or a canned result or
error. Names match the ``FunctionName`` the handler passes, as a bare name, a qualified name or
an ARN: ``orders``, ``orders:prod`` and ``arn:aws:lambda:us-east-1:123456789012:function:orders``
all name the function ``orders``.
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_durable.clock import VirtualClock
from pytest_durable.parsing import parse_function_name
from pytest_durable.runner.invocation import (
    DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    InvocationOutcome,
    LambdaContext,
)
from pytest_durable.service import DurableService, Execution, Operation

UNSET: Any = object()


def function_key(function_name: str) -> tuple[str, str | None]:
    """``(name, qualifier)`` of a FunctionName in any of the forms Lambda accepts."""
    parsed = parse_function_name(function_name)
    return parsed.name, parsed.qualifier


@dataclass(frozen=True)
class InvokeTarget:
    """One registered target. Exactly one of ``durable_handler``, ``function``, or a canned
    ``result``/``error`` is set."""

    name: str
    durable_handler: Callable[[Any, Any], Any] | None = None
    function: Callable[[Any, Any], Any] | None = None
    result: Any = UNSET
    error: dict[str, Any] | None = None
    execution_timeout: int | None = None


@dataclass(frozen=True)
class InvokeOutcome:
    """How a chained invoke ended, for the CHAINED_INVOKE operation."""

    status: str  # SUCCEEDED | FAILED | TIMED_OUT | STOPPED
    result: str | None = None
    error: dict[str, Any] | None = None


def error_object(error: BaseException) -> dict[str, Any]:
    return {
        "ErrorType": type(error).__name__,
        "ErrorMessage": str(error),
        "StackTrace": traceback.format_exception(error),
    }


class InvokeRegistry:
    """The functions a run's handlers may invoke, keyed by (name, qualifier)."""

    def __init__(self) -> None:
        self._targets: dict[tuple[str, str | None], InvokeTarget] = {}

    def add(self, function_name: str, target: InvokeTarget) -> None:
        self._targets[function_key(function_name)] = target

    def find(self, function_name: str) -> InvokeTarget | None:
        name, qualifier = function_key(function_name)
        return self._targets.get((name, qualifier)) or self._targets.get((name, None))

    def names(self) -> list[str]:
        return sorted(name + (f":{q}" if q else "") for name, q in self._targets)

    def missing_message(self, function_name: str) -> str:
        known = ", ".join(self.names()) or "none"
        return (
            f"No function {function_name!r} is registered for chained invokes in this test "
            f"(registered: {known}). Register it before the run: "
            f"durable.register_durable_function({function_name!r}, handler), "
            f"durable.register_function({function_name!r}, fn) or "
            f"durable.register_function({function_name!r}, result=...)."
        )


def canned_outcome(target: InvokeTarget) -> InvokeOutcome:
    """The answer of a target registered with ``result=`` or ``error=``."""
    if target.error is not None:
        return InvokeOutcome("FAILED", error=dict(target.error))
    return InvokeOutcome("SUCCEEDED", result=json.dumps(target.result))


def missing_outcome(registry: InvokeRegistry, function_name: str) -> InvokeOutcome:
    """A FunctionName nothing is registered for: Lambda's ResourceNotFoundException."""
    return InvokeOutcome(
        "FAILED",
        error={
            "ErrorType": "ResourceNotFoundException",
            "ErrorMessage": registry.missing_message(function_name),
        },
    )


def plain_context(
    service: DurableService, clock: VirtualClock, target: InvokeTarget, operation: Operation
) -> LambdaContext:
    """The Lambda context a plain target is called with (its own function name and ARN)."""
    name, qualifier = function_key(operation.function_name or target.name)
    return LambdaContext(
        aws_request_id=str(uuid.uuid4()),
        function_name=name,
        invoked_function_arn=service.function_arn(name, qualifier or "$LATEST"),
        deadline_ms=clock.now_ms() + DEFAULT_FUNCTION_TIMEOUT_SECONDS * 1000,
        clock=clock,
        tenant_id=operation.tenant_id,
    )


def plain_event(operation: Operation) -> Any:
    """A plain target's event: the invoke's payload, as JSON."""
    return json.loads(operation.invoke_input) if operation.invoke_input else None


def plain_outcome(outcome: InvocationOutcome) -> InvokeOutcome:
    """How Lambda reports a plain function's call: its JSON result, or the function error."""
    if outcome.crashed:
        return InvokeOutcome("FAILED", error=outcome.error_object())
    try:
        return InvokeOutcome("SUCCEEDED", result=json.dumps(outcome.output))
    except (TypeError, ValueError) as error:  # Lambda could not serialise the return value
        return InvokeOutcome(
            "FAILED",
            error={
                "ErrorType": "Runtime.MarshalError",
                "ErrorMessage": f"Unable to marshal: {error}",
            },
        )


def durable_outcome(execution: Execution) -> InvokeOutcome:
    """How a durable target's execution ended, as the caller's CHAINED_INVOKE sees it."""
    status = execution.status.value
    if status == "SUCCEEDED":
        return InvokeOutcome("SUCCEEDED", result=execution.result)
    error = execution.error or {}
    if status == "TIMED_OUT":
        # A timed-out target reaches the caller as TIMED_OUT, ChainedInvoke.Timeout.
        message = error.get("ErrorMessage") or "The invoked execution timed out"
        return InvokeOutcome(
            "TIMED_OUT", error={"ErrorType": "ChainedInvoke.Timeout", "ErrorMessage": message}
        )
    shown: dict[str, Any] = {k: error[k] for k in ("ErrorType", "ErrorMessage") if k in error}
    return InvokeOutcome(status, error=shown or None)
