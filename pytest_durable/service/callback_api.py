"""The callback APIs external systems call, and the completion of chained invokes."""

from __future__ import annotations

from pytest_durable.service.core import ServiceBase
from pytest_durable.service.errors import (
    CallbackTimeoutException,
    ResourceNotFoundException,
)
from pytest_durable.service.model import (
    Execution,
    Operation,
    OperationStatus,
    Wire,
)
from pytest_durable.service.transitions import (
    callback_answer,
    schedule_callback_timer,
)

# SendDurableExecutionCallbackSuccess: "Maximum size is 256 KB" (Result, 0..262144 bytes).
MAX_CALLBACK_RESULT_BYTES = 262_144


class CallbackAPI(ServiceBase):
    def _started_callback(self, callback_id: str) -> tuple[Execution, Operation]:
        location = self._callbacks.get(callback_id)
        if location is None or location[0] not in self._executions:
            raise ResourceNotFoundException(f"Callback not found: {callback_id}")
        execution = self._executions[location[0]]
        operation = execution.operations[location[1]]
        if execution.status.is_terminal or operation.status is not OperationStatus.STARTED:
            raise CallbackTimeoutException(
                f"Callback {callback_id} is no longer open: the callback is "
                f"{operation.status.value} and the execution is {execution.status.value}"
            )
        return execution, operation

    def send_durable_execution_callback_success(
        self,
        *,
        CallbackId: str,
        Result: bytes | str | None = None,
    ) -> Wire:
        with self._locked():
            execution, operation = self._started_callback(CallbackId)
            payload = Result.decode("utf-8") if isinstance(Result, bytes) else Result
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
