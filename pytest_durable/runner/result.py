"""What a run leaves behind: the execution's outcome, its operations, invocations and history."""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python.exceptions import SerDesError
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES, SerDes, SerDesContext

from pytest_durable.service import Execution, ms_to_datetime
from pytest_durable.service.model import Operation


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


def _decode(payload: str | None) -> Any:
    """Decode a payload written with the SDK's default serdes (plain JSON for the execution
    result; the SDK's tagged envelope ``{"t": ..., "v": ...}`` for operation results), falling
    back to plain JSON and then to the raw text for payloads written by a custom serdes."""
    if payload is None or payload == "":
        return None
    try:
        return EXTENDED_TYPES_SERDES.deserialize(payload)
    except (SerDesError, ValueError, TypeError):
        pass
    try:
        return json.loads(payload)
    except ValueError:
        return payload


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

    @property
    def result(self) -> Any:
        """The result as the handler saw it, decoded with the SDK's default serdes (for a map or
        parallel, the SDK's ``BatchResult``). Use ``decode(serdes)`` for a custom serdes."""
        return _decode(self.result_payload)

    def decode(self, serdes: SerDes[Any]) -> Any:
        """The result decoded with the given SDK ``SerDes`` (the one the step was given)."""
        if self.result_payload is None:
            return None
        return serdes.deserialize(self.result_payload, SerDesContext(self.id, ""))

    @classmethod
    def build_tree(cls, operations: list[Operation]) -> list[OperationView]:
        """Views of all non-EXECUTION operations, children attached to their CONTEXT parents."""
        children: dict[str | None, list[Operation]] = {}
        for op in operations:
            if op.type.value != "EXECUTION":
                children.setdefault(op.parent_id, []).append(op)

        def view(op: Operation) -> OperationView:
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
                children=tuple(view(child) for child in children.get(op.id, [])),
            )

        return [view(op) for op in children.get(None, [])]


@dataclass(frozen=True)
class InvocationRecord:
    """One invocation of the handler: when it ran (virtual time) and how it ended."""

    request_id: str
    start: _dt.datetime
    end: _dt.datetime | None
    status: str
    error: ErrorInfo | None


@dataclass(frozen=True)
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

    @property
    def output(self) -> Any:
        """The handler's return value, decoded from the JSON the SDK returned."""
        return _decode(self.result_payload)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

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

    @classmethod
    def from_execution(cls, execution: Execution, history: list[dict[str, Any]]) -> ExecutionResult:
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
            operations=tuple(OperationView.build_tree(list(execution.operations.values()))),
            invocations=tuple(invocations),
            history=tuple(history),
            start=ms_to_datetime(execution.start_ms),
            end=ms_to_datetime(execution.end_ms) if execution.end_ms is not None else None,
        )
