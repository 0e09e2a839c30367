"""Operations rebuilt from an execution's history, the only complete record a caller can read.

A real execution checkpoints inside Lambda: a test process never holds a checkpoint token, so it
cannot call ``GetDurableExecutionState``. What it can read is ``GetDurableExecution`` and
``GetDurableExecutionHistory`` (with ``IncludeExecutionData``). Every status change of an
operation is an event there, with the operation's Id, Type (the event's prefix), SubType, Name
and ParentId, so folding the events per Id gives each operation as the state API would show it.

What history does not carry, and so is not rebuilt: ``ContextDetails.ReplayChildren``, the
state a ``wait_for_condition`` keeps across a RETRY, and the READY flip of a due retry (a
PENDING step whose next attempt is due is shown READY when ``now_ms`` is given). Payloads the
service cut short (``Truncated``) are reported in ``Reconstruction.truncated``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_durable.parsing import parse_function_name
from pytest_durable.service.model import (
    Execution,
    ExecutionStatus,
    Invocation,
    Operation,
    OperationStatus,
    OperationType,
    Wire,
    datetime_to_ms,
)

_TYPE_PREFIXES = (
    ("ChainedInvoke", OperationType.CHAINED_INVOKE),
    ("Execution", OperationType.EXECUTION),
    ("Callback", OperationType.CALLBACK),
    ("Context", OperationType.CONTEXT),
    ("Wait", OperationType.WAIT),
    ("Step", OperationType.STEP),
)
_TERMINAL_SUFFIXES = {
    "Succeeded": OperationStatus.SUCCEEDED,
    "Failed": OperationStatus.FAILED,
    "TimedOut": OperationStatus.TIMED_OUT,
    "Stopped": OperationStatus.STOPPED,
    "Cancelled": OperationStatus.CANCELLED,
}


@dataclass
class Reconstruction:
    """Operations in the order they started, and what could not be rebuilt exactly."""

    operations: list[Operation]
    #: ``(operation Id, event type)`` of every payload the history shows truncated.
    truncated: list[tuple[str, str]] = field(default_factory=list)


def to_ms(value: Any) -> int:
    """Epoch milliseconds of a history timestamp (an aware datetime, or epoch seconds)."""
    if isinstance(value, _dt.datetime):
        return datetime_to_ms(value)
    return round(float(value) * 1000)


def _operation_type(event_type: str) -> tuple[OperationType, str] | None:
    for prefix, operation_type in _TYPE_PREFIXES:
        if event_type.startswith(prefix):
            return operation_type, event_type[len(prefix) :]
    return None


def _payload(details: Mapping[str, Any], key: str, note: list[bool]) -> Any:
    wrapper = details.get(key)
    if not isinstance(wrapper, Mapping):
        return None
    if wrapper.get("Truncated"):
        note.append(True)
    return wrapper.get("Payload")


def operations_from_history(
    events: Iterable[Mapping[str, Any]], *, now_ms: int | None = None
) -> Reconstruction:
    """Fold history events into operations (the EXECUTION operation included), oldest first."""
    operations: dict[str, Operation] = {}
    truncated: list[tuple[str, str]] = []
    for event in events:
        event_type = str(event.get("EventType", ""))
        kind = _operation_type(event_type)
        operation_id = event.get("Id")
        if kind is None or not operation_id:
            continue  # InvocationCompleted, ExecutionPaused/Resumed: not operations
        operation_type, suffix = kind
        at = to_ms(event["EventTimestamp"])
        details: Mapping[str, Any] = event.get(f"{event_type}Details") or {}
        operation = operations.get(operation_id)
        if operation is None:
            operation = Operation(
                id=operation_id,
                type=operation_type,
                status=OperationStatus.STARTED,
                start_ms=at,
                parent_id=event.get("ParentId"),
                name=None if operation_type is OperationType.EXECUTION else event.get("Name"),
                sub_type=event.get("SubType"),
            )
            operations[operation_id] = operation
        cut: list[bool] = []
        _apply(operation, suffix, details, at, cut)
        if cut:
            truncated.append((operation_id, event_type))
    result = list(operations.values())
    if now_ms is not None:
        for operation in result:
            due = operation.next_attempt_ms
            if operation.status is OperationStatus.PENDING and due is not None and due <= now_ms:
                operation.status = OperationStatus.READY
                operation.next_attempt_ms = None
    return Reconstruction(result, truncated)


def _apply(
    operation: Operation, suffix: str, details: Mapping[str, Any], at: int, cut: list[bool]
) -> None:
    if suffix == "Started":
        _started(operation, details, at, cut)
        return
    if operation.type is OperationType.STEP and suffix in ("Succeeded", "Failed"):
        _step_outcome(operation, suffix, details, at, cut)
        return
    status = _TERMINAL_SUFFIXES.get(suffix)
    if status is None:
        return
    operation.status = status
    operation.end_ms = at
    if operation.type is OperationType.EXECUTION:
        return  # the execution's outcome is GetDurableExecution's, not an operation detail
    if status is OperationStatus.SUCCEEDED:
        if operation.type is not OperationType.WAIT:
            operation.result = _payload(details, "Result", cut)
    else:
        operation.error = _error(details, cut)


def _started(operation: Operation, details: Mapping[str, Any], at: int, cut: list[bool]) -> None:
    operation.status = OperationStatus.STARTED
    match operation.type:
        case OperationType.EXECUTION:
            operation.input_payload = _payload(details, "Input", cut) or ""
        case OperationType.STEP:
            operation.next_attempt_ms = None
        case OperationType.WAIT:
            operation.wait_seconds = details.get("Duration")
            if details.get("ScheduledEndTimestamp") is not None:
                operation.scheduled_end_ms = to_ms(details["ScheduledEndTimestamp"])
        case OperationType.CALLBACK:
            operation.callback_id = details.get("CallbackId")
            operation.timeout_seconds = int(details.get("Timeout") or 0)
            operation.heartbeat_timeout_seconds = int(details.get("HeartbeatTimeout") or 0)
        case OperationType.CHAINED_INVOKE:
            operation.function_name = details.get("FunctionName")
            operation.tenant_id = details.get("TenantId")
            operation.invoke_input = _payload(details, "Input", cut)
            operation.child_execution_arn = details.get("DurableExecutionArn")
        case _:
            pass


def _step_outcome(
    operation: Operation, suffix: str, details: Mapping[str, Any], at: int, cut: list[bool]
) -> None:
    retry = details.get("RetryDetails") or {}
    operation.attempt = int(retry.get("CurrentAttempt", operation.attempt + 1))
    delay = retry.get("NextAttemptDelaySeconds")
    if delay is not None:
        # A RETRY: the step waits for its next attempt. A failed try is a StepFailed with its
        # error; a wait_for_condition poll is a StepSucceeded with the state carried on.
        operation.status = OperationStatus.PENDING
        if suffix == "Succeeded":
            operation.result = _payload(details, "Result", cut)
            operation.error = None
        else:
            operation.error = _error(details, cut)
        operation.next_attempt_ms = at + int(delay) * 1000
    elif suffix == "Succeeded":
        operation.status = OperationStatus.SUCCEEDED
        operation.result = _payload(details, "Result", cut)
        operation.error = None
        operation.end_ms = at
        operation.next_attempt_ms = None
    else:
        operation.status = OperationStatus.FAILED
        operation.error = _error(details, cut)
        operation.result = None
        operation.end_ms = at
        operation.next_attempt_ms = None


def _error(details: Mapping[str, Any], cut: list[bool]) -> Wire | None:
    error = _payload(details, "Error", cut)
    return dict(error) if isinstance(error, Mapping) else None


# ----------------------------------------------------------------- wire <-> model


def operation_from_wire(wire: Mapping[str, Any]) -> Operation:
    """The service model of a botocore ``Operation`` (the inverse of ``Operation.to_wire``)."""
    operation = Operation(
        id=wire["Id"],
        type=OperationType(wire["Type"]),
        status=OperationStatus(wire["Status"]),
        start_ms=to_ms(wire["StartTimestamp"]),
        parent_id=wire.get("ParentId"),
        name=wire.get("Name"),
        sub_type=wire.get("SubType"),
        end_ms=to_ms(wire["EndTimestamp"]) if wire.get("EndTimestamp") is not None else None,
    )
    execution = wire.get("ExecutionDetails")
    if execution is not None:
        operation.input_payload = execution.get("InputPayload")
    step = wire.get("StepDetails")
    if step is not None:
        operation.attempt = int(step.get("Attempt", 0))
        if step.get("NextAttemptTimestamp") is not None:
            operation.next_attempt_ms = to_ms(step["NextAttemptTimestamp"])
    wait = wire.get("WaitDetails")
    if wait is not None and wait.get("ScheduledEndTimestamp") is not None:
        operation.scheduled_end_ms = to_ms(wait["ScheduledEndTimestamp"])
    context = wire.get("ContextDetails")
    if context is not None and "ReplayChildren" in context:
        operation.replay_children = bool(context["ReplayChildren"])
    callback = wire.get("CallbackDetails")
    if callback is not None:
        operation.callback_id = callback.get("CallbackId")
    for key in ("StepDetails", "ContextDetails", "CallbackDetails", "ChainedInvokeDetails"):
        details = wire.get(key)
        if details is not None:
            operation.result = details.get("Result")
            error = details.get("Error")
            operation.error = dict(error) if error is not None else None
    return operation


# ----------------------------------------------------------------- executions


_EXECUTION_STATUSES = {status.value for status in ExecutionStatus}


def execution_from_cloud(described: Mapping[str, Any], events: list[Wire]) -> Execution:
    """An :class:`Execution` as the service would hold it, from ``GetDurableExecution`` (with
    ``IncludeExecutionData``) and the full history: what results and cassettes are built from."""
    arn = str(described["DurableExecutionArn"])
    function_arn = str(described.get("FunctionArn") or arn.partition("/durable-execution/")[0])
    execution_id = arn.rsplit("/", 1)[-1]
    reconstruction = operations_from_history(events)
    status = str(described.get("Status", "RUNNING"))
    config = described.get("DurableConfig") or {}
    execution = Execution(
        arn=arn,
        name=str(described.get("DurableExecutionName") or arn.split("/")[-2]),
        execution_id=execution_id,
        function_name=parse_function_name(function_arn).name,
        function_arn=function_arn,
        version=str(described.get("Version") or parse_function_name(function_arn).version),
        input_payload=str(described.get("InputPayload") or _input_of(reconstruction)),
        start_ms=to_ms(described["StartTimestamp"]),
        execution_timeout_seconds=int(config.get("ExecutionTimeout") or 0),
        retention_period_days=int(config.get("RetentionPeriodInDays") or 0),
        status=ExecutionStatus(status)
        if status in _EXECUTION_STATUSES
        else ExecutionStatus.RUNNING,
        end_ms=to_ms(described["EndTimestamp"]) if described.get("EndTimestamp") else None,
        result=described.get("Result"),
        error=dict(described["Error"]) if described.get("Error") else None,
    )
    execution.operations = {op.id: op for op in reconstruction.operations}
    execution.history = list(events)
    execution.invocations = invocations_from_history(events)
    return execution


def _input_of(reconstruction: Reconstruction) -> str:
    for operation in reconstruction.operations:
        if operation.type is OperationType.EXECUTION:
            return operation.input_payload or ""
    return ""


def invocations_from_history(events: Iterable[Mapping[str, Any]]) -> list[Invocation]:
    """One :class:`Invocation` per ``InvocationCompleted`` event."""
    invocations = []
    for event in events:
        if event.get("EventType") != "InvocationCompleted":
            continue
        details = event.get("InvocationCompletedDetails") or {}
        error = details.get("Error") or {}
        payload = error.get("Payload") if isinstance(error, Mapping) else None
        end = details.get("EndTimestamp", event.get("EventTimestamp"))
        invocations.append(
            Invocation(
                request_id=str(details.get("RequestId", "")),
                start_ms=to_ms(details.get("StartTimestamp", end)),
                checkpoint_token="",
                end_ms=to_ms(end),
                error=dict(payload) if isinstance(payload, Mapping) else None,
                outcome="CRASHED" if payload else None,
            )
        )
    return invocations
