"""What a run leaves behind: the execution's outcome, its operations, invocations and history.

Everything here is built once, when a run ends, from the service's records and the checkpoint
log, and is immutable: a test can keep a result after its environment is closed.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pytest_durable.runner.checkpoints import CheckpointCall
from pytest_durable.runner.operations import OperationView, PathSegment, path_segments, walk_path
from pytest_durable.runner.payloads import ErrorInfo, decode_json
from pytest_durable.runner.updates import EmittedUpdate
from pytest_durable.service import Execution, OperationAction, OperationType, ms_to_datetime
from pytest_durable.transport.faults import InjectedFault


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
    #: Every fault injected into calls for this execution (``durable.faults``), in order, each
    #: with how the SDK and Lambda reacted (``fault.reaction``).
    faults: tuple[InjectedFault, ...] = ()

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
        return walk_path(self.operations, path_segments(path), "")

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
