"""The durable-execution service: a pure, in-memory model of the Lambda durable-execution API.

API methods are named after the botocore operations (``checkpoint_durable_execution`` for
``CheckpointDurableExecution``), take the operation's input members as keyword arguments and
return its output shape, as a boto3 caller sees it (timestamps as aware UTC datetimes). Errors
are raised as :class:`~pytest_durable.errors.ServiceError` with the real code.

The service also plays the parts of Lambda that the runner needs and no public API covers:
starting an execution, beginning and ending an invocation (minting the checkpoint token and the
envelope), and firing timers. It never reads a real clock: time comes from the ``clock`` it is
given (epoch milliseconds), which the runner advances.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from pytest_durable.errors import (
    InvalidCheckpointTokenError,
    InvalidParameterValueException,
    ResourceConflictException,
)
from pytest_durable.parsing import parse_function_name
from pytest_durable.service.callback_api import CallbackAPI
from pytest_durable.service.core import (
    IDEMPOTENCY_WINDOW_MS,
    MAX_TIMEOUT_SECONDS,
    named_root,
)
from pytest_durable.service.history import error_of, record_event, result_of
from pytest_durable.service.invocation_output import (
    MAX_IDLE_PENDING_INVOCATIONS,
    NOTHING_PENDING_MESSAGE,
    has_pending_work,
    output_problem,
    rejection,
)
from pytest_durable.service.model import (
    CachedCheckpoint,
    Execution,
    ExecutionStatus,
    Invocation,
    Operation,
    OperationStatus,
    OperationType,
    Wire,
    ms_to_datetime,
)
from pytest_durable.service.operator_api import OperatorAPI
from pytest_durable.service.paging import DEFAULT_PAGE_SIZE, marker, parse_marker
from pytest_durable.service.transitions import apply_update, statuses_after_due_timers
from pytest_durable.service.validation import validate_batch

# DurableConfig.ExecutionTimeout range in the model; the default is the longest allowed so that a
# test only meets the execution timeout when it asks for one.
MAX_EXECUTION_TIMEOUT_SECONDS = MAX_TIMEOUT_SECONDS
DEFAULT_RETENTION_DAYS = 14
_EXECUTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


@dataclass(frozen=True)
class InvocationEnd:
    """How an invocation ended, as the service judged its output."""

    #: "SUCCEEDED" | "FAILED" | "PENDING" | "INVOCATION_FAILED" (the handler raised), or the
    #: service's verdict on an output it refuses: "INVALID_OUTPUT" (the execution failed) or
    #: "NOTHING_PENDING" (PENDING with nothing pending: retried, then failed).
    status: str
    execution_status: ExecutionStatus
    #: Why the output was refused (the ErrorMessage the execution fails with).
    problem: str | None = None


class DurableService(CallbackAPI, OperatorAPI):
    """All executions of one test (or one endpoint), keyed by ARN. Thread-safe: one lock."""

    # ----------------------------------------------------- Lambda's own part

    def start_execution(
        self,
        function_name: str,
        input_payload: str | None,
        *,
        execution_name: str | None = None,
        qualifier: str = "$LATEST",
        execution_timeout_seconds: int = MAX_EXECUTION_TIMEOUT_SECONDS,
        retention_period_days: int = DEFAULT_RETENTION_DAYS,
        reserved_arn: str | None = None,
    ) -> Execution:
        """Create an execution as an asynchronous Invoke of a durable function does: mint the ARN,
        the EXECUTION operation (Id = the ARN's last segment) and the ExecutionStarted event.

        ``reserved_arn`` is the ARN a chained invoke already announced for this execution."""
        if not 1 <= execution_timeout_seconds <= MAX_EXECUTION_TIMEOUT_SECONDS:
            raise InvalidParameterValueException(
                f"ExecutionTimeout must be between 1 and {MAX_EXECUTION_TIMEOUT_SECONDS} seconds; "
                f"got {execution_timeout_seconds}"
            )
        # The model's DurableExecutionName and the function-name part of a DurableExecutionArn.
        if not _FUNCTION_NAME.fullmatch(function_name):
            raise InvalidParameterValueException(
                f"Function name {function_name!r} must be 1-64 characters of [a-zA-Z0-9_-]"
            )
        if execution_name is not None and not _EXECUTION_NAME.fullmatch(execution_name):
            raise InvalidParameterValueException(
                f"DurableExecutionName {execution_name!r} must be 1-64 characters of [a-zA-Z0-9-_]"
            )
        with self._locked():
            if reserved_arn is not None:
                function_arn, _, rest = reserved_arn.partition("/durable-execution/")
                name, _, execution_id = rest.partition("/")
                qualifier = parse_function_name(function_arn).version
            else:
                execution_id = str(uuid.uuid4())
                name = execution_name or str(uuid.uuid4())
                function_arn = self.function_arn(function_name, qualifier)
            arn = f"{function_arn}/durable-execution/{name}/{execution_id}"
            if any(e.name == name and e.function_name == function_name for e in self.executions):
                raise ResourceConflictException(
                    f"A durable execution named {name!r} already exists for {function_name}"
                )
            now = self.now_ms()
            payload = "" if input_payload is None else input_payload
            execution = Execution(
                arn=arn,
                name=name,
                execution_id=execution_id,
                function_name=function_name,
                function_arn=function_arn,
                version=qualifier,
                input_payload=payload,
                start_ms=now,
                execution_timeout_seconds=execution_timeout_seconds,
                retention_period_days=retention_period_days,
            )
            root = Operation(
                id=execution_id,
                type=OperationType.EXECUTION,
                status=OperationStatus.STARTED,
                start_ms=now,
                input_payload=payload,
            )
            execution.operations[execution_id] = root
            execution.timers[execution_id] = now + execution_timeout_seconds * 1000
            record_event(
                execution,
                "ExecutionStarted",
                now,
                {
                    "Input": result_of(payload),
                    "ExecutionTimeout": execution_timeout_seconds,
                },
                named_root(root, name),
            )
            self._executions[arn] = execution
            self._touched.add(arn)
            return execution

    def begin_invocation(self, arn: str) -> Wire:
        """Start an invocation: a fresh token (the previous one dies) and the envelope
        ``{DurableExecutionArn, CheckpointToken, InitialExecutionState}`` with epoch-ms stamps."""
        with self._locked():
            execution = self.execution(arn)
            if execution.status.is_terminal:
                raise ResourceConflictException(
                    f"Cannot invoke: the durable execution is {execution.status.value}"
                )
            if execution.active_invocation is not None:
                raise ResourceConflictException("An invocation of this execution is in progress")
            if execution.status is not ExecutionStatus.RUNNING:
                raise ResourceConflictException(
                    f"Cannot invoke: the durable execution is {execution.status.value}; resume "
                    f"it with ResumeDurableExecution first"
                )
            token = self._mint_token(execution)
            execution.retry_invocation = False
            execution.invocations.append(
                Invocation(
                    request_id=str(uuid.uuid4()),
                    start_ms=self.now_ms(),
                    checkpoint_token=token,
                    wake_count_at_start=execution.wake_count,
                )
            )
            operations = list(execution.operations.values())
            first_page = operations[: self.initial_page_size]
            next_marker = marker(len(first_page)) if len(operations) > len(first_page) else ""
            updated = execution.change_log[execution.watermark :]
            execution.watermark = len(execution.change_log)
            envelope: Wire = {
                "DurableExecutionArn": arn,
                "CheckpointToken": token,
                "InitialExecutionState": {
                    "Operations": [op.to_wire(stamp=int) for op in first_page],
                    "NextMarker": next_marker,
                },
            }
            if updated:
                envelope["UpdatedOperationIds"] = list(dict.fromkeys(updated))
            return envelope

    def end_invocation(self, arn: str, output: Any, failure: Wire | None = None) -> InvocationEnd:
        """Record the end of the running invocation and settle the execution from its output.

        ``failure`` (an ErrorObject) means the handler raised: Lambda reports a function error,
        the execution stays RUNNING and is re-invoked. Otherwise ``output`` is what the handler
        returned, normally a ``DurableExecutionInvocationOutput`` dict; an invalid one, or
        PENDING with nothing pending, is settled as the real service does (see
        ``invocation_output.py``).
        """
        with self._locked():
            execution = self.execution(arn)
            invocation = execution.active_invocation
            if invocation is None:
                raise ResourceConflictException("No invocation of this execution is in progress")
            # Timers that came due while the handler ran are recorded before it ended.
            self._fire_due(execution)
            now = self.now_ms()
            invocation.end_ms = now
            invocation.error = failure
            readable = output if isinstance(output, dict) else {}
            status = "CRASHED" if failure is not None else str(readable.get("Status", ""))
            invocation.outcome = status
            execution.checkpoint_token = None
            completed: Wire = {
                "StartTimestamp": ms_to_datetime(invocation.start_ms),
                "EndTimestamp": ms_to_datetime(now),
                "RequestId": invocation.request_id,
            }
            if failure is not None:
                completed["Error"] = error_of(failure)
            record_event(execution, "InvocationCompleted", now, completed)
            if execution.status.is_terminal:  # stopped or timed out while it ran
                return InvocationEnd("PENDING", execution.status)
            if failure is not None:
                execution.pending_outcome = None
                execution.idle_pending_invocations = 0
                self._settle_pause(execution, now)
                return InvocationEnd("INVOCATION_FAILED", execution.status)
            problem = output_problem(output)
            if problem is not None:
                execution.pending_outcome = None
                self._finish(execution, ExecutionStatus.FAILED, now, error=rejection(problem))
                return InvocationEnd("INVALID_OUTPUT", execution.status, problem)
            if status == "PENDING" and not has_pending_work(
                execution, invocation.wake_count_at_start
            ):
                return self._idle_pending(execution, now)
            execution.idle_pending_invocations = 0
            if status == "SUCCEEDED":
                result = readable.get("Result")
                if execution.pending_outcome is not None and not result:
                    result = execution.pending_outcome[1]
                self._finish(execution, ExecutionStatus.SUCCEEDED, now, result=result)
            elif status == "FAILED":
                error = readable.get("Error")
                if error is None and execution.pending_outcome is not None:
                    error = execution.pending_outcome[2]
                self._finish(execution, ExecutionStatus.FAILED, now, error=error)
            else:
                self._settle_pause(execution, now)
            execution.pending_outcome = None
            return InvocationEnd(status, execution.status)

    def _idle_pending(self, execution: Execution, now: int) -> InvocationEnd:
        """PENDING with nothing pending: retried as transient, failed once it keeps happening."""
        execution.pending_outcome = None
        execution.idle_pending_invocations += 1
        if execution.idle_pending_invocations >= MAX_IDLE_PENDING_INVOCATIONS:
            self._finish(
                execution, ExecutionStatus.FAILED, now, error=rejection(NOTHING_PENDING_MESSAGE)
            )
        else:
            execution.retry_invocation = True
        return InvocationEnd("NOTHING_PENDING", execution.status, NOTHING_PENDING_MESSAGE)

    def end_interrupted_invocations(self, error_type: str, message: str) -> list[str]:
        """End every invocation still running, as a failed one (the sandbox died), and wake its
        execution so it is invoked again, as Lambda retries a failed invocation. For a service
        restored from a store: those invocations died with the previous process. Returns the
        ARNs of the executions concerned."""
        ended = []
        with self._locked():
            for execution in list(self._executions.values()):
                if execution.active_invocation is None:
                    continue
                self.end_invocation(
                    execution.arn, None, {"ErrorType": error_type, "ErrorMessage": message}
                )
                execution.wake_count += 1
                ended.append(execution.arn)
        return ended

    # ------------------------------------------------------- the SDK's two APIs

    def checkpoint_durable_execution(
        self,
        *,
        DurableExecutionArn: str,
        CheckpointToken: str,
        Updates: list[Wire] | None = None,
        ClientToken: str | None = None,
    ) -> Wire:
        """Apply a batch of OperationUpdates atomically and answer with a new token and every
        operation changed since the handler last saw state."""
        updates = list(Updates or [])
        with self._locked():
            execution = self._execution_for_checkpoint(DurableExecutionArn)
            now = self.now_ms()
            if ClientToken is not None:
                cached = self._cached_answer(execution, ClientToken, CheckpointToken, updates, now)
                if cached is not None:
                    return cached
            self._time_out_if_due(execution)
            self._check_token(execution, CheckpointToken)
            # The batch is judged against the state as it is at this instant, due timers
            # fired: a WAIT whose timer is due is SUCCEEDED and can no longer be cancelled (it
            # used to get WaitSucceeded and then WaitCancelled). Validation only simulates the
            # firing, so a rejected batch changes nothing at all.
            validated = validate_batch(
                execution, updates, due=statuses_after_due_timers(execution, now)
            )
            # Due timers first, so an empty refresh batch (map/parallel in-process resume)
            # sees the WAIT succeeded or the retry READY in this very response.
            self._fire_due(execution)
            completes_execution = False
            for update in validated:
                operation = apply_update(execution, update, now, self._minting)
                if update.type is OperationType.EXECUTION:
                    completes_execution = True
                elif operation is not None and operation.callback_id is not None:
                    self._callbacks.setdefault(operation.callback_id, (execution.arn, operation.id))

            response: Wire = {}
            if completes_execution:
                execution.checkpoint_token = None
            elif execution.status is ExecutionStatus.PAUSING:
                # PauseDurableExecution takes effect at the invocation's next checkpoint: the
                # batch is kept and the token withheld, so the SDK (3.0.0) answers PENDING.
                execution.checkpoint_token = None
                self._settle_pause(execution, now)
            else:
                response["CheckpointToken"] = self._mint_token(execution)
            response["NewExecutionState"] = {
                "Operations": [op.to_wire() for op in execution.changes_since_watermark()]
            }
            if ClientToken is not None:
                execution.idempotency_cache[(ClientToken, CheckpointToken)] = CachedCheckpoint(
                    fingerprint=updates, response=response, created_ms=now
                )
            # Under the lock, so listeners see checkpoints in the order they were accepted.
            for listener in self._listeners:
                listener(
                    DurableExecutionArn, {"Updates": updates, "ClientToken": ClientToken}, response
                )
        return response

    def get_durable_execution_state(
        self,
        *,
        DurableExecutionArn: str,
        CheckpointToken: str,
        Marker: str | None = None,
        MaxItems: int | None = None,
    ) -> Wire:
        """One page of the execution's operations, read with the current checkpoint token."""
        with self._locked():
            execution = self._execution_for_checkpoint(DurableExecutionArn)
            self._time_out_if_due(execution)
            self._check_token(execution, CheckpointToken)
            operations = list(execution.operations.values())
            start = parse_marker(Marker, len(operations))
            page_size = MaxItems or DEFAULT_PAGE_SIZE
            page = operations[start : start + page_size]
            answer: Wire = {"Operations": [op.to_wire() for op in page]}
            if start + len(page) < len(operations):
                answer["NextMarker"] = marker(start + len(page))
            return answer

    def _execution_for_checkpoint(self, arn: str) -> Execution:
        # CheckpointDurableExecution and GetDurableExecutionState declare no
        # ResourceNotFoundException: an unknown execution is an invalid parameter.
        if arn not in self._executions:
            raise InvalidParameterValueException(f"Durable execution not found: {arn}")
        return self.execution(arn)

    def _time_out_if_due(self, execution: Execution) -> None:
        """End the execution TIMED_OUT if its deadline has passed, before a token is checked.

        Without this, a checkpoint arriving after the deadline passed the token check, then
        ``_fire_due`` timed the execution out and the batch was still applied to the finished
        execution (events after ExecutionTimedOut, a new token minted for a TIMED_OUT execution).
        Only the execution deadline fires here: operation timers still fire after validation, so
        a rejected batch changes nothing."""
        deadline = execution.timers.get(execution.execution_id)
        if deadline is not None and deadline <= self.now_ms():
            self._fire_due(execution)

    def _check_token(self, execution: Execution, token: str) -> None:
        if execution.status.is_terminal:
            raise InvalidCheckpointTokenError(
                f"the durable execution is {execution.status.value}; no checkpoint is accepted"
            )
        if execution.checkpoint_token is None:
            raise InvalidCheckpointTokenError("no invocation of this execution is in progress")
        if token != execution.checkpoint_token:
            raise InvalidCheckpointTokenError(
                "the token is stale or belongs to another execution; use the token returned by "
                "the latest checkpoint"
            )

    def _cached_answer(
        self,
        execution: Execution,
        client_token: str,
        checkpoint_token: str,
        updates: list[Wire],
        now: int,
    ) -> Wire | None:
        cache = execution.idempotency_cache
        # Entries are inserted in time order: expire from the oldest end.
        while cache:
            oldest_key = next(iter(cache))
            if now - cache[oldest_key].created_ms < IDEMPOTENCY_WINDOW_MS:
                break
            del cache[oldest_key]
        cached = cache.get((client_token, checkpoint_token))
        if cached is None:
            return None
        if cached.fingerprint != updates:
            raise InvalidParameterValueException(
                f"ClientToken {client_token!r} was already used with this checkpoint token for a "
                f"different batch of updates; use a new ClientToken for a different request"
            )
        return cached.response


__all__ = ["DurableService", "InvocationEnd"]
