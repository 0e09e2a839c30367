"""A handle onto one execution of the scheduler: what ``durable.start`` returns.

``run()`` drives it to its end; ``run_until_blocked()`` until only the test can move it on (a
callback no responder answers, a pause); ``advance(d)`` lets ``d`` of virtual time pass;
``callback(...)`` answers one of its callbacks; ``invoked(name)`` is the handle of the execution
one of its chained invokes started. Every drive moves the one timeline of the environment: all
executions the test started progress together (see :mod:`pytest_durable.runner.scheduler`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pytest_durable.clock import VirtualClock
from pytest_durable.errors import hide_frames_of_run_errors
from pytest_durable.parsing import Duration, to_seconds
from pytest_durable.runner.callbacks import CallbackEntry, CallbackHandle, select_callback
from pytest_durable.runner.goals import Goal, GoalKind
from pytest_durable.runner.invocation import InvocationOutcome
from pytest_durable.runner.result import ExecutionResult
from pytest_durable.runner.scheduler import Scheduler, ignore_sets
from pytest_durable.service import Execution, OperationStatus, OperationType


class ExecutionDriver:
    """Drives one durable execution, as Lambda and the outside world would."""

    def __init__(self, scheduler: Scheduler, arn: str) -> None:
        self.scheduler = scheduler
        self.service = scheduler.service
        self.clock: VirtualClock = scheduler.clock
        self.arn = arn

    @property
    def client(self) -> Any:
        """The test's boto3 ``lambda`` client on the fake service."""
        return self.scheduler.client

    # ------------------------------------------------------------------ state

    @property
    def execution(self) -> Execution:
        return self.service.execution(self.arn)

    @property
    def done(self) -> bool:
        """Whether the execution has ended (SUCCEEDED, FAILED, TIMED_OUT or STOPPED)."""
        return self.execution.status.is_terminal

    @property
    def callbacks(self) -> list[CallbackHandle]:
        """The callbacks the execution is waiting on (STARTED), in the order they were created."""
        return [h for h in self._callback_handles() if self._is_open(h.operation_id)]

    def callback(
        self, name: str | None = None, *, id: str | None = None, index: int | None = None
    ) -> CallbackHandle:
        """A callback of this execution, by name (its own, or its ``wait_for_callback``'s), by
        CallbackId, or by index in creation order; with no argument, the only waiting one."""
        operations = self.execution.operations
        entries = [
            CallbackEntry(
                h,
                frozenset(self.scheduler.callback_names(self.arn, operations[h.operation_id])),
                self._is_open(h.operation_id),
            )
            for h in self._callback_handles()
        ]
        return select_callback(entries, name=name, id=id, index=index)

    def invoked(self, name: str | None = None) -> ExecutionDriver:
        """The driver of the execution a ``context.invoke`` of this one started (a registered
        durable target), by the invoke's name or its FunctionName; with no name, the only one.
        Answer the target's callbacks through it: ``driver.invoked("pay").callback("ok")``."""
        invokes = [
            op
            for op in self.execution.operations.values()
            if op.type is OperationType.CHAINED_INVOKE
            and op.child_execution_arn
            and op.child_execution_arn in self.scheduler.tracked_arns()
        ]
        matches = [op for op in invokes if name is None or name in (op.name, op.function_name)]
        if len(matches) != 1:
            known = ", ".join(repr(op.name or op.function_name) for op in invokes) or "none"
            raise LookupError(
                f"No single chained invoke of a durable target matches {name!r} (started so "
                f"far: {known}). Run the execution until the invoke has started "
                f"(run_until_blocked()), and name it by its name= or FunctionName."
            )
        child = matches[0].child_execution_arn
        assert child is not None
        return ExecutionDriver(self.scheduler, child)

    def _callback_handles(self) -> list[CallbackHandle]:
        return [
            CallbackHandle(self.client, op, self.arn)
            for op in list(self.execution.operations.values())
            if op.type is OperationType.CALLBACK and op.callback_id is not None
        ]

    def _is_open(self, operation_id: str) -> bool:
        return self.execution.operations[operation_id].status is OperationStatus.STARTED

    # ------------------------------------------------------------------ driving

    def invoke(self) -> InvocationOutcome:
        """Fire due timers, then invoke the handler once and settle its output; nothing else."""
        return self.scheduler.invoke_once(self.arn)

    def run(self) -> ExecutionResult:
        """Drive until the execution ends, answering callbacks with the declared responders,
        running chained-invoke targets and moving the virtual clock to each timer."""
        __tracebackhide__ = hide_frames_of_run_errors
        self.scheduler.drive(Goal(GoalKind.END, self.arn))
        return self.result()

    def run_until_blocked(self, *, ignore: Iterable[CallbackHandle | str] = ()) -> ExecutionDriver:
        """Drive until the execution ends or waits on something only the test can provide: a
        callback no responder answers (its own, or a chained target's), or a pause. Returns the
        driver, to answer and go on.

        Callbacks in ``ignore`` (handles, ids or names) do not count as blocking: the test
        leaves them to their timeouts and waits for the next thing it must answer."""
        __tracebackhide__ = hide_frames_of_run_errors
        ids, names = ignore_sets(ignore, self._callback_handles())
        self.scheduler.drive(Goal(GoalKind.BLOCKED, self.arn, ignored_ids=ids, ignored_names=names))
        return self

    def advance(self, duration: Duration) -> ExecutionDriver:
        """Let ``duration`` of virtual time pass: every timer, responder answer and
        re-invocation due in that window happens, in order, for every execution the test
        started. Returns the driver."""
        __tracebackhide__ = hide_frames_of_run_errors
        target = self.clock.now_ms() + int(to_seconds(duration) * 1000)
        self.scheduler.drive(Goal(GoalKind.UNTIL, self.arn, until_ms=target))
        return self

    def result(self) -> ExecutionResult:
        """The execution as it stands now (finished or not)."""
        return self.scheduler.result_of(self.arn)

    def __repr__(self) -> str:
        return f"ExecutionDriver({self.arn})"
