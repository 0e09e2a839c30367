"""How the service judges what a handler returned: the ``DurableExecutionInvocationOutput``.

The SDK's ``@durable_execution`` answers every invocation with ``{"Status": "SUCCEEDED",
"Result": ...}``, ``{"Status": "FAILED", "Error": {...}}`` or ``{"Status": "PENDING"}``. Anything
else reaches the service only from a handler that is not (or not only) the SDK's: a missing
decorator, a middleware that rewrites the answer, a handler that swallowed ``SuspendExecution``.

The real service's treatment (docs/service-semantics.md#envelope), as observed and reported by
the SDK's maintainers (aws/aws-durable-execution-sdk-python#670):

- an output that cannot be read, a missing or unknown ``Status``, ``FAILED`` with a ``Result``,
  ``SUCCEEDED`` with an ``Error``: the execution fails at once, no retry, with the error
  ``{"ErrorType": "InvalidParameterValueException", "ErrorMessage": <what was wrong>}``;
- ``PENDING`` while nothing is pending: taken as transient (an SDK race that a replay can
  resolve), so the invocation is retried; after 3 consecutive such invocations the execution
  fails with the same error shape. The message is the service's own, as a real history shows it
  (aws/aws-durable-execution-sdk-java#295).

Our messages for the first group are our own words: the issue names the error type, not the
texts. "3 consecutive attempts" is read as three invocations in a row answering PENDING with
nothing pending: the third fails the execution.
"""

from __future__ import annotations

from typing import Any

from pytest_durable.service.model import Execution, OperationStatus, OperationType, Wire

INVALID_OUTPUT_ERROR_TYPE = "InvalidParameterValueException"
NOTHING_PENDING_MESSAGE = "Cannot return PENDING status with no pending operations."
#: Consecutive PENDING-with-nothing-pending invocations after which the execution fails.
MAX_IDLE_PENDING_INVOCATIONS = 3

_STATUSES = ("SUCCEEDED", "FAILED", "PENDING")


def output_problem(output: Any) -> str | None:
    """What makes ``output`` an invalid invocation output, or None when it is a valid one."""
    if not isinstance(output, dict):
        return f"The invocation output is not a JSON object: {output!r:.200}"
    status = output.get("Status")
    if status is None:
        return "The invocation output has no Status"
    if status not in _STATUSES:
        return f"Invalid Status {status!r:.100} in the invocation output; expected one of " + (
            ", ".join(_STATUSES)
        )
    result, error = output.get("Result"), output.get("Error")
    if result is not None and not isinstance(result, str):
        return f"The invocation output's Result must be a string, not {type(result).__name__}"
    if error is not None and not isinstance(error, dict):
        return f"The invocation output's Error must be an object, not {type(error).__name__}"
    if status == "FAILED" and result is not None:
        return "An invocation output with Status FAILED cannot have a Result"
    if status == "SUCCEEDED" and error is not None:
        return "An invocation output with Status SUCCEEDED cannot have an Error"
    return None


def rejection(message: str) -> Wire:
    """The ErrorObject the service fails an execution with for an invalid output."""
    return {"ErrorType": INVALID_OUTPUT_ERROR_TYPE, "ErrorMessage": message}


def has_pending_work(execution: Execution, wake_count_at_start: int) -> bool:
    """Whether anything can still wake a PENDING execution: a timer (a wait, a retry, a callback
    timeout), a callback or chained invoke in flight, a change the service made while the
    invocation ran (it re-invokes for that), or a pause."""
    root = execution.execution_id
    if any(op_id != root for op_id in execution.timers):
        return True
    if execution.wake_count > wake_count_at_start or execution.pause is not None:
        return True
    # A READY retry is not pending: nothing will wake the execution for it, only a new
    # invocation runs it, which is what the service's retry of this invocation gives.
    return any(
        op.status is OperationStatus.STARTED
        and op.type in (OperationType.CALLBACK, OperationType.CHAINED_INVOKE)
        for op in execution.operations.values()
    )
