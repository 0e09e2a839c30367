"""The operations of a run as they ended up: each one's status, attempts and outcome, its place
in the tree, and the path language that finds one (``"checkout/charge"``, ``["map", 2]``)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext

from pytest_durable.runner.payloads import ErrorInfo, Wire, decode_payload, event_error
from pytest_durable.service import ms_to_datetime
from pytest_durable.service.model import Operation

PathSegment = str | int


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
                    error=event_error(details),
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
        return walk_path(self.children, [segment], self.path or self.name or self.id)

    def operation_at(self, path: str | Sequence[PathSegment]) -> OperationView:
        """A descendant by path relative to this one (see ``ExecutionResult.operation_at``)."""
        return walk_path(self.children, path_segments(path), self.path or self.name or self.id)

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


def path_segments(path: str | Sequence[PathSegment]) -> list[PathSegment]:
    if isinstance(path, str):
        return [segment for segment in path.split("/") if segment != ""]
    return list(path)


def walk_path(
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
