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
from typing import TYPE_CHECKING, Any

from pytest_durable.errors import DurableRunError
from pytest_durable.parsing import parse_function_name
from pytest_durable.runner.invocation import (
    DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    LambdaContext,
    invoke_handler,
)
from pytest_durable.service import Operation, OperationStatus

if TYPE_CHECKING:
    from pytest_durable.runner.environment import DurableEnvironment

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


def call_plain_function(
    environment: DurableEnvironment, target: InvokeTarget, operation: Operation
) -> InvokeOutcome:
    """Run a non-durable target the way Lambda runs a function: JSON event in, JSON out, on its
    own thread with a Lambda context, time passing for it, bounded by the wall-clock limit."""
    if target.function is None:
        if target.error is not None:
            return InvokeOutcome("FAILED", error=dict(target.error))
        return InvokeOutcome("SUCCEEDED", result=json.dumps(target.result))
    clock = environment.clock
    name, qualifier = function_key(operation.function_name or target.name)
    context = LambdaContext(
        aws_request_id=str(uuid.uuid4()),
        function_name=name,
        invoked_function_arn=environment.service.function_arn(name, qualifier or "$LATEST"),
        deadline_ms=clock.now_ms() + DEFAULT_FUNCTION_TIMEOUT_SECONDS * 1000,
        clock=clock,
        tenant_id=operation.tenant_id,
    )
    event: Any = json.loads(operation.invoke_input) if operation.invoke_input else None
    with clock.running():
        outcome = invoke_handler(
            target.function,
            event,
            context,
            wall_timeout_seconds=environment.settings.invocation_wall_timeout,
        )
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


def run_chained_invoke(environment: DurableEnvironment, arn: str, operation: Operation) -> None:
    """Run the target of a STARTED chained invoke and settle the operation with its outcome.

    A durable target runs to its end as its own execution (with the ARN the service announced in
    ChainedInvokeStarted), on the same virtual clock; a plain or canned target answers at once.
    If the calling execution ended meanwhile (its own timeout passed while the target ran), the
    outcome has nowhere to go and is dropped, as Lambda would.
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
        outcome = call_plain_function(environment, target, operation)
    service = environment.service
    service.fire_due_timers(arn)
    if service.execution(arn).status.is_terminal:
        return
    service.complete_chained_invoke(
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
    try:
        result = child.run()
    except DurableRunError as problem:
        raise type(problem)(
            f"In the execution {child.arn} that context.invoke({operation.function_name!r}) "
            f"started: {problem}"
        ) from problem
    if result.status == "SUCCEEDED":
        return InvokeOutcome("SUCCEEDED", result=result.result_payload)
    error = None
    if result.error is not None:
        error = {"ErrorType": result.error.type, "ErrorMessage": result.error.message}
    if result.status == "TIMED_OUT":
        # A timed-out target reaches the caller as TIMED_OUT, ChainedInvoke.Timeout
        # (docs/service-semantics.md#operations).
        message = (
            result.error.message if result.error else None
        ) or "The invoked execution timed out"
        return InvokeOutcome(
            "TIMED_OUT", error={"ErrorType": "ChainedInvoke.Timeout", "ErrorMessage": message}
        )
    return InvokeOutcome(result.status, error=error)
