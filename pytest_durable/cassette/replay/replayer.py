"""Determinism replay: run the current handler against a recorded execution, without running
step bodies, and report where the code no longer does what was recorded.

This is what Temporal's Replayer does for workflows, for Lambda durable functions. The handler
is invoked once, by the real SDK, on a fake service seeded with the recorded operations (their
statuses and results), so every recorded step replays its result instead of running. The SDK
performs its own identity check on each operation (``NonDeterministicExecutionError``); the
replay watches which operation the code reaches at each Id, and never lets a step body run
(:mod:`.seams`).

One run stops at the first difference, and operation Ids are positions, so a single run cannot
tell a renamed step from an added one. The replay therefore runs the code again, each time
giving the operation it diverged at an outcome it can go on with:

- the recorded operation it now matches elsewhere (the same Type, SubType and Name under the
  same parent), moved to where the code now runs it, with everything under it;
- for a wait, a wait that has ended (a wait has no result);
- for an operation of the recorded kind under another name, the recorded outcome (if the code
  then agrees with the record again, it was a rename);
- otherwise nothing: the code stops there (a new step's body is never run).

and finally compares, per context, the operations the code ran with the recorded ones
(:mod:`.report`). By default ("deep") completed child contexts, map iterations and parallel
branches are re-run over their recorded children, so changes inside them are checked as well;
``deep=False`` replays them from their recorded results, as the service would for an
execution that is past them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_durable.cassette.cloud.reconstruct import operation_from_wire
from pytest_durable.cassette.recording.format import Cassette, RecordedExecution, read_cassette
from pytest_durable.cassette.replay.positions import children_by_position, index_of, moved, subtree
from pytest_durable.cassette.replay.report import (
    Divergence,
    OperationRef,
    ReplayReport,
    compare_context,
)
from pytest_durable.cassette.replay.seams import Identity, observe
from pytest_durable.errors import NonDeterminismError
from pytest_durable.runner.environment import DurableEnvironment
from pytest_durable.service.model import (
    Operation,
    OperationStatus,
    OperationType,
    datetime_to_ms,
)

Handler = Callable[[Any, Any], Any]
Key = tuple[str, str | None, str | None]
_NONDETERMINISTIC = "NonDeterministicExecutionError"
_POSITION_MARGIN = 8


def _key(operation: Operation) -> Key:
    return (operation.type.value, operation.sub_type or None, operation.name or None)


@dataclass
class _Run:
    """One invocation of the handler against one view of the record."""

    status: str
    error: str | None
    visits: dict[str, Identity]
    blocked: list[Identity]
    #: CONTEXT operations the code closed (SUCCEED or FAIL) in this run.
    closed: set[str] = field(default_factory=set)
    result: str | None = None

    @property
    def sdk_error(self) -> str | None:
        if self.error is not None and _NONDETERMINISTIC in self.error:
            return self.error
        return None


class Replayer:
    """Replays ``handler`` against one recorded execution (see the module doc)."""

    def __init__(
        self,
        handler: Handler,
        recorded: RecordedExecution,
        *,
        deep: bool = True,
        source: str = "",
        invocation_wall_timeout: float = 60.0,
        max_runs: int | None = None,
    ) -> None:
        self.handler = handler
        self.recorded = recorded
        self.deep = deep
        self.source = source or recorded.name
        self.invocation_wall_timeout = invocation_wall_timeout
        operations = [operation_from_wire(wire) for wire in recorded.operations]
        #: Recorded operations (EXECUTION excluded), as recorded.
        self.record: dict[str, Operation] = {
            op.id: op for op in operations if op.type is not OperationType.EXECUTION
        }
        #: The same, as shown to the code (completed contexts re-opened when deep).
        self.presented: dict[str, Operation] = {
            op_id: self._present(op) for op_id, op in self.record.items()
        }
        self.max_runs = max_runs or 2 * len(self.record) + 10
        self._view: dict[str, Operation] = dict(self.presented)
        #: For each Id in the view, the recorded operation it came from (None: made up).
        self._origin: dict[str, str | None] = {op_id: op_id for op_id in self.record}
        #: Recorded operations the code ran as themselves (in place or moved).
        self._claimed: set[str] = set()
        #: Recorded operations whose outcome was lent to a possibly renamed operation.
        self._lent: set[str] = set()
        #: View Ids showing a recorded operation under the name the code now uses.
        self._renamed: set[str] = set()
        self._positions = {
            op.id: index_of(op.id, op.parent_id, len(self.record) + _POSITION_MARGIN)
            for op in self.record.values()
        }

    def _present(self, operation: Operation) -> Operation:
        if self.deep and operation.type is OperationType.CONTEXT and operation.status.is_terminal:
            return replace(
                operation,
                status=OperationStatus.STARTED,
                end_ms=None,
                result=None,
                error=None,
                replay_children=None,
            )
        return replace(operation)

    # ------------------------------------------------------------------ one run

    def _run(self) -> _Run:
        recorded = self.recorded
        with DurableEnvironment(
            start=recorded.captured_at,
            invocation_wall_timeout=self.invocation_wall_timeout,
        ) as environment:
            driver = environment.start(
                self.handler,
                input_payload=recorded.input_payload,
                function_name=recorded.function_name,
            )
            environment.service.seed_operations(driver.arn, self._view.values())
            with observe(driver.arn) as observation, _quiet_sdk():
                outcome = driver.invoke()
            calls = environment.checkpoints.calls(driver.arn)
        closed = {
            update["Id"]
            for call in calls
            for update in call.updates
            if update.get("Type") == "CONTEXT" and update.get("Action") in ("SUCCEED", "FAIL")
        }
        if outcome.crashed:
            crash = f"{type(outcome.exception).__name__}: {outcome.exception}"
            return _Run("CRASHED", crash, observation.visits, observation.blocked, closed)
        output = outcome.output or {}
        failure = output.get("Error") or {}
        error = f"{failure.get('ErrorType')}: {failure.get('ErrorMessage')}" if failure else None
        return _Run(
            str(output.get("Status")),
            error,
            dict(observation.visits),
            list(observation.blocked),
            closed,
            output.get("Result"),
        )

    # ------------------------------------------------------------------ the loop

    def replay(self) -> ReplayReport:
        """Run the code until nothing more can be learned, and report (see the module doc)."""
        first = run = self._run()
        runs = 1
        while runs < self.max_runs:
            self._claim(run)
            if not self._advance(run):
                break
            run = self._run()
            runs += 1
        return self._report(run, first, runs)

    def _claim(self, run: _Run) -> None:
        for op_id, identity in run.visits.items():
            shown = self._view.get(op_id)
            origin = self._origin.get(op_id)
            if op_id in self._renamed:
                continue
            if shown is not None and origin is not None and _key(shown) == identity.key:
                self._claimed.add(origin)
                self._lent.discard(origin)

    def _advance(self, run: _Run) -> bool:
        """Change the view so the next run gets further; False when nothing more can be
        learned."""
        for op_id, identity in run.visits.items():
            shown = self._view.get(op_id)
            if shown is not None and _key(shown) != identity.key:
                return self._resolve(op_id, identity, diverged=True)
        for op_id, identity in run.visits.items():
            if op_id not in self._view and self._resolve(op_id, identity, diverged=False):
                return True
        return False

    def _resolve(self, op_id: str, identity: Identity, *, diverged: bool) -> bool:
        shown = self._view.get(op_id)
        origin = self._origin.get(op_id)
        match = self._recorded_match(op_id, identity)
        if match is not None:
            self._place(op_id, match, identity)
            return True
        if identity.type == OperationType.WAIT.value:
            self._clear(op_id)
            self._view[op_id] = self._ended_wait(op_id, identity)
            self._origin[op_id] = None
            return True
        if not diverged:
            return False
        assert shown is not None
        same_kind = (shown.type.value, shown.sub_type or None) == identity.key[:2]
        if same_kind and origin is not None and origin not in self._claimed | self._lent:
            # Maybe renamed: the recorded outcome under the new name lets the code go on. The
            # recorded operation stays available should the code run it later (then this one
            # was added, not renamed).
            self._view[op_id] = replace(shown, name=identity.name)
            self._renamed.add(op_id)
            self._lent.add(origin)
            return True
        # Nothing recorded fits: the code starts it afresh (a context runs its body; a step
        # stops the replay before its body).
        self._clear(op_id)
        return True

    def _recorded_match(self, op_id: str, identity: Identity) -> str | None:
        """An unclaimed recorded operation the code's operation is, under the same parent,
        nearest to where the code runs it."""
        parent_origin = (
            self._origin.get(identity.parent_id, identity.parent_id) if identity.parent_id else None
        )
        position = index_of(op_id, identity.parent_id, len(self.record) + _POSITION_MARGIN)
        candidates = [
            op
            for op in self.record.values()
            if op.id not in self._claimed
            and op.parent_id == parent_origin
            and _key(op) == identity.key
            and op.id != self._origin.get(op_id)
        ]
        if not candidates:
            return None
        return min(
            candidates,
            key=lambda op: abs((self._positions.get(op.id) or 0) - (position or 0)),
        ).id

    def _place(self, op_id: str, recorded_id: str, identity: Identity) -> None:
        self._clear(op_id)
        for original, copy in moved(self.presented, recorded_id, op_id):
            if copy.id == op_id:
                copy.parent_id = identity.parent_id
            self._view[copy.id] = copy
            self._origin[copy.id] = original
        self._claimed.add(recorded_id)

    def _clear(self, op_id: str) -> None:
        for gone in subtree(self._view, op_id):
            self._view.pop(gone, None)
            self._origin.pop(gone, None)
            self._renamed.discard(gone)

    def _ended_wait(self, op_id: str, identity: Identity) -> Operation:
        now = datetime_to_ms(self.recorded.captured_at)
        return Operation(
            id=op_id,
            type=OperationType.WAIT,
            status=OperationStatus.SUCCEEDED,
            start_ms=now,
            end_ms=now,
            parent_id=identity.parent_id,
            name=identity.name,
            sub_type=identity.sub_type,
            scheduled_end_ms=now,
        )

    # ------------------------------------------------------------------ the report

    def _report(self, final: _Run, first: _Run, runs: int) -> ReplayReport:
        current = self._current_refs(final)
        counterpart: dict[str, str] = {}
        for op_id, identity in final.visits.items():
            origin = self._origin.get(op_id)
            if origin is None or op_id not in self._view:
                continue
            if origin not in counterpart or _key(self.record[origin]) == identity.key:
                counterpart[origin] = op_id
        recorded_children = children_by_position(self.record.values())
        recorded_refs = self._recorded_refs()
        divergences: list[Divergence] = []
        parents: list[str | None] = [None] + [
            op.id for op in self.record.values() if op.type is OperationType.CONTEXT
        ]
        ended = final.status in ("SUCCEEDED", "FAILED")
        for parent in parents:
            code_parent = None if parent is None else counterpart.get(parent)
            if parent is not None and code_parent is None:
                continue  # the code never reached this context (or it is gone: reported above)
            rec = [recorded_refs[op.id] for op in recorded_children.get(parent, [])]
            cur = sorted(
                (ref for ref in current.values() if ref.parent_id == code_parent),
                key=lambda ref: (ref.position is None, ref.position or 0),
            )
            finished = ended if parent is None else code_parent in final.closed
            divergences += compare_context(rec, cur, finished=finished)
        replayed = sum(
            1
            for op_id, identity in final.visits.items()
            if op_id in self._view and _key(self._view[op_id]) == identity.key
        )
        report = ReplayReport(
            source=self.source,
            execution=self.recorded.name,
            recorded_status=self.recorded.status,
            replayed_status=final.status,
            divergences=divergences,
            sdk_error=first.sdk_error,
            steps_not_run=[repr(i.name or i.id) for i in final.blocked],
            replayed_operations=replayed,
            runs=runs,
        )
        self._judge_outcome(report, final)
        return report

    def _judge_outcome(self, report: ReplayReport, final: _Run) -> None:
        recorded = self.recorded.status
        if final.status == "CRASHED":
            report.divergences.append(
                Divergence("outcome", None, None, f"the handler crashed: {final.error}")
            )
            return
        if report.divergences:
            return
        if final.sdk_error is not None:
            report.divergences.append(
                Divergence("outcome", None, None, f"the SDK rejects the replay: {final.sdk_error}")
            )
        elif recorded in ("SUCCEEDED", "FAILED") and final.status in ("SUCCEEDED", "FAILED"):
            recorded_error = (self.recorded.error or {}).get("ErrorType")
            changed_error = (
                final.status == recorded == "FAILED"
                and final.error is not None
                and recorded_error
                and not final.error.startswith(f"{recorded_error}:")
            )
            if changed_error:
                report.notes.append(
                    f"the execution still fails, but with {final.error} (recorded: "
                    f"{recorded_error})"
                )
            if final.status != recorded:
                report.divergences.append(
                    Divergence(
                        "outcome",
                        None,
                        None,
                        f"the recorded execution {recorded}; replayed, the code now ends "
                        f"{final.status}" + (f" ({final.error})" if final.error else ""),
                    )
                )
            elif final.status == "SUCCEEDED" and final.result != self.recorded.result:
                report.notes.append(
                    "the handler now returns a different result from the same step results "
                    f"(recorded {_short(self.recorded.result)}, now {_short(final.result)})"
                )
        elif (
            recorded in ("SUCCEEDED", "FAILED") and final.status == "PENDING" and not final.blocked
        ):
            report.notes.append(
                "the recorded execution ended, but the replayed code suspends (it waits on "
                "something the recording does not have)"
            )

    # ------------------------------------------------------------------ references

    def _recorded_refs(self) -> dict[str, OperationRef]:
        names = {op_id: (op.name, op.parent_id) for op_id, op in self.record.items()}
        return {
            op.id: OperationRef(
                id=op.id,
                type=op.type.value,
                sub_type=op.sub_type,
                name=op.name,
                parent_id=op.parent_id,
                position=self._positions.get(op.id),
                path=_path(op.id, names, self._positions),
            )
            for op in self.record.values()
        }

    def _current_refs(self, final: _Run) -> dict[str, OperationRef]:
        limit = len(self.record) + len(final.visits) + _POSITION_MARGIN
        positions = {
            op_id: index_of(op_id, identity.parent_id, limit)
            for op_id, identity in final.visits.items()
        }
        names = {op_id: (i.name, i.parent_id) for op_id, i in final.visits.items()}
        return {
            op_id: OperationRef(
                id=op_id,
                type=identity.type,
                sub_type=identity.sub_type,
                name=identity.name,
                parent_id=identity.parent_id,
                position=positions[op_id],
                path=_path(op_id, names, positions),
            )
            for op_id, identity in final.visits.items()
        }


@contextmanager
def _quiet_sdk() -> Iterator[None]:
    """The SDK logs every failure it handles with a traceback; in a replay, failures at a
    divergence are expected, and the report says what they mean."""
    logger = logging.getLogger("aws_durable_execution_sdk_python")
    previous = logger.disabled
    logger.disabled = True
    children = [
        child
        for name, child in logging.root.manager.loggerDict.items()
        if name.startswith("aws_durable_execution_sdk_python.")
        and isinstance(child, logging.Logger)
    ]
    saved = [(child, child.disabled) for child in children]
    for child in children:
        child.disabled = True
    try:
        yield
    finally:
        logger.disabled = previous
        for child, disabled in saved:
            child.disabled = disabled


def _path(
    op_id: str,
    names: dict[str, tuple[str | None, str | None]],
    positions: dict[str, int | None],
) -> str:
    segments = []
    current: str | None = op_id
    while current is not None and current in names:
        name, parent = names[current]
        segments.append(name if name else f"[{positions.get(current)}]")
        current = parent
    return "/".join(reversed(segments))


def _short(payload: str | None, limit: int = 80) -> str:
    text = repr(payload)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------- entry points


def _load(cassette: Cassette | str | Path) -> Cassette:
    return cassette if isinstance(cassette, Cassette) else read_cassette(cassette)


def replay_execution(
    handler: Handler,
    cassette: Cassette | str | Path,
    *,
    execution: int | str = 0,
    deep: bool = True,
) -> ReplayReport:
    """Replay ``handler`` against one recorded execution of ``cassette`` (a :class:`Cassette`
    or a path) and return the report (``report.ok``, ``report.divergences``, ``str(report)``)."""
    loaded = _load(cassette)
    recorded = loaded.execution(execution)
    source = str(loaded.path) if loaded.path is not None else "the cassette"
    return Replayer(handler, recorded, deep=deep, source=source).replay()


def replay_cassette(
    handler: Handler,
    cassette: Cassette | str | Path,
    *,
    executions: Iterable[int | str] | None = None,
    deep: bool = True,
) -> list[ReplayReport]:
    """Replay ``handler`` against every recorded execution of ``cassette`` (or those chosen)."""
    loaded = _load(cassette)
    chosen = list(executions) if executions is not None else list(range(len(loaded.executions)))
    return [replay_execution(handler, loaded, execution=which, deep=deep) for which in chosen]


def assert_replays(
    handler: Handler,
    cassette: Cassette | str | Path,
    *,
    executions: Iterable[int | str] | None = None,
    deep: bool = True,
) -> list[ReplayReport]:
    """Replay every recorded execution (or those chosen); raise :class:`NonDeterminismError`
    with the report of the first that diverges."""
    reports = replay_cassette(handler, cassette, executions=executions, deep=deep)
    for report in reports:
        if not report.ok:
            raise NonDeterminismError(report)
    return reports
