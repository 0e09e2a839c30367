"""Events of the execution history, in the ``GetDurableExecutionHistory`` ``Event`` shape.

Field names and nesting follow the botocore ``lambda`` model (``Event`` and its ``*Details``
structures); which events appear, and where, follows the expected histories of real executions in
AWS's conformance requirements (e.g. step 1.12: a RETRY is a ``StepFailed`` with ``RetryDetails``,
but wait_for_condition 6.5: a RETRY without an error is a ``StepSucceeded`` carrying the state;
callback 4.3: ``InvocationCompleted`` precedes the ``ExecutionFailed`` that ends the execution).
Payloads are wrapped as ``{"Payload": ...}`` (``EventResult``, ``EventError``, ``EventInput``).
"""

from __future__ import annotations

from typing import Any

from pytest_durable.service.model import Execution, Operation, Wire, ms_to_datetime


def result_of(payload: str | None) -> Wire:
    """An ``EventResult``/``EventInput``: the payload and whether it was truncated. Payloads are
    kept whole here, so ``Truncated`` is always false (conformance step 1.18 shows the real
    service writing ``Truncated: false`` next to the payload)."""
    return {"Truncated": False} if payload is None else {"Payload": payload, "Truncated": False}


def error_of(error: Wire | None) -> Wire:
    """An ``EventError``: the ErrorObject as its payload (see :func:`result_of`)."""
    if error is None:
        return {"Truncated": False}
    return {"Payload": dict(error), "Truncated": False}


def record_event(
    execution: Execution,
    event_type: str,
    at_ms: int,
    details: Wire,
    operation: Operation | None = None,
) -> Wire:
    """Append one event; EventIds count from 1 in the order events are recorded."""
    event: dict[str, Any] = {"EventType": event_type}
    if operation is not None and operation.sub_type is not None:
        event["SubType"] = operation.sub_type
    event["EventId"] = len(execution.history) + 1
    if operation is not None:
        event["Id"] = operation.id
        if operation.name is not None:
            event["Name"] = operation.name
    event["EventTimestamp"] = ms_to_datetime(at_ms)
    if operation is not None and operation.parent_id is not None:
        event["ParentId"] = operation.parent_id
    event[f"{event_type}Details"] = details
    execution.history.append(event)
    return event


def retry_details(attempt: int, next_delay_seconds: int | None = None) -> Wire:
    details: Wire = {"CurrentAttempt": attempt}
    if next_delay_seconds is not None:
        details["NextAttemptDelaySeconds"] = next_delay_seconds
    return details
