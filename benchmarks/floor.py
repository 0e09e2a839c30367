"""The benchmark's floor: the released SDK driven by the leanest backend that still works.

Benchmark-only code, not part of pytest-durable. ``FloorService`` implements the SDK's
``DurableServiceClient`` protocol (``checkpoint`` and ``get_execution_state``) on a dict of the
SDK's own ``Operation`` objects: no botocore, no wire format, no validation, no history, no
token checks, no idempotency cache. It answers each checkpoint with the operations the batch
touched, which is the least the SDK needs to make progress. ``run_floor`` plays Lambda with as
little as possible: it calls the handler on the calling thread with the client injected
(``DurableExecutionInvocationInputWithClient``, the SDK's own hook for tests), and when the
handler answers PENDING it completes every timer (waits, retry delays) and every open callback
at once and invokes again.

What the floor keeps of the stock SDK is everything: its checkpoint thread, its batching
window (``_BLOCKED_CALLER_WAIT_SECONDS``), its serialization of payloads. The one thing it takes
from pytest-durable is the end-of-invocation wake (``prompt_checkpoint_shutdown``): without it
every invocation, of every runner, waits out the checkpoint thread's 0.1 s stop poll, which is a
property of how a runner ends an invocation and not of the per-step cost this floor measures.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from aws_durable_execution_sdk_python.execution import (
    DurableExecutionInvocationInputWithClient,
    InitialExecutionState,
)
from aws_durable_execution_sdk_python.lambda_service import (
    CallbackDetails,
    CheckpointOutput,
    CheckpointUpdatedExecutionState,
    ContextDetails,
    ExecutionDetails,
    Operation,
    OperationAction,
    OperationStatus,
    OperationType,
    OperationUpdate,
    StateOutput,
    StepDetails,
    WaitDetails,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:floor:$LATEST/durable-execution/floor/e1"
EXECUTION_ID = ARN.rsplit("/", 1)[-1]
MAX_INVOCATIONS = 1000

_TERMINAL = {
    OperationAction.SUCCEED: OperationStatus.SUCCEEDED,
    OperationAction.FAIL: OperationStatus.FAILED,
    OperationAction.CANCEL: OperationStatus.CANCELLED,
}


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


class FloorService:
    """A ``DurableServiceClient`` that keeps the operations and echoes what each batch changed."""

    def __init__(self, input_payload: str) -> None:
        self.operations: dict[str, Operation] = {
            EXECUTION_ID: Operation(
                operation_id=EXECUTION_ID,
                operation_type=OperationType.EXECUTION,
                status=OperationStatus.STARTED,
                start_timestamp=_utcnow(),
                execution_details=ExecutionDetails(input_payload=input_payload),
            )
        }
        self.result: str | None = None
        self.checkpoint_calls = 0
        self._tokens = itertools.count(1)
        self._callback_ids = itertools.count(1)

    # ------------------------------------------------------------ the protocol

    def checkpoint(
        self,
        durable_execution_arn: str,
        checkpoint_token: str,
        updates: list[OperationUpdate],
        client_token: str | None,
    ) -> CheckpointOutput:
        self.checkpoint_calls += 1
        changed = [self._apply(update) for update in updates]
        ends_execution = any(u.operation_type is OperationType.EXECUTION for u in updates)
        return CheckpointOutput(
            checkpoint_token=None if ends_execution else f"t{next(self._tokens)}",
            new_execution_state=CheckpointUpdatedExecutionState(operations=changed),
        )

    def get_execution_state(
        self,
        durable_execution_arn: str,
        checkpoint_token: str,
        next_marker: str,
        max_items: int = 1000,
    ) -> StateOutput:
        return StateOutput(operations=list(self.operations.values()))

    # ------------------------------------------------------------ the least state

    def _apply(self, update: OperationUpdate) -> Operation:
        if update.operation_type is OperationType.EXECUTION:
            self.result = update.payload
            return self.operations[EXECUTION_ID]
        previous = self.operations.get(update.operation_id)
        operation = previous or Operation(
            operation_id=update.operation_id,
            operation_type=update.operation_type,
            status=OperationStatus.STARTED,
            parent_id=update.parent_id,
            name=update.name,
            sub_type=update.sub_type,
            start_timestamp=_utcnow(),
        )
        action = update.action
        kind = update.operation_type
        attempt = operation.step_details.attempt if operation.step_details else 0
        if kind is OperationType.STEP:
            if action is OperationAction.START:
                operation = replace(
                    operation,
                    status=OperationStatus.STARTED,
                    step_details=StepDetails(attempt=attempt),
                )
            elif action is OperationAction.RETRY:
                operation = replace(
                    operation,
                    status=OperationStatus.PENDING,
                    step_details=StepDetails(
                        attempt=attempt + 1, result=update.payload, error=update.error
                    ),
                )
            else:
                operation = replace(
                    operation,
                    status=_TERMINAL[action],
                    end_timestamp=_utcnow(),
                    step_details=StepDetails(
                        attempt=attempt + 1, result=update.payload, error=update.error
                    ),
                )
        elif kind is OperationType.WAIT:
            if action is OperationAction.START:
                seconds = update.wait_options.wait_seconds if update.wait_options else 0
                operation = replace(
                    operation,
                    wait_details=WaitDetails(
                        scheduled_end_timestamp=_utcnow() + _dt.timedelta(seconds=seconds)
                    ),
                )
            else:
                operation = replace(operation, status=_TERMINAL[action])
        elif kind is OperationType.CALLBACK:
            operation = replace(
                operation, callback_details=CallbackDetails(f"cb-{next(self._callback_ids)}")
            )
        elif kind is OperationType.CONTEXT:
            if action is not OperationAction.START:
                operation = replace(
                    operation,
                    status=_TERMINAL[action],
                    end_timestamp=_utcnow(),
                    context_details=ContextDetails(result=update.payload, error=update.error),
                )
        else:  # pragma: no cover - the benchmark's handlers use none
            raise NotImplementedError(f"the floor does not model {kind}")
        self.operations[operation.operation_id] = operation
        return operation

    # ------------------------------------------------------------ Lambda's part

    def complete_pending(self, callback_result: str | None) -> None:
        """Between invocations: every timer is due and every open callback is answered."""
        for op_id, operation in list(self.operations.items()):
            if operation.status not in (OperationStatus.STARTED, OperationStatus.PENDING):
                continue
            if operation.operation_type is OperationType.WAIT:
                self.operations[op_id] = replace(operation, status=OperationStatus.SUCCEEDED)
            elif operation.operation_type is OperationType.STEP and (
                operation.status is OperationStatus.PENDING
            ):
                self.operations[op_id] = replace(operation, status=OperationStatus.READY)
            elif operation.operation_type is OperationType.CALLBACK:
                assert operation.callback_details is not None
                self.operations[op_id] = replace(
                    operation,
                    status=OperationStatus.SUCCEEDED,
                    callback_details=replace(operation.callback_details, result=callback_result),
                )


@dataclass
class _Context:
    """The least of Lambda's context object the SDK reads."""

    aws_request_id: str = "floor-request"
    function_name: str = "floor"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:floor"
    memory_limit_in_mb: str = "128"
    function_version: str = "$LATEST"
    log_group_name: str | None = None
    log_stream_name: str | None = None
    tenant_id: str | None = None
    client_context: Any = None
    identity: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@dataclass(frozen=True)
class FloorResult:
    status: str
    output: Any
    invocations: int
    checkpoint_calls: int


@contextmanager
def _prompt_shutdown() -> Iterator[None]:
    from pytest_durable.runner.sdk import prompt_checkpoint_shutdown

    with prompt_checkpoint_shutdown():
        yield


def run_floor(
    handler: Callable[[Any, Any], Any], event: Any, *, callback_result: Any = None
) -> FloorResult:
    """Run ``handler`` to its end on a :class:`FloorService`, re-invoking as Lambda would."""
    service = FloorService(json.dumps(event))
    answer = json.dumps(callback_result)
    with _prompt_shutdown():
        for invocation in range(1, MAX_INVOCATIONS + 1):
            envelope = DurableExecutionInvocationInputWithClient(
                durable_execution_arn=ARN,
                checkpoint_token=f"i{invocation}",
                initial_execution_state=InitialExecutionState(
                    operations=list(service.operations.values()), next_marker=""
                ),
                service_client=service,
            )
            output = handler(envelope, _Context())
            status = output["Status"]
            if status != "PENDING":
                raw = output.get("Result") or service.result
                return FloorResult(
                    status, json.loads(raw) if raw else None, invocation, service.checkpoint_calls
                )
            service.complete_pending(answer)
    raise RuntimeError(f"the floor gave up after {MAX_INVOCATIONS} invocations")
