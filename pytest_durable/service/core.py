"""The service's shared core: executions, the lock, the clock, timers and ending an execution.

The API surface is split by audience over this core: ``service.py`` (Lambda's part and the SDK's
two checkpoint APIs), ``callback_api.py`` (external systems answering callbacks, and chained
invokes finishing) and ``operator_api.py`` (reading, listing, stopping, pausing, deleting).
"""

from __future__ import annotations

import base64
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from pytest_durable.errors import ResourceConflictException, ResourceNotFoundException
from pytest_durable.parsing import parse_function_name
from pytest_durable.service.history import error_of, record_event, result_of
from pytest_durable.service.model import (
    Execution,
    ExecutionStatus,
    Operation,
    OperationStatus,
    OperationType,
    Wire,
    ms_to_datetime,
)
from pytest_durable.service.transitions import Minting, fire_due_timers, new_callback_id

Clock = Callable[[], int]
DEFAULT_MAX_ITEMS = 1000
# ClientToken idempotency window (the model's docs of Checkpoint, Pause and Resume).
IDEMPOTENCY_WINDOW_MS = 15 * 60 * 1000
# "An execution with a paused timeout still times out 366 days after it started" (model docs);
# also the maximum DurableConfig.ExecutionTimeout.
MAX_TIMEOUT_SECONDS = 31_622_400


class ServiceBase:
    """State and helpers every part of the API shares. Thread-safe: one re-entrant lock."""

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
        # ARNs of the executions looked up since take_touched() last ran: the only ones a
        # request (or a timer) can have changed, so the only ones a store must save again.
        self._touched: set[str] = set()
        self._lock = threading.RLock()
        self._listeners: list[Callable[[str, Wire, Wire], None]] = []
        self._minting = Minting(
            callback_id=new_callback_id, child_execution_arn=self.child_execution_arn
        )

    # ----------------------------------------------------------------- plumbing

    def now_ms(self) -> int:
        return self._clock()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            yield

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the service's lock: nothing changes for the duration, so a store can take one
        consistent view of every execution."""
        with self._lock:
            yield

    def load_executions(self, executions: Iterable[Execution]) -> None:
        """Put executions saved by another service (a store's snapshot) into this one, which
        must have none, and rebuild the callback index from their operations."""
        with self._locked():
            if self._executions:
                raise RuntimeError("load_executions needs a service without executions")
            for execution in executions:
                self._executions[execution.arn] = execution
                for operation in execution.operations.values():
                    if operation.callback_id is not None:
                        self._callbacks[operation.callback_id] = (execution.arn, operation.id)

    def seed_operations(self, arn: str, operations: Iterable[Operation]) -> None:
        """Lambda's side, for a replay: give an execution that no invocation is running the
        operations recorded elsewhere (a cassette, a production history), as the state its next
        invocation is handed. Each is copied, so the caller's objects never become the
        service's; callback ids are indexed as a checkpoint would index them."""
        with self._locked():
            execution = self.execution(arn)
            if execution.active_invocation is not None:
                raise ResourceConflictException(
                    "Cannot seed operations while an invocation of the execution is in progress"
                )
            for operation in operations:
                execution.operations[operation.id] = replace(operation)
                if operation.callback_id is not None:
                    self._callbacks[operation.callback_id] = (arn, operation.id)

    def add_checkpoint_listener(self, listener: Callable[[str, Wire, Wire], None]) -> None:
        """Call ``listener(arn, request, response)`` after every accepted checkpoint."""
        self._listeners.append(listener)

    def execution(self, arn: str) -> Execution:
        try:
            execution = self._executions[arn]
        except KeyError:
            raise ResourceNotFoundException(f"Durable execution not found: {arn}") from None
        self._touched.add(arn)
        return execution

    def take_touched(self) -> set[str]:
        """The ARNs of the executions looked up (so possibly changed) since the last call, and
        forget them. Reads count too: that costs a store a needless save, never a lost one."""
        with self._locked():
            touched, self._touched = self._touched, set()
            return touched

    @property
    def executions(self) -> list[Execution]:
        return list(self._executions.values())

    def child_execution_arn(self, function_name: str) -> str | None:
        """The ARN the execution started by a chained invoke of ``function_name`` gets (a bare
        name, a qualified name or a function ARN); None if it names no function."""
        parsed = parse_function_name(function_name)
        if not parsed.is_valid:
            return None
        region = parsed.region or self.region
        account = parsed.account or self.account_id
        return (
            f"arn:aws:lambda:{region}:{account}:function:{parsed.name}:{parsed.version}"
            f"/durable-execution/{uuid.uuid4()}/{uuid.uuid4()}"
        )

    def function_arn(self, function_name: str, qualifier: str = "$LATEST") -> str:
        return (
            f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function_name}:{qualifier}"
        )

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
        execution.pause = None
        root = execution.operations[execution.execution_id]
        root.status = _ROOT_STATUS[status]
        root.end_ms = now
        execution.mark_changed(root.id)
        shown_root = named_root(root, execution.name)
        if status is ExecutionStatus.SUCCEEDED:
            record_event(
                execution, "ExecutionSucceeded", now, {"Result": result_of(result)}, shown_root
            )
        elif status is ExecutionStatus.FAILED:
            record_event(execution, "ExecutionFailed", now, {"Error": error_of(error)}, shown_root)
        elif status is ExecutionStatus.TIMED_OUT:
            record_event(
                execution, "ExecutionTimedOut", now, {"Error": error_of(error)}, shown_root
            )
        elif status is ExecutionStatus.STOPPED:
            record_event(execution, "ExecutionStopped", now, {"Error": error_of(error)}, shown_root)

    def _settle_pause(self, execution: Execution, now: int, *, interrupted: bool = True) -> None:
        """A PAUSING execution becomes PAUSED once its invocation checkpoints or ends."""
        if execution.status is ExecutionStatus.PAUSING and execution.pause is not None:
            execution.pause.interrupted_invocation = interrupted
            self._enter_paused(execution, now)

    def _enter_paused(self, execution: Execution, now: int) -> None:
        pause = execution.pause
        assert pause is not None
        execution.status = ExecutionStatus.PAUSED
        pause.paused_ms = now
        if pause.timeout_paused:
            pause.held_deadline_ms = execution.timers.pop(execution.execution_id, None)
        details: Wire = {"PauseRequestTimestamp": ms_to_datetime(pause.request_ms)}
        if pause.reason is not None:
            details["Reason"] = result_of(pause.reason)
        details["ExecutionTimeoutPaused"] = pause.timeout_paused
        record_event(
            execution,
            "ExecutionPaused",
            now,
            details,
            named_root(execution.operations[execution.execution_id], execution.name),
        )

    def _mint_token(self, execution: Execution) -> str:
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
        answered) since the latest invocation began, or retries that invocation (PENDING with
        nothing pending): Lambda re-invokes for each."""
        with self._locked():
            execution = self.execution(arn)
            if not execution.invocations or execution.retry_invocation:
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


_ROOT_STATUS = {
    ExecutionStatus.SUCCEEDED: OperationStatus.SUCCEEDED,
    ExecutionStatus.FAILED: OperationStatus.FAILED,
    ExecutionStatus.TIMED_OUT: OperationStatus.TIMED_OUT,
    ExecutionStatus.STOPPED: OperationStatus.STOPPED,
}


def named_root(root: Operation, name: str) -> Operation:
    """The EXECUTION operation as history events show it: Id and the execution's name."""
    return Operation(
        id=root.id, type=root.type, status=root.status, start_ms=root.start_ms, name=name
    )
