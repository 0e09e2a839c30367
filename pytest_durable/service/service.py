"""The durable-execution service: a pure, in-memory model of the Lambda durable-execution API.

API methods are named after the botocore operations (``checkpoint_durable_execution`` for
``CheckpointDurableExecution``), take the operation's input members as keyword arguments and
return its output shape, as a boto3 caller sees it (timestamps as aware UTC datetimes). Errors
are raised as :class:`~pytest_durable.service.errors.ServiceError` with the real code.

The service also plays the parts of Lambda that the runner needs and no public API covers:
starting an execution, beginning and ending an invocation (minting the checkpoint token and the
envelope), and firing timers. It never reads a real clock: time comes from the ``clock`` it is
given (epoch milliseconds), which the runner advances.
"""

from __future__ import annotations

import base64
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pytest_durable.service.errors import (
    CallbackTimeoutException,
    InvalidCheckpointTokenError,
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from pytest_durable.service.history import error_of, record_event, result_of
from pytest_durable.service.model import (
    CachedCheckpoint,
    Execution,
    ExecutionStatus,
    Invocation,
    Operation,
    OperationStatus,
    OperationType,
    Wire,
    datetime_to_ms,
    ms_to_datetime,
)
from pytest_durable.service.transitions import (
    apply_update,
    callback_answer,
    fire_due_timers,
    new_callback_id,
    schedule_callback_timer,
)
from pytest_durable.service.validation import validate_batch

Clock = Callable[[], int]

# ClientToken idempotency window (the model's documentation of CheckpointDurableExecution).
IDEMPOTENCY_WINDOW_MS = 15 * 60 * 1000
DEFAULT_MAX_ITEMS = 1000
# Page size of GetDurableExecutionState, GetDurableExecutionHistory and
# ListDurableExecutionsByFunction when MaxItems is absent or 0: the model documents "The default
# is 100 ... A value of 0 uses the default" (the SDK always sends MaxItems=1000). It was 1000.
DEFAULT_PAGE_SIZE = 100
# DurableConfig.ExecutionTimeout range in the model; the default is the longest allowed so that a
# test only meets the execution timeout when it asks for one.
MAX_EXECUTION_TIMEOUT_SECONDS = 31_622_400
DEFAULT_RETENTION_DAYS = 14


@dataclass(frozen=True)
class InvocationEnd:
    """How an invocation ended, as the service judged its output."""

    status: str  # "SUCCEEDED" | "FAILED" | "PENDING" | "INVOCATION_FAILED"
    execution_status: ExecutionStatus


class DurableService:
    """All executions of one test (or one endpoint), keyed by ARN. Thread-safe: one lock."""

    def __init__(
        self,
        clock: Clock,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        initial_page_size: int = DEFAULT_MAX_ITEMS,
    ) -> None:
        self._clock = clock
        self.region = region
        self.account_id = account_id
        self.initial_page_size = initial_page_size
        self._executions: dict[str, Execution] = {}
        self._callbacks: dict[str, tuple[str, str]] = {}
        self._lock = threading.RLock()
        self._listeners: list[Callable[[str, Wire, Wire], None]] = []

    # ----------------------------------------------------------------- plumbing

    def now_ms(self) -> int:
        return self._clock()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def add_checkpoint_listener(self, listener: Callable[[str, Wire, Wire], None]) -> None:
        """Call ``listener(arn, request, response)`` after every accepted checkpoint."""
        self._listeners.append(listener)

    def execution(self, arn: str) -> Execution:
        try:
            return self._executions[arn]
        except KeyError:
            raise ResourceNotFoundException(f"Durable execution not found: {arn}") from None

    @property
    def executions(self) -> list[Execution]:
        return list(self._executions.values())

    def function_arn(self, function_name: str, qualifier: str = "$LATEST") -> str:
        return (
            f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function_name}:{qualifier}"
        )

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
    ) -> Execution:
        """Create an execution as an asynchronous Invoke of a durable function does: mint the ARN,
        the EXECUTION operation (Id = the ARN's last segment) and the ExecutionStarted event."""
        if not 1 <= execution_timeout_seconds <= MAX_EXECUTION_TIMEOUT_SECONDS:
            raise InvalidParameterValueException(
                f"ExecutionTimeout must be between 1 and {MAX_EXECUTION_TIMEOUT_SECONDS} seconds; "
                f"got {execution_timeout_seconds}"
            )
        with self._locked():
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
                _named_root(root, name),
            )
            self._executions[arn] = execution
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
            token = self._mint_token(execution)
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
            next_marker = _marker(len(first_page)) if len(operations) > len(first_page) else ""
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

    def end_invocation(
        self, arn: str, output: Wire | None, failure: Wire | None = None
    ) -> InvocationEnd:
        """Record the end of the running invocation and settle the execution from its output.

        ``failure`` (an ErrorObject) means the handler raised: Lambda reports a function error,
        the execution stays RUNNING and is re-invoked. Otherwise ``output`` is the handler's
        ``DurableExecutionInvocationOutput`` dict.
        """
        with self._locked():
            execution = self.execution(arn)
            invocation = execution.active_invocation
            if invocation is None:
                raise ResourceConflictException("No invocation of this execution is in progress")
            now = self.now_ms()
            invocation.end_ms = now
            invocation.error = failure
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
                return InvocationEnd("INVOCATION_FAILED", execution.status)
            status = str((output or {}).get("Status", ""))
            if status == "SUCCEEDED":
                result = (output or {}).get("Result")
                if execution.pending_outcome is not None and not result:
                    result = execution.pending_outcome[1]
                self._finish(execution, ExecutionStatus.SUCCEEDED, now, result=result)
            elif status == "FAILED":
                error = (output or {}).get("Error")
                if error is None and execution.pending_outcome is not None:
                    error = execution.pending_outcome[2]
                self._finish(execution, ExecutionStatus.FAILED, now, error=error)
            execution.pending_outcome = None
            return InvocationEnd(status, execution.status)

    def _finish(
        self,
        execution: Execution,
        status: ExecutionStatus,
        now: int,
        *,
        result: str | None = None,
        error: Wire | None = None,
    ) -> None:
        execution.status = status
        execution.end_ms = now
        execution.result = result
        execution.error = error
        execution.checkpoint_token = None
        execution.timers.clear()
        root = execution.operations[execution.execution_id]
        root.status = _ROOT_STATUS[status]
        root.end_ms = now
        execution.mark_changed(root.id)
        named_root = _named_root(root, execution.name)
        if status is ExecutionStatus.SUCCEEDED:
            record_event(
                execution, "ExecutionSucceeded", now, {"Result": result_of(result)}, named_root
            )
        elif status is ExecutionStatus.FAILED:
            record_event(execution, "ExecutionFailed", now, {"Error": error_of(error)}, named_root)
        elif status is ExecutionStatus.TIMED_OUT:
            record_event(
                execution, "ExecutionTimedOut", now, {"Error": error_of(error)}, named_root
            )
        elif status is ExecutionStatus.STOPPED:
            record_event(execution, "ExecutionStopped", now, {"Error": error_of(error)}, named_root)

    def _mint_token(self, execution: Execution) -> str:
        execution.token_sequence += 1
        # Opaque, in the model's alphabet ([A-Za-z0-9+/]+={0,2}), unguessable across executions.
        token = base64.b64encode(secrets.token_bytes(30)).decode("ascii")
        execution.checkpoint_token = token
        return token

    # ---------------------------------------------------------------- timers

    def next_timer_ms(self, arn: str) -> int | None:
        """When the earliest pending timer of this execution fires (epoch ms), or None."""
        with self._locked():
            timers = self.execution(arn).timers
            return min(timers.values()) if timers else None

    def fire_due_timers(self, arn: str) -> list[str]:
        """Fire every timer due now: WAITs succeed, retries turn READY, callbacks and the
        execution time out. Returns the Ids of the operations that changed."""
        with self._locked():
            return [op.id for op in self._fire_due(self.execution(arn))]

    def _fire_due(self, execution: Execution) -> list[Operation]:
        if execution.status.is_terminal:
            return []
        now = self.now_ms()
        root_id = execution.execution_id
        deadline = execution.timers.get(root_id)
        if deadline is not None and deadline <= now:
            del execution.timers[root_id]
            self._finish(
                execution,
                ExecutionStatus.TIMED_OUT,
                deadline,
                error={
                    "ErrorType": "Execution.Timeout",
                    "ErrorMessage": (
                        f"Execution timed out after {execution.execution_timeout_seconds} seconds"
                    ),
                },
            )
            return [execution.operations[root_id]]
        return fire_due_timers(execution, now)

    def woke_since_last_invocation(self, arn: str) -> bool:
        """Whether the service changed an operation on its own (a timer fired, a callback was
        answered) since the latest invocation began: Lambda re-invokes for each such change."""
        with self._locked():
            execution = self.execution(arn)
            if not execution.invocations:
                return True
            return execution.wake_count > execution.invocations[-1].wake_count_at_start

    def waiting_operations(self, arn: str) -> list[Operation]:
        """Operations the execution waits on with no timer: callbacks and chained invokes."""
        with self._locked():
            return [
                op
                for op in self.execution(arn).operations.values()
                if op.status is OperationStatus.STARTED
                and op.type in (OperationType.CALLBACK, OperationType.CHAINED_INVOKE)
            ]

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
            validated = validate_batch(execution, updates)

            # Due timers first, so an empty refresh batch (map/parallel in-process resume)
            # sees the WAIT succeeded or the retry READY in this very response.
            self._fire_due(execution)
            completes_execution = False
            for update in validated:
                operation = apply_update(execution, update, now, new_callback_id)
                if update.type is OperationType.EXECUTION:
                    completes_execution = True
                elif operation is not None and operation.callback_id is not None:
                    self._callbacks.setdefault(operation.callback_id, (execution.arn, operation.id))

            response: Wire = {}
            if completes_execution:
                execution.checkpoint_token = None
            else:
                response["CheckpointToken"] = self._mint_token(execution)
            response["NewExecutionState"] = {
                "Operations": [op.to_wire() for op in execution.changes_since_watermark()]
            }
            if ClientToken is not None:
                execution.idempotency_cache[(ClientToken, CheckpointToken)] = CachedCheckpoint(
                    fingerprint=updates, response=response, created_ms=now
                )
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
            start = _parse_marker(Marker, len(operations))
            page_size = MaxItems or DEFAULT_PAGE_SIZE
            page = operations[start : start + page_size]
            answer: Wire = {"Operations": [op.to_wire() for op in page]}
            if start + len(page) < len(operations):
                answer["NextMarker"] = _marker(start + len(page))
            return answer

    def _execution_for_checkpoint(self, arn: str) -> Execution:
        # CheckpointDurableExecution and GetDurableExecutionState declare no
        # ResourceNotFoundException: an unknown execution is an invalid parameter.
        execution = self._executions.get(arn)
        if execution is None:
            raise InvalidParameterValueException(f"Durable execution not found: {arn}")
        return execution

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

    # --------------------------------------------------------------- callbacks

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

    # -------------------------------------------------------- operator APIs

    def get_durable_execution(
        self,
        *,
        DurableExecutionArn: str,
        IncludeExecutionData: bool | None = None,
    ) -> Wire:
        with self._locked():
            execution = self.execution(DurableExecutionArn)
            include = IncludeExecutionData is not False
            answer: Wire = {
                "DurableExecutionArn": execution.arn,
                "DurableExecutionName": execution.name,
                "FunctionArn": execution.function_arn,
            }
            if include:
                answer["InputPayload"] = execution.input_payload
                if execution.result is not None:
                    answer["Result"] = execution.result
                if execution.error is not None:
                    answer["Error"] = dict(execution.error)
            answer["StartTimestamp"] = ms_to_datetime(execution.start_ms)
            answer["Status"] = execution.status.value
            if execution.end_ms is not None:
                answer["EndTimestamp"] = ms_to_datetime(execution.end_ms)
            answer["Version"] = execution.version
            answer["ExecutionDataIncluded"] = include
            answer["DurableConfig"] = {
                "RetentionPeriodInDays": execution.retention_period_days,
                "ExecutionTimeout": execution.execution_timeout_seconds,
            }
            if not execution.status.is_terminal:
                answer["ExpectedExecutionTimeoutTimestamp"] = ms_to_datetime(
                    execution.start_ms + execution.execution_timeout_seconds * 1000
                )
            return answer

    def get_durable_execution_history(
        self,
        *,
        DurableExecutionArn: str,
        IncludeExecutionData: bool | None = None,
        MaxItems: int | None = None,
        Marker: str | None = None,
        ReverseOrder: bool | None = None,
    ) -> Wire:
        with self._locked():
            events = list(self.execution(DurableExecutionArn).history)
        if ReverseOrder:
            events.reverse()
        start = _parse_marker(Marker, len(events))
        page = events[start : start + (MaxItems or DEFAULT_PAGE_SIZE)]
        if not IncludeExecutionData:
            page = [_without_data(event) for event in page]
        answer: Wire = {"Events": page}
        if start + len(page) < len(events):
            answer["NextMarker"] = _marker(start + len(page))
        return answer

    def list_durable_executions_by_function(
        self,
        *,
        FunctionName: str,
        Qualifier: str | None = None,
        DurableExecutionName: str | None = None,
        Statuses: list[str] | None = None,
        StartedAfter: Any = None,
        StartedBefore: Any = None,
        ReverseOrder: bool | None = None,
        Marker: str | None = None,
        MaxItems: int | None = None,
    ) -> Wire:
        name = FunctionName.rsplit(":function:", maxsplit=1)[-1].split(":", maxsplit=1)[0]
        after = datetime_to_ms(StartedAfter) if StartedAfter is not None else None
        before = datetime_to_ms(StartedBefore) if StartedBefore is not None else None
        with self._locked():
            matches = [
                e
                for e in self._executions.values()
                if e.function_name == name
                and (Qualifier is None or e.version == Qualifier)
                and (DurableExecutionName is None or e.name == DurableExecutionName)
                and (not Statuses or e.status.value in Statuses)
                and (after is None or e.start_ms > after)
                and (before is None or e.start_ms < before)
            ]
        # Newest first by default, oldest first with ReverseOrder (as the console lists them).
        matches.sort(key=lambda e: e.start_ms, reverse=not ReverseOrder)
        start = _parse_marker(Marker, len(matches))
        page = matches[start : start + (MaxItems or DEFAULT_PAGE_SIZE)]
        answer: Wire = {"DurableExecutions": [e.summary_wire() for e in page]}
        if start + len(page) < len(matches):
            answer["NextMarker"] = _marker(start + len(page))
        return answer

    def stop_durable_execution(
        self,
        *,
        DurableExecutionArn: str,
        Error: Wire | None = None,
    ) -> Wire:
        with self._locked():
            execution = self.execution(DurableExecutionArn)
            if execution.status.is_terminal:
                raise ResourceConflictException(
                    f"Cannot stop a durable execution that is {execution.status.value}"
                )
            now = self.now_ms()
            self._finish(execution, ExecutionStatus.STOPPED, now, error=Error)
            return {"StopTimestamp": ms_to_datetime(now)}


_ROOT_STATUS = {
    ExecutionStatus.SUCCEEDED: OperationStatus.SUCCEEDED,
    ExecutionStatus.FAILED: OperationStatus.FAILED,
    ExecutionStatus.TIMED_OUT: OperationStatus.TIMED_OUT,
    ExecutionStatus.STOPPED: OperationStatus.STOPPED,
}


def _named_root(root: Operation, name: str) -> Operation:
    """The EXECUTION operation as history events show it: Id and the execution's name."""
    return Operation(
        id=root.id, type=root.type, status=root.status, start_ms=root.start_ms, name=name
    )


def _marker(index: int) -> str:
    return base64.b64encode(f"page:{index}".encode()).decode("ascii")


def _parse_marker(marker: str | None, length: int) -> int:
    if not marker:
        return 0
    try:
        kind, _, index_text = base64.b64decode(marker, validate=True).decode("ascii").partition(":")
        index = int(index_text)
    except ValueError:
        raise InvalidParameterValueException(
            f"Invalid Marker {marker!r}: pass the NextMarker of the previous page unchanged"
        ) from None
    if kind != "page" or not 0 <= index <= length:
        raise InvalidParameterValueException(
            f"Invalid Marker {marker!r}: pass the NextMarker of the previous page unchanged"
        )
    return index


_PAYLOAD_WRAPPERS = ("Result", "Error", "Input")


def _without_data(event: Wire) -> Wire:
    """An event with payloads removed (IncludeExecutionData false), keeping everything else."""
    stripped = dict(event)
    for key, details in event.items():
        if key.endswith("Details") and isinstance(details, dict):
            copy = dict(details)
            for wrapper in _PAYLOAD_WRAPPERS:
                if isinstance(copy.get(wrapper), dict) and "Payload" in copy[wrapper]:
                    copy[wrapper] = {k: v for k, v in copy[wrapper].items() if k != "Payload"}
            stripped[key] = copy
    return stripped


__all__ = ["DurableService", "InvocationEnd"]
