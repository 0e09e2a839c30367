"""Targets of ``context.invoke``: what runs when a handler invokes another function.

Register a durable handler (it runs as its own child execution, with its own history, on the
same virtual clock), a plain function (called once with the payload), or a canned result or
error. Names match the ``FunctionName`` the handler passes, as a bare name, a qualified name or
an ARN: ``orders``, ``orders:prod`` and ``arn:aws:lambda:us-east-1:123456789012:function:orders``
all name the function ``orders``.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from pytest_durable.service import Operation, OperationStatus

if TYPE_CHECKING:
    from pytest_durable.runner.environment import DurableEnvironment

_ARN = re.compile(
    r"^arn:[^:]+:lambda:[^:]*:\d{12}:function:(?P<name>[^:]+)(?::(?P<qualifier>.+))?$"
)
_PARTIAL = re.compile(r"^(?:\d{12}:)?(?:function:)?(?P<name>[^:]+)(?::(?P<qualifier>.+))?$")

UNSET: Any = object()


def function_key(function_name: str) -> tuple[str, str | None]:
    """``(name, qualifier)`` of a FunctionName in any of the forms Lambda accepts."""
    match = _ARN.match(function_name) or _PARTIAL.match(function_name)
    if match is None:
        return function_name, None
    return match.group("name"), match.group("qualifier")


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

    @property
    def kind(self) -> str:
        if self.durable_handler is not None:
            return "durable"
        if self.function is not None:
            return "function"
        return "canned"


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


def call_plain_function(target: InvokeTarget, payload: str | None, context: Any) -> InvokeOutcome:
    """Run a non-durable target the way Lambda runs a function: JSON event in, JSON out."""
    if target.function is None:
        if target.error is not None:
            return InvokeOutcome("FAILED", error=dict(target.error))
        return InvokeOutcome("SUCCEEDED", result=json.dumps(target.result))
    event = json.loads(payload) if payload else None
    try:
        value = target.function(event, context)
    except Exception as error:
        return InvokeOutcome("FAILED", error=error_object(error))
    return InvokeOutcome("SUCCEEDED", result=json.dumps(value))


def run_chained_invoke(environment: DurableEnvironment, arn: str, operation: Operation) -> None:
    """Run the target of a STARTED chained invoke and settle the operation with its outcome.

    A durable target runs to its end as its own execution (with the ARN the service announced in
    ChainedInvokeStarted), on the same virtual clock; a plain or canned target answers at once.
    """
    function_name = operation.function_name or ""
    target = environment.invoke_targets.find(function_name)
    if target is None:
        outcome = InvokeOutcome(
            "FAILED",
            error={
                "ErrorType": "ResourceNotFoundException",
                "ErrorMessage": environment.invoke_targets.missing_message(function_name),
            },
        )
    elif target.durable_handler is not None:
        outcome = _run_durable_target(environment, target, operation)
    else:
        context = SimpleNamespace(
            function_name=target.name,
            aws_request_id=operation.id,
            tenant_id=operation.tenant_id,
        )
        outcome = call_plain_function(target, operation.invoke_input, context)
    environment.service.complete_chained_invoke(
        arn,
        operation.id,
        OperationStatus(outcome.status),
        result=outcome.result,
        error=outcome.error,
    )


def _run_durable_target(
    environment: DurableEnvironment, target: InvokeTarget, operation: Operation
) -> InvokeOutcome:
    assert target.durable_handler is not None
    child = environment.start(
        target.durable_handler,
        input_payload=operation.invoke_input,
        function_name=function_key(operation.function_name or target.name)[0],
        execution_timeout=target.execution_timeout,
        reserved_arn=operation.child_execution_arn,
    )
    result = child.run()
    if result.status == "SUCCEEDED":
        return InvokeOutcome("SUCCEEDED", result=result.result_payload)
    error = None
    if result.error is not None:
        error = {"ErrorType": result.error.type, "ErrorMessage": result.error.message}
    if result.status == "TIMED_OUT":
        # protocol.md §4: a timed-out target reaches the caller as TIMED_OUT, ChainedInvoke.Timeout.
        message = (
            result.error.message if result.error else None
        ) or "The invoked execution timed out"
        return InvokeOutcome(
            "TIMED_OUT", error={"ErrorType": "ChainedInvoke.Timeout", "ErrorMessage": message}
        )
    return InvokeOutcome(result.status, error=error)
