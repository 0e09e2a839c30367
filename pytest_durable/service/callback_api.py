"""The callback APIs external systems call, and the completion of chained invokes."""

from __future__ import annotations

from pytest_durable.errors import (
    CallbackTimeoutException,
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from pytest_durable.service.core import ServiceBase
from pytest_durable.service.model import (
    Execution,
    Operation,
    OperationStatus,
    OperationType,
    Wire,
)
from pytest_durable.service.transitions import (
    callback_answer,
    chained_invoke_outcome,
    schedule_callback_timer,
)

# SendDurableExecutionCallbackSuccess Result: BinaryOperationPayload, 0..1048576 bytes ("Maximum
# size is 1 MB", botocore 1.44.5's model; older API docs said 256 KB).
MAX_CALLBACK_RESULT_BYTES = 1_048_576


class CallbackAPI(ServiceBase):
    """What happens outside the execution and lands in it: callback answers from external
    systems, and the outcome of a chained invoke's target."""

    def _started_callback(self, callback_id: str) -> tuple[Execution, Operation]:
        location = self._callbacks.get(callback_id)
        if location is None or location[0] not in self._executions:
            raise ResourceNotFoundException(
                f"Callback not found: {callback_id}. Use the CallbackId the execution's "
                f"CALLBACK operation carries (CallbackDetails.CallbackId)."
            )
        execution = self.execution(location[0])
        # A timeout that is due is applied before the answer, as the service's timer would have.
        self._fire_due(execution)
        operation = execution.operations[location[1]]
        if execution.status.is_terminal or operation.status is not OperationStatus.STARTED:
            # Model docs: "The callback ID token has either expired or the callback associated
            # with the token has already been closed."
            raise CallbackTimeoutException(
                f"Callback {callback_id} is closed: the callback is {operation.status.value} and "
                f"the execution is {execution.status.value}"
            )
        return execution, operation

    def send_durable_execution_callback_success(
        self,
        *,
        CallbackId: str,
        Result: bytes | str | None = None,
    ) -> Wire:
        raw = Result.encode() if isinstance(Result, str) else (Result or b"")
        if len(raw) > MAX_CALLBACK_RESULT_BYTES:
            raise InvalidParameterValueException(
                f"Result is {len(raw)} bytes; the maximum is {MAX_CALLBACK_RESULT_BYTES} (1 MB)"
            )
        with self._locked():
            execution, operation = self._started_callback(CallbackId)
            payload = raw.decode("utf-8", errors="replace")
            callback_answer(execution, operation, self.now_ms(), result=payload, succeeded=True)
            return {}

    def send_durable_execution_callback_failure(
        self,
        *,
        CallbackId: str,
        Error: Wire | None = None,
    ) -> Wire:
        with self._locked():
            execution, operation = self._started_callback(CallbackId)
            callback_answer(execution, operation, self.now_ms(), error=Error or {}, succeeded=False)
            return {}

    def send_durable_execution_callback_heartbeat(self, *, CallbackId: str) -> Wire:
        with self._locked():
            execution, operation = self._started_callback(CallbackId)
            if operation.heartbeat_timeout_seconds:
                operation.heartbeat_deadline_ms = (
                    self.now_ms() + operation.heartbeat_timeout_seconds * 1000
                )
                schedule_callback_timer(execution, operation)
            return {}

    def complete_chained_invoke(
        self,
        arn: str,
        operation_id: str,
        status: OperationStatus,
        *,
        result: str | None = None,
        error: Wire | None = None,
    ) -> None:
        """Settle a STARTED chained invoke with its target's outcome (Lambda's part: there is
        no public API for it). SUCCEEDED carries the target's JSON result; FAILED, TIMED_OUT
        and STOPPED an ErrorObject."""
        with self._locked():
            execution = self.execution(arn)
            self._fire_due(execution)
            operation = execution.operations.get(operation_id)
            if operation is None or operation.type is not OperationType.CHAINED_INVOKE:
                raise ResourceNotFoundException(f"No chained invoke {operation_id} in {arn}")
            if execution.status.is_terminal or operation.status is not OperationStatus.STARTED:
                raise ResourceConflictException(
                    f"Chained invoke {operation_id} is {operation.status.value} in an execution "
                    f"that is {execution.status.value}; only a STARTED one can complete"
                )
            chained_invoke_outcome(
                execution, operation, self.now_ms(), status, result=result, error=error
            )
