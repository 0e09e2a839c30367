"""What a run leaves behind: the execution's outcome, its operations, invocations and history.

Everything here is built once, when a run ends, from the service's records and the checkpoint
log, and is immutable: a test can keep a result after its environment is closed.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aws_durable_execution_sdk_python.exceptions import SerDesError
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES, SerDes, SerDesContext

from pytest_durable.runner.checkpoints import CheckpointCall
from pytest_durable.service import Execution, OperationAction, OperationType, ms_to_datetime
from pytest_durable.service.model import Operation

Wire = dict[str, Any]
PathSegment = str | int


@dataclass(frozen=True)
class ErrorInfo:
    """An ``ErrorObject``: what the SDK or the service recorded for a failure."""

    type: str | None
    message: str | None
    data: str | None = None
    stack_trace: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, error: dict[str, Any] | None) -> ErrorInfo | None:
        if error is None:
            return None
        return cls(
            type=error.get("ErrorType"),
            message=error.get("ErrorMessage"),
            data=error.get("ErrorData"),
            stack_trace=tuple(error.get("StackTrace") or ()),
        )

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


def decode_payload(payload: str | None) -> Any:
    """Decode a payload written with the SDK's default serdes (plain JSON for the execution
    result; the SDK's tagged envelope ``{"t": ..., "v": ...}`` for operation results), falling
    back to plain JSON and then to the raw text for payloads written by a custom serdes."""
    if payload is None or payload == "":
        return None
    try:
        return EXTENDED_TYPES_SERDES.deserialize(payload, SerDesContext())
    except (SerDesError, ValueError, TypeError):
        pass
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def decode_json(payload: str | None) -> Any:
    """Decode the execution's result: the SDK writes it with plain ``json.dumps``, so a value
    that merely looks like a serdes envelope (``{"t": "i", "v": 21}``) stays what it is."""
    if payload is None or payload == "":
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def _event_error(details: Wire) -> ErrorInfo | None:
    error = details.get("Error")
    if not isinstance(error, dict):
        return None
    return ErrorInfo.from_wire(error.get("Payload") if "Payload" in error else error)


@dataclass(frozen=True)
class Attempt:
    """One attempt of a step, read from its history events (``StepStarted`` then ``StepFailed``
    or ``StepSucceeded``): what the service recorded about each try, on the virtual clock."""

    #: The service's attempt number (``RetryDetails.CurrentAttempt``), from 1.
    number: int
    #: SUCCEEDED, FAILED (no retry left), RETRY (another attempt is scheduled: a failed try, or a
    #: wait_for_condition check that asked to keep polling) or STARTED (never finished: the
    #: invocation crashed or the run stopped).
    status: str
    start: _dt.datetime | None
    end: _dt.datetime | None
    error: ErrorInfo | None = None
    #: Delay before the next attempt, for a RETRY.
    next_attempt_delay: _dt.timedelta | None = None
    result_payload: str | None = None

    @property
    def result(self) -> Any:
        """The attempt's result, decoded with the SDK's default serdes."""
        return decode_payload(self.result_payload)

    @classmethod
    def from_events(cls, events: Iterable[Wire]) -> tuple[Attempt, ...]:
        attempts: list[Attempt] = []
        started: _dt.datetime | None = None
        open_attempt = False
        for event in events:
            kind = event["EventType"]
            if kind == "StepStarted":
                # A second START without an end (a crash, then a re-run) keeps one attempt: the
                # service only counts attempts that ended.
                started, open_attempt = event["EventTimestamp"], True
                continue
            if kind not in ("StepSucceeded", "StepFailed"):
                continue
            details = event.get(f"{kind}Details") or {}
            retry = details.get("RetryDetails") or {}
            delay = retry.get("NextAttemptDelaySeconds")
            if delay is not None:
                # Another attempt follows: a failed try (StepFailed) or a wait_for_condition
                # poll that carried its state on (StepSucceeded, see service/transitions.py).
                status = "RETRY"
            else:
                status = "SUCCEEDED" if kind == "StepSucceeded" else "FAILED"
            result = details.get("Result") or {}
            attempts.append(
                cls(
                    number=int(retry.get("CurrentAttempt", len(attempts) + 1)),
                    status=status,
                    start=started if open_attempt else None,
                    end=event["EventTimestamp"],
                    error=_event_error(details),
                    next_attempt_delay=(
                        _dt.timedelta(seconds=int(delay)) if delay is not None else None
                    ),
                    result_payload=result.get("Payload") if isinstance(result, dict) else None,
                )
            )
            started, open_attempt = None, False
        if open_attempt:
            attempts.append(
                cls(number=len(attempts) + 1, status="STARTED", start=started, end=None)
            )
        return tuple(attempts)


@dataclass(frozen=True)
class OperationView:
    """One durable operation as it ended up: status, attempts, outcome, place in the tree."""

    id: str
    type: str
    sub_type: str | None
    name: str | None
    parent_id: str | None
    status: str
    start: _dt.datetime
    end: _dt.datetime | None
    attempt: int
    result_payload: str | None
    error: ErrorInfo | None
    children: tuple[OperationView, ...] = field(default=(), repr=False)
    #: Where it sits in the tree, as ``operation_at`` reads it: names from the top level down,
    #: ``name[k]`` for the k-th sibling of that name (k > 0), ``[i]`` for an unnamed operation
    #: (its position among its siblings).
    path: str = field(default="", repr=False)
    #: Its history events (``GetDurableExecutionHistory`` shape), in EventId order.
    events: tuple[Wire, ...] = field(default=(), repr=False, compare=False)
    #: For a STEP: each attempt, from the history events.
    attempts: tuple[Attempt, ...] = field(default=(), repr=False, compare=False)

    @property
    def result(self) -> Any:
        """The result as the handler saw it, decoded with the SDK's default serdes (for a map or
        parallel, the SDK's ``BatchResult``). Use ``decode(serdes)`` for a custom serdes."""
        return decode_payload(self.result_payload)

    @property
    def duration(self) -> _dt.timedelta | None:
        """Virtual time from start to end."""
        return None if self.end is None else self.end - self.start

    def decode(self, serdes: SerDes[Any]) -> Any:
        """The result decoded with the given SDK ``SerDes`` (the one the step was given)."""
        if self.result_payload is None:
            return None
        return serdes.deserialize(self.result_payload, SerDesContext(self.id, ""))

    def child(self, segment: PathSegment, *, index: int = 0) -> OperationView:
        """A direct child: by name (the ``index``-th of that name) or by position (an int)."""
        if isinstance(segment, str) and index:
            segment = f"{segment}[{index}]"
        return _walk(self.children, [segment], self.path or self.name or self.id)

    def operation_at(self, path: str | Sequence[PathSegment]) -> OperationView:
        """A descendant by path relative to this one (see ``ExecutionResult.operation_at``)."""
        return _walk(self.children, _segments(path), self.path or self.name or self.id)

    @classmethod
    def build_tree(
        cls, operations: list[Operation], history: Sequence[Wire] = ()
    ) -> list[OperationView]:
        """Views of all non-EXECUTION operations, children attached to their CONTEXT parents."""
        children: dict[str | None, list[Operation]] = {}
        for op in operations:
            if op.type.value != "EXECUTION":
                children.setdefault(op.parent_id, []).append(op)
        events: dict[str, list[Wire]] = {}
        for event in history:
            if "Id" in event:
                events.setdefault(event["Id"], []).append(event)

        def view(op: Operation, path: str) -> OperationView:
            own = tuple(events.get(op.id, ()))
            return cls(
                id=op.id,
                type=op.type.value,
                sub_type=op.sub_type,
                name=op.name,
                parent_id=op.parent_id,
                status=op.status.value,
                start=ms_to_datetime(op.start_ms),
                end=ms_to_datetime(op.end_ms) if op.end_ms is not None else None,
                attempt=op.attempt,
                result_payload=op.result,
                error=ErrorInfo.from_wire(op.error),
                children=level(op.id, path),
                path=path,
                events=own,
                attempts=Attempt.from_events(own) if op.type.value == "STEP" else (),
            )

        def level(parent: str | None, prefix: str) -> tuple[OperationView, ...]:
            views = []
            seen: dict[str, int] = {}
            for position, op in enumerate(children.get(parent, [])):
                if op.name is None:
                    segment = f"[{position}]"
                else:
                    repeat = seen[op.name] = seen.get(op.name, -1) + 1
                    segment = f"{op.name}[{repeat}]" if repeat else op.name
                views.append(view(op, f"{prefix}/{segment}" if prefix else segment))
            return tuple(views)

        return list(level(None, ""))


def _segments(path: str | Sequence[PathSegment]) -> list[PathSegment]:
    if isinstance(path, str):
        return [segment for segment in path.split("/") if segment != ""]
    return list(path)


def _walk(
    views: tuple[OperationView, ...], segments: list[PathSegment], where: str
) -> OperationView:
    """Follow path segments down the tree. A segment is a name (the first of that name), a name
    with ``[k]`` (the k-th of that name), ``[k]`` alone or an int (the k-th child)."""
    if not segments:
        raise LookupError("An operation path needs at least one segment")
    current: OperationView | None = None
    level = views
    for depth, segment in enumerate(segments):
        current = _pick(level, segment)
        if current is None:
            here = "/".join(str(s) for s in segments[:depth]) or where or "the top level"
            names = [v.name if v.name is not None else f"[{i}]" for i, v in enumerate(level)]
            raise LookupError(
                f"No operation {segment!r} under {here}. "
                f"Operations there: {', '.join(names) or '(none)'}"
            )
        level = current.children
    assert current is not None
    return current


def _pick(level: tuple[OperationView, ...], segment: PathSegment) -> OperationView | None:
    if isinstance(segment, int):
        return level[segment] if -len(level) <= segment < len(level) else None
    exact = [v for v in level if v.name == segment]
    if exact:
        return exact[0]
    name, bracket, rest = segment.rpartition("[")
    if not bracket or not rest.endswith("]") or not rest[:-1].lstrip("-").isdigit():
        return None
    position = int(rest[:-1])
    if name == "":
        return _pick(level, position)
    named = [v for v in level if v.name == name]
    return named[position] if -len(named) <= position < len(named) else None


@dataclass(frozen=True)
class EmittedUpdate:
    """One ``OperationUpdate`` the SDK sent, with where it came from."""

    #: Position among all updates of the execution, in the order the service received them.
    sequence: int
    #: The checkpoint call that carried it (``CheckpointCall.sequence``) and its place in it.
    call: int
    position: int
    #: Index of the invocation that sent it in ``ExecutionResult.invocations``.
    invocation: int | None
    #: The update exactly as sent.
    raw: Wire = field(repr=False)

    @property
    def id(self) -> str:
        return str(self.raw.get("Id"))

    @property
    def type(self) -> str:
        return str(self.raw.get("Type"))

    @property
    def action(self) -> str:
        return str(self.raw.get("Action"))

    @property
    def name(self) -> str | None:
        return self.raw.get("Name")

    @property
    def parent_id(self) -> str | None:
        return self.raw.get("ParentId")

    @property
    def sub_type(self) -> str | None:
        return self.raw.get("SubType")

    @property
    def payload(self) -> str | None:
        return self.raw.get("Payload")

    @property
    def value(self) -> Any:
        """The payload decoded with the SDK's default serdes."""
        return decode_payload(self.payload)

    @property
    def error(self) -> ErrorInfo | None:
        return ErrorInfo.from_wire(self.raw.get("Error"))

    def __str__(self) -> str:
        label = self.name if self.name is not None else self.id[:12]
        return f"{self.type} {self.action} {label}"


@dataclass(frozen=True)
class InvocationRecord:
    """One invocation of the handler: when it ran (virtual time) and how it ended."""

    request_id: str
    start: _dt.datetime
    end: _dt.datetime | None
    status: str
    error: ErrorInfo | None


_ANY: Any = object()


@dataclass(frozen=True, repr=False)
class ExecutionResult:
    """The outcome of a durable execution run by pytest-durable."""

    arn: str
    name: str
    status: str
    result_payload: str | None
    error: ErrorInfo | None
    operations: tuple[OperationView, ...]
    invocations: tuple[InvocationRecord, ...]
    history: tuple[dict[str, Any], ...]
    start: _dt.datetime
    end: _dt.datetime | None
    #: Every accepted checkpoint call, in order (see ``updates()`` for the updates flattened).
    checkpoints: tuple[CheckpointCall, ...] = ()

    def __repr__(self) -> str:
        # Compact on purpose: pytest prints it in assertion explanations, and the full history
        # would bury the difference. The timeline in the failure report has the details.
        error = f", error={str(self.error)!r}" if self.error is not None else ""
        return (
            f"ExecutionResult(status={self.status!r}, name={self.name!r}, "
            f"output={_short(self.output)}{error}, "
            f"invocations={len(self.invocations)}, operations={len(self.all_operations())})"
        )

    @property
    def output(self) -> Any:
        """The handler's return value, decoded from the JSON the SDK returned."""
        return decode_json(self.result_payload)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def function_name(self) -> str:
        """The function the execution ran as (from its ARN): the ``FunctionName`` of
        ``ListDurableExecutionsByFunction``, and how to pick a chained invoke's own execution
        out of ``durable.results()``."""
        return self.arn.split(":function:", 1)[-1].split(":", 1)[0]

    @property
    def duration(self) -> _dt.timedelta | None:
        """Virtual time from start to end."""
        return None if self.end is None else self.end - self.start

    def all_operations(self) -> list[OperationView]:
        """Every operation, depth-first in the order each was started."""
        found: list[OperationView] = []

        def walk(views: tuple[OperationView, ...]) -> None:
            for view in views:
                found.append(view)
                walk(view.children)

        walk(self.operations)
        return found

    def operation(self, name: str, *, index: int = 0) -> OperationView:
        """The ``index``-th operation named ``name`` anywhere in the tree (depth-first)."""
        matches = [op for op in self.all_operations() if op.name == name]
        if len(matches) <= index:
            names = sorted({op.name for op in self.all_operations() if op.name})
            raise LookupError(
                f"No operation named {name!r} at index {index} ({len(matches)} found). "
                f"Operation names in this execution: {', '.join(names) or '(none)'}"
            )
        return matches[index]

    def operation_by_id(self, operation_id: str) -> OperationView:
        """The operation with this Id (as in history events and checkpoint updates)."""
        for op in self.all_operations():
            if op.id == operation_id:
                return op
        raise LookupError(f"No operation with Id {operation_id!r} in this execution")

    def operation_at(self, path: str | Sequence[PathSegment]) -> OperationView:
        """The operation at a path through child contexts, map items and parallel branches:
        ``"shipping/print-label"``, ``"items/map-item-2/multiply"``, ``"poll[1]"`` (the second
        operation named poll at that level), ``"both/[0]"`` or ``("both", 0)`` (by position).
        Pass a sequence of segments when a name contains ``/``."""
        return _walk(self.operations, _segments(path), "")

    def updates(
        self,
        *,
        type: str | None = None,
        action: str | None = None,
        name: str | None = None,
        parent: str | OperationView | None = _ANY,
        id: str | None = None,
        invocation: int | None = None,
    ) -> list[EmittedUpdate]:
        """Every OperationUpdate the SDK sent, in order, optionally filtered: by operation
        ``type`` (STEP, WAIT, CONTEXT, ...), ``action`` (START, SUCCEED, FAIL, RETRY, CANCEL),
        ``name``, ``parent`` (an operation, its Id, or its path/name; ``None`` for top-level
        updates only), operation ``id`` or ``invocation`` index."""
        _check_choice("type", type, OperationType)
        _check_choice("action", action, OperationAction)
        parent_id = _ANY if parent is _ANY else self._parent_id(parent)
        found: list[EmittedUpdate] = []
        sequence = 0
        for call in self.checkpoints:
            for position, raw in enumerate(call.updates):
                update = EmittedUpdate(sequence, call.sequence, position, call.invocation, raw)
                sequence += 1
                if type is not None and update.type != type.upper():
                    continue
                if action is not None and update.action != action.upper():
                    continue
                if name is not None and update.name != name:
                    continue
                if parent_id is not _ANY and update.parent_id != parent_id:
                    continue
                if id is not None and update.id != id:
                    continue
                if invocation is not None and update.invocation != invocation:
                    continue
                found.append(update)
        return found

    def _parent_id(self, parent: str | OperationView | None) -> str | None:
        if parent is None or isinstance(parent, OperationView):
            return None if parent is None else parent.id
        if any(op.id == parent for op in self.all_operations()):
            return parent
        try:
            return self.operation_at(parent).id
        except LookupError:
            return self.operation(parent).id

    @classmethod
    def from_execution(
        cls,
        execution: Execution,
        history: list[dict[str, Any]],
        checkpoints: tuple[CheckpointCall, ...] = (),
    ) -> ExecutionResult:
        invocations = []
        for invocation in execution.invocations:
            if invocation.end_ms is None:
                status = "RUNNING"
            elif invocation.error is not None:
                status = "FAILED"
            else:
                status = "COMPLETED"
            invocations.append(
                InvocationRecord(
                    request_id=invocation.request_id,
                    start=ms_to_datetime(invocation.start_ms),
                    end=ms_to_datetime(invocation.end_ms) if invocation.end_ms else None,
                    status=status,
                    error=ErrorInfo.from_wire(invocation.error),
                )
            )
        return cls(
            arn=execution.arn,
            name=execution.name,
            status=execution.status.value,
            result_payload=execution.result,
            error=ErrorInfo.from_wire(execution.error),
            operations=tuple(
                OperationView.build_tree(list(execution.operations.values()), history)
            ),
            invocations=tuple(invocations),
            history=tuple(history),
            start=ms_to_datetime(execution.start_ms),
            end=ms_to_datetime(execution.end_ms) if execution.end_ms is not None else None,
            checkpoints=checkpoints,
        )


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_choice(what: str, value: str | None, allowed: type[StrEnum]) -> None:
    """A misspelt filter (``action="SUCCEEDED"``) would match nothing and make an assertion on
    "no such update" pass: refuse values that can never match."""
    if value is not None and value.upper() not in {member.value for member in allowed}:
        choices = ", ".join(member.value for member in allowed)
        raise ValueError(f"{what}={value!r} is not one of {choices}")
