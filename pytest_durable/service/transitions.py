"""Applying validated updates and firing timers: every status change of an operation.

Each function mutates one execution, records the history event the change produces and marks the
operation changed, so the next checkpoint response (or invocation) delivers it to the handler.
Per-type behaviour follows docs/service-semantics.md#operations (the SDK's reads of each status) and
the official testing library's processors: STEP RETRY keeps a wait_for_condition Payload as the
Result, SUCCEED/FAIL/RETRY count a completed attempt, a due retry turns READY, a due WAIT SUCCEEDED.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from pytest_durable.parsing import parse_function_name
from pytest_durable.service.history import error_of, record_event, result_of, retry_details
from pytest_durable.service.model import (
    Execution,
    ExecutionStatus,
    Operation,
    OperationAction,
    OperationStatus,
    OperationType,
    Wire,
    ms_to_datetime,
)
from pytest_durable.service.validation import ValidatedUpdate


@dataclass(frozen=True)
class Minting:
    """Identifiers the service mints while applying updates (kept out of the pure transitions)."""

    callback_id: Callable[[], str]
    #: The ARN a chained invoke's target execution will have, from the invoke's FunctionName.
    child_execution_arn: Callable[[str], str | None]


def new_callback_id() -> str:
    """A CallbackId in the model's alphabet (``[A-Za-z0-9+/]+={0,2}``), like the service's."""
    return secrets.token_urlsafe(48).replace("-", "+").replace("_", "/")


def apply_update(
    execution: Execution,
    update: ValidatedUpdate,
    now_ms: int,
    ids: Minting,
) -> Operation | None:
    """Apply one validated update. Returns the operation it created or changed (None for
    EXECUTION, whose outcome is settled when the invocation ends)."""
    raw = update.raw
    if update.type is OperationType.EXECUTION:
        if update.action is OperationAction.SUCCEED:
            execution.pending_outcome = (ExecutionStatus.SUCCEEDED, raw.get("Payload"), None)
        else:
            execution.pending_outcome = (ExecutionStatus.FAILED, None, raw.get("Error"))
        return None

    operation = execution.operations.get(update.id)
    if operation is None:
        operation = Operation(
            id=update.id,
            type=update.type,
            status=OperationStatus.STARTED,
            start_ms=now_ms,
            parent_id=raw.get("ParentId"),
            name=raw.get("Name"),
            sub_type=raw.get("SubType"),
        )
        execution.operations[update.id] = operation
        if update.action is not OperationAction.START:
            # A completion without a recorded START (allowed for STEP and CONTEXT): the
            # operation still starts before it completes, so its history shows both.
            _record_started(execution, operation, raw, now_ms)
    _APPLIERS[update.type](execution, operation, update.action, raw, now_ms, ids)
    execution.mark_changed(operation.id)
    return operation


def _record_started(execution: Execution, operation: Operation, raw: Wire, now_ms: int) -> None:
    if operation.type is OperationType.STEP:
        record_event(execution, "StepStarted", now_ms, {}, operation)
    elif operation.type is OperationType.CONTEXT:
        record_event(execution, "ContextStarted", now_ms, {}, operation)


def _complete(operation: Operation, status: OperationStatus, now_ms: int) -> None:
    operation.status = status
    operation.end_ms = now_ms


def _apply_step(
    execution: Execution,
    operation: Operation,
    action: OperationAction,
    raw: Wire,
    now_ms: int,
    _ids: Minting,
) -> None:
    match action:
        case OperationAction.START:
            operation.status = OperationStatus.STARTED
            operation.next_attempt_ms = None
            record_event(execution, "StepStarted", now_ms, {}, operation)
        case OperationAction.RETRY:
            delay = int(raw["StepOptions"]["NextAttemptDelaySeconds"])
            operation.attempt += 1
            operation.status = OperationStatus.PENDING
            operation.next_attempt_ms = now_ms + delay * 1000
            operation.error = raw.get("Error")
            # wait_for_condition sends its state as the RETRY Payload and reads it back as the
            # step's Result when it runs again (docs/service-semantics.md#operations).
            operation.result = raw.get("Payload")
            execution.timers[operation.id] = operation.next_attempt_ms
            retry = retry_details(operation.attempt, delay)
            if operation.error is None:
                # A RETRY without an Error is a poll that went well (wait_for_condition keeps
                # its state in the Payload): the real service records it as StepSucceeded with
                # the state as Result (conformance 6.1, 6.5; docs/service-semantics.md#operations).
                details: Wire = {"Result": result_of(operation.result), "RetryDetails": retry}
                record_event(execution, "StepSucceeded", now_ms, details, operation)
            else:
                details = {"Error": error_of(operation.error), "RetryDetails": retry}
                record_event(execution, "StepFailed", now_ms, details, operation)
        case OperationAction.SUCCEED:
            operation.attempt += 1
            operation.result = raw.get("Payload")
            operation.error = None
            operation.next_attempt_ms = None
            _complete(operation, OperationStatus.SUCCEEDED, now_ms)
            record_event(
                execution,
                "StepSucceeded",
                now_ms,
                {
                    "Result": result_of(operation.result),
                    "RetryDetails": retry_details(operation.attempt),
                },
                operation,
            )
        case OperationAction.FAIL:
            operation.attempt += 1
            operation.error = raw.get("Error")
            operation.result = None
            operation.next_attempt_ms = None
            _complete(operation, OperationStatus.FAILED, now_ms)
            record_event(
                execution,
                "StepFailed",
                now_ms,
                {
                    "Error": error_of(operation.error),
                    "RetryDetails": retry_details(operation.attempt),
                },
                operation,
            )
        case _:  # pragma: no cover - excluded by validation
            raise AssertionError(action)


def _apply_context(
    execution: Execution,
    operation: Operation,
    action: OperationAction,
    raw: Wire,
    now_ms: int,
    _ids: Minting,
) -> None:
    match action:
        case OperationAction.START:
            record_event(execution, "ContextStarted", now_ms, {}, operation)
        case OperationAction.SUCCEED:
            operation.result = raw.get("Payload")
            options = raw.get("ContextOptions") or {}
            if "ReplayChildren" in options:
                operation.replay_children = bool(options["ReplayChildren"])
            _complete(operation, OperationStatus.SUCCEEDED, now_ms)
            record_event(
                execution,
                "ContextSucceeded",
                now_ms,
                {"Result": result_of(operation.result)},
                operation,
            )
        case OperationAction.FAIL:
            operation.error = raw.get("Error")
            _complete(operation, OperationStatus.FAILED, now_ms)
            record_event(
                execution, "ContextFailed", now_ms, {"Error": error_of(operation.error)}, operation
            )
        case _:  # pragma: no cover - excluded by validation
            raise AssertionError(action)


def _apply_wait(
    execution: Execution,
    operation: Operation,
    action: OperationAction,
    raw: Wire,
    now_ms: int,
    _ids: Minting,
) -> None:
    if action is OperationAction.CANCEL:
        execution.timers.pop(operation.id, None)
        _complete(operation, OperationStatus.CANCELLED, now_ms)
        record_event(execution, "WaitCancelled", now_ms, {}, operation)
        return
    seconds = int(raw["WaitOptions"]["WaitSeconds"])
    operation.wait_seconds = seconds
    operation.scheduled_end_ms = now_ms + seconds * 1000
    execution.timers[operation.id] = operation.scheduled_end_ms
    record_event(
        execution,
        "WaitStarted",
        now_ms,
        {"Duration": seconds, "ScheduledEndTimestamp": ms_to_datetime(operation.scheduled_end_ms)},
        operation,
    )


def _apply_callback(
    execution: Execution,
    operation: Operation,
    _action: OperationAction,
    raw: Wire,
    now_ms: int,
    ids: Minting,
) -> None:
    options = raw.get("CallbackOptions") or {}
    operation.callback_id = ids.callback_id()
    operation.timeout_seconds = int(options.get("TimeoutSeconds", 0))
    operation.heartbeat_timeout_seconds = int(options.get("HeartbeatTimeoutSeconds", 0))
    if operation.timeout_seconds:
        operation.timeout_deadline_ms = now_ms + operation.timeout_seconds * 1000
    if operation.heartbeat_timeout_seconds:
        operation.heartbeat_deadline_ms = now_ms + operation.heartbeat_timeout_seconds * 1000
    schedule_callback_timer(execution, operation)
    details: Wire = {"CallbackId": operation.callback_id}
    if operation.heartbeat_timeout_seconds:
        details["HeartbeatTimeout"] = operation.heartbeat_timeout_seconds
    if operation.timeout_seconds:
        details["Timeout"] = operation.timeout_seconds
    record_event(execution, "CallbackStarted", now_ms, details, operation)


def schedule_callback_timer(execution: Execution, operation: Operation) -> None:
    deadlines = [
        d for d in (operation.timeout_deadline_ms, operation.heartbeat_deadline_ms) if d is not None
    ]
    if deadlines:
        execution.timers[operation.id] = min(deadlines)
    else:
        execution.timers.pop(operation.id, None)


def _apply_chained_invoke(
    execution: Execution,
    operation: Operation,
    _action: OperationAction,
    raw: Wire,
    now_ms: int,
    ids: Minting,
) -> None:
    options = raw.get("ChainedInvokeOptions") or {}
    operation.function_name = options.get("FunctionName")
    operation.tenant_id = options.get("TenantId")
    operation.invoke_input = raw.get("Payload")
    operation.child_execution_arn = ids.child_execution_arn(operation.function_name or "")
    details: Wire = {"FunctionName": operation.function_name}
    if operation.tenant_id is not None:
        details["TenantId"] = operation.tenant_id
    details["Input"] = result_of(operation.invoke_input)
    details["ExecutedVersion"] = parse_function_name(operation.function_name or "").version
    if operation.child_execution_arn is not None:
        details["DurableExecutionArn"] = operation.child_execution_arn
    record_event(execution, "ChainedInvokeStarted", now_ms, details, operation)


_Applier = Callable[[Execution, Operation, OperationAction, Wire, int, Minting], None]
_APPLIERS: dict[OperationType, _Applier] = {
    OperationType.STEP: _apply_step,
    OperationType.CONTEXT: _apply_context,
    OperationType.WAIT: _apply_wait,
    OperationType.CALLBACK: _apply_callback,
    OperationType.CHAINED_INVOKE: _apply_chained_invoke,
}


_STATUS_WHEN_DUE = {
    OperationType.WAIT: OperationStatus.SUCCEEDED,
    OperationType.STEP: OperationStatus.READY,
    OperationType.CALLBACK: OperationStatus.TIMED_OUT,
}


def statuses_after_due_timers(execution: Execution, now_ms: int) -> dict[str, OperationStatus]:
    """The status each operation with a timer due at ``now_ms`` will have once it fires, without
    firing anything: what a batch is validated against (see :func:`fire_due_timers`)."""
    return {
        op_id: _STATUS_WHEN_DUE[execution.operations[op_id].type]
        for op_id, due_ms in execution.timers.items()
        if due_ms <= now_ms
        and execution.operations.get(op_id) is not None
        and execution.operations[op_id].type in _STATUS_WHEN_DUE
    }


def fire_due_timers(execution: Execution, now_ms: int) -> list[Operation]:
    """Complete every timer due at ``now_ms``, earliest first. Returns the operations changed."""
    due = sorted(
        ((due_ms, op_id) for op_id, due_ms in execution.timers.items() if due_ms <= now_ms),
    )
    fired: list[Operation] = []
    for due_ms, op_id in due:
        del execution.timers[op_id]
        operation = execution.operations[op_id]
        match operation.type:
            case OperationType.WAIT:
                _complete(operation, OperationStatus.SUCCEEDED, due_ms)
                record_event(
                    execution,
                    "WaitSucceeded",
                    due_ms,
                    {"Duration": operation.wait_seconds},
                    operation,
                )
            case OperationType.STEP:
                operation.status = OperationStatus.READY
                operation.next_attempt_ms = None
            case OperationType.CALLBACK:
                _time_out_callback(execution, operation, due_ms)
            case _:  # pragma: no cover - only these types own timers
                continue
        execution.mark_changed(op_id)
        execution.wake_count += 1
        fired.append(operation)
    return fired


def _time_out_callback(execution: Execution, operation: Operation, due_ms: int) -> None:
    heartbeat_expired = (
        operation.heartbeat_deadline_ms is not None
        and operation.heartbeat_deadline_ms <= due_ms
        and (
            operation.timeout_deadline_ms is None
            or operation.heartbeat_deadline_ms < operation.timeout_deadline_ms
        )
    )
    if heartbeat_expired:
        error: Wire = {
            "ErrorType": "Callback.Heartbeat",
            "ErrorMessage": (
                f"Callback heartbeat timed out after {operation.heartbeat_timeout_seconds} seconds"
            ),
        }
    else:
        error = {
            "ErrorType": "Callback.Timeout",
            "ErrorMessage": f"Callback timed out after {operation.timeout_seconds} seconds",
        }
    operation.error = error
    _complete(operation, OperationStatus.TIMED_OUT, due_ms)
    record_event(execution, "CallbackTimedOut", due_ms, {"Error": error_of(error)}, operation)


def callback_answer(
    execution: Execution,
    operation: Operation,
    now_ms: int,
    *,
    result: str | None = None,
    error: Wire | None = None,
    succeeded: bool,
) -> None:
    """Settle a STARTED callback with an external success or failure."""
    execution.timers.pop(operation.id, None)
    if succeeded:
        operation.result = result
        _complete(operation, OperationStatus.SUCCEEDED, now_ms)
        record_event(
            execution, "CallbackSucceeded", now_ms, {"Result": result_of(result)}, operation
        )
    else:
        operation.error = error
        _complete(operation, OperationStatus.FAILED, now_ms)
        record_event(execution, "CallbackFailed", now_ms, {"Error": error_of(error)}, operation)
    execution.mark_changed(operation.id)
    execution.wake_count += 1


_INVOKE_EVENTS = {
    OperationStatus.SUCCEEDED: "ChainedInvokeSucceeded",
    OperationStatus.FAILED: "ChainedInvokeFailed",
    OperationStatus.TIMED_OUT: "ChainedInvokeTimedOut",
    OperationStatus.STOPPED: "ChainedInvokeStopped",
}


def chained_invoke_outcome(
    execution: Execution,
    operation: Operation,
    now_ms: int,
    status: OperationStatus,
    *,
    result: str | None = None,
    error: Wire | None = None,
) -> None:
    """Settle a STARTED chained invoke with its target's outcome."""
    event = _INVOKE_EVENTS[status]
    if status is OperationStatus.SUCCEEDED:
        operation.result = result
        details: Wire = {"Result": result_of(result)}
    else:
        operation.error = error
        details = {"Error": error_of(error)}
    _complete(operation, status, now_ms)
    record_event(execution, event, now_ms, details, operation)
    execution.mark_changed(operation.id)
    execution.wake_count += 1
