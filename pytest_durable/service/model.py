"""The service's records: executions, operations, invocations.

Timestamps are held as integer epoch milliseconds (the service's precision, and the unit of the
invocation envelope). ``to_wire`` methods give the botocore output shapes, with timestamps as
aware UTC datetimes, exactly what a boto3 caller receives.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

Wire = dict[str, Any]


def ms_to_datetime(ms: int) -> _dt.datetime:
    """Exact conversion (no float rounding) from epoch milliseconds to an aware UTC datetime."""
    return EPOCH + _dt.timedelta(milliseconds=ms)


def datetime_to_ms(value: _dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return (value - EPOCH) // _dt.timedelta(milliseconds=1)


class OperationType(StrEnum):
    EXECUTION = "EXECUTION"
    CONTEXT = "CONTEXT"
    STEP = "STEP"
    WAIT = "WAIT"
    CALLBACK = "CALLBACK"
    CHAINED_INVOKE = "CHAINED_INVOKE"


class OperationAction(StrEnum):
    START = "START"
    SUCCEED = "SUCCEED"
    FAIL = "FAIL"
    RETRY = "RETRY"
    CANCEL = "CANCEL"


class OperationStatus(StrEnum):
    STARTED = "STARTED"
    PENDING = "PENDING"
    READY = "READY"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"
    STOPPED = "STOPPED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_OPERATION_STATUSES


_TERMINAL_OPERATION_STATUSES = frozenset(
    {
        OperationStatus.SUCCEEDED,
        OperationStatus.FAILED,
        OperationStatus.CANCELLED,
        OperationStatus.TIMED_OUT,
        OperationStatus.STOPPED,
    }
)


class ExecutionStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    STOPPED = "STOPPED"
    PAUSING = "PAUSING"
    PAUSED = "PAUSED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_EXECUTION_STATUSES


_TERMINAL_EXECUTION_STATUSES = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMED_OUT,
        ExecutionStatus.STOPPED,
    }
)


@dataclass
class Operation:
    """One durable operation as the service stores it. Mutable: updates and timers change it."""

    id: str
    type: OperationType
    status: OperationStatus
    start_ms: int
    parent_id: str | None = None
    name: str | None = None
    sub_type: str | None = None
    end_ms: int | None = None
    # EXECUTION
    input_payload: str | None = None
    # STEP / CONTEXT / CALLBACK / CHAINED_INVOKE outcome
    result: str | None = None
    error: Wire | None = None
    # STEP
    attempt: int = 0
    next_attempt_ms: int | None = None
    # WAIT
    wait_seconds: int | None = None
    scheduled_end_ms: int | None = None
    # CONTEXT
    replay_children: bool | None = None
    # CALLBACK
    callback_id: str | None = None
    timeout_seconds: int = 0
    heartbeat_timeout_seconds: int = 0
    timeout_deadline_ms: int | None = None
    heartbeat_deadline_ms: int | None = None
    # CHAINED_INVOKE
    function_name: str | None = None
    tenant_id: str | None = None
    invoke_input: str | None = None
    child_execution_arn: str | None = None

    def to_wire(self, stamp: Callable[[int], Any] = ms_to_datetime) -> Wire:
        """The botocore ``Operation`` shape: every field the SDK needs to replace its local copy.

        ``stamp`` renders timestamps: aware datetimes for API answers (what boto3 returns), or
        ``int`` epoch milliseconds for the invocation envelope (what the SDK parses there)."""
        wire: Wire = {"Id": self.id, "Type": self.type.value}
        if self.parent_id is not None:
            wire["ParentId"] = self.parent_id
        if self.name is not None:
            wire["Name"] = self.name
        if self.sub_type is not None:
            wire["SubType"] = self.sub_type
        wire["StartTimestamp"] = stamp(self.start_ms)
        if self.end_ms is not None:
            wire["EndTimestamp"] = stamp(self.end_ms)
        wire["Status"] = self.status.value
        details = self._details(stamp)
        if details is not None:
            wire[_DETAILS_KEY[self.type]] = details
        return wire

    def _details(self, stamp: Callable[[int], Any]) -> Wire | None:
        match self.type:
            case OperationType.EXECUTION:
                return {} if self.input_payload is None else {"InputPayload": self.input_payload}
            case OperationType.STEP:
                step: Wire = {"Attempt": self.attempt}
                if self.next_attempt_ms is not None:
                    step["NextAttemptTimestamp"] = stamp(self.next_attempt_ms)
                _put_outcome(step, self.result, self.error)
                return step
            case OperationType.WAIT:
                if self.scheduled_end_ms is None:
                    return None
                return {"ScheduledEndTimestamp": stamp(self.scheduled_end_ms)}
            case OperationType.CONTEXT:
                context: Wire = {}
                if self.replay_children is not None:
                    context["ReplayChildren"] = self.replay_children
                _put_outcome(context, self.result, self.error)
                return context or None
            case OperationType.CALLBACK:
                callback: Wire = {}
                if self.callback_id is not None:
                    callback["CallbackId"] = self.callback_id
                _put_outcome(callback, self.result, self.error)
                return callback
            case OperationType.CHAINED_INVOKE:
                invoke: Wire = {}
                _put_outcome(invoke, self.result, self.error)
                return invoke or None
        return None  # pragma: no cover - the match is exhaustive


_DETAILS_KEY = {
    OperationType.EXECUTION: "ExecutionDetails",
    OperationType.STEP: "StepDetails",
    OperationType.WAIT: "WaitDetails",
    OperationType.CONTEXT: "ContextDetails",
    OperationType.CALLBACK: "CallbackDetails",
    OperationType.CHAINED_INVOKE: "ChainedInvokeDetails",
}


def _put_outcome(details: Wire, result: str | None, error: Wire | None) -> None:
    if result is not None:
        details["Result"] = result
    if error is not None:
        details["Error"] = dict(error)


@dataclass
class Invocation:
    """One handler invocation as the service saw it (Lambda's request, not the SDK's)."""

    request_id: str
    start_ms: int
    checkpoint_token: str
    # The execution's wake count when this invocation began (see Execution.wake_count).
    wake_count_at_start: int = 0
    end_ms: int | None = None
    error: Wire | None = None
    #: How it ended: SUCCEEDED, FAILED or PENDING (the handler's output status), or CRASHED.
    outcome: str | None = None


@dataclass
class PauseState:
    """A PauseDurableExecution request in effect (PAUSING, then PAUSED)."""

    request_ms: int
    reason: str | None
    timeout_paused: bool
    wake_count_at_pause: int
    interrupted_invocation: bool = False
    paused_ms: int | None = None
    #: The execution deadline, held here while the timeout is paused.
    held_deadline_ms: int | None = None


@dataclass
class CachedCheckpoint:
    """A checkpoint answer kept for ClientToken retries (idempotency window)."""

    fingerprint: Any
    response: Wire
    created_ms: int


@dataclass
class Execution:
    """A durable execution: its operations, token, timers, history and invocations."""

    arn: str
    name: str
    execution_id: str
    function_name: str
    function_arn: str
    version: str
    input_payload: str
    start_ms: int
    execution_timeout_seconds: int
    retention_period_days: int
    status: ExecutionStatus = ExecutionStatus.RUNNING
    end_ms: int | None = None
    result: str | None = None
    error: Wire | None = None
    operations: dict[str, Operation] = field(default_factory=dict)
    # Every change appends the changed Id. Responses carry the Ids appended after the handler's
    # watermark, so building a response costs what changed, not the length of the history.
    change_log: list[str] = field(default_factory=list)
    watermark: int = 0
    checkpoint_token: str | None = None
    idempotency_cache: dict[tuple[str, str], CachedCheckpoint] = field(default_factory=dict)
    # Pending timers, Id -> due time in epoch ms.
    timers: dict[str, int] = field(default_factory=dict)
    history: list[Wire] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)
    # Counts changes the service made on its own (timers fired, callbacks answered or timed out,
    # chained invokes finished): each is a reason for Lambda to re-invoke the handler.
    wake_count: int = 0
    # A terminal outcome reported through an EXECUTION update, settled when the invocation ends.
    pending_outcome: tuple[ExecutionStatus, str | None, Wire | None] | None = None
    pause: PauseState | None = None
    # Consecutive invocations that answered PENDING with nothing pending; the service invokes
    # again (``retry_invocation``) until there are too many (service/invocation_output.py).
    idle_pending_invocations: int = 0
    retry_invocation: bool = False
    # Idempotency of Pause/Resume ClientTokens: (api, token) -> (parameters, time).
    operator_tokens: dict[tuple[str, str], tuple[Any, int]] = field(default_factory=dict)

    @property
    def active_invocation(self) -> Invocation | None:
        if self.invocations and self.invocations[-1].end_ms is None:
            return self.invocations[-1]
        return None

    def mark_changed(self, operation_id: str) -> None:
        self.change_log.append(operation_id)

    def changes_since_watermark(self) -> list[Operation]:
        """Operations changed since the handler last saw state, each once, oldest change first."""
        seen: dict[str, None] = dict.fromkeys(self.change_log[self.watermark :])
        self.watermark = len(self.change_log)
        return [self.operations[op_id] for op_id in seen if op_id in self.operations]

    def summary_wire(self) -> Wire:
        """The ``Execution`` list-item shape of ListDurableExecutionsByFunction."""
        wire: Wire = {
            "DurableExecutionArn": self.arn,
            "DurableExecutionName": self.name,
            "FunctionArn": self.function_arn,
            "Status": self.status.value,
            "StartTimestamp": ms_to_datetime(self.start_ms),
        }
        if self.end_ms is not None:
            wire["EndTimestamp"] = ms_to_datetime(self.end_ms)
        return wire
