"""Playing Lambda for one execution: invoke, read the output, move time, invoke again.

Between invocations the driver does what the service and the outside world would while the
handler is suspended: it runs chained-invoke targets, lets declared callback responders answer,
and moves the virtual clock to the next thing that can happen (a timer, a responder's answer, the
execution timeout). ``run()`` goes to the end; ``run_until_blocked()`` stops where only the test
can move things on (a callback nobody answers, a pause); ``advance(d)`` lets ``d`` pass.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from pytest_durable.clock import VirtualClock
from pytest_durable.errors import (
    DurableRunError,
    ExecutionBlockedError,
    ExecutionStuckError,
    HandlerContractError,
    InvocationFailedError,
    TooManyInvocationsError,
)
from pytest_durable.parsing import Duration, to_seconds
from pytest_durable.runner.callbacks import CallbackEntry, CallbackHandle, select_callback
from pytest_durable.runner.contract import missing_decorator
from pytest_durable.runner.invocation import (
    DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    Handler,
    InvocationOutcome,
    LambdaContext,
    invoke_handler,
)
from pytest_durable.runner.invokes import run_chained_invoke
from pytest_durable.runner.result import ExecutionResult
from pytest_durable.service import (
    MAX_IDLE_PENDING_INVOCATIONS,
    Execution,
    ExecutionStatus,
    Operation,
    OperationStatus,
    OperationType,
)

if TYPE_CHECKING:
    from pytest_durable.runner.callbacks import _Step
    from pytest_durable.runner.environment import DurableEnvironment


class ExecutionDriver:
    """Drives one durable execution, as Lambda and the outside world would."""

    def __init__(
        self,
        *,
        environment: DurableEnvironment,
        handler: Handler,
        arn: str,
        explicit_timeout: bool,
    ) -> None:
        self.environment = environment
        self.service = environment.service
        self.clock: VirtualClock = environment.clock
        self.settings = environment.settings
        self.handler = handler
        self.arn = arn
        self._explicit_timeout = explicit_timeout
        self._consecutive_failures = 0
        self._last_crash: BaseException | None = None
        self._invocations_made = 0
        # Responder answers due at virtual times: (due ms, sequence, callback id, step).
        self._scheduled: list[tuple[int, int, str, _Step]] = []
        self._sequence = itertools.count()
        self._responded: set[str] = set()
        # Callbacks the test leaves to their timeouts (run_until_blocked(ignore=...)).
        self._ignored: set[str] = set()
        self._ignored_names: set[str] = set()

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
        entries = [
            CallbackEntry(h, frozenset(self._names_of(h)), self._is_open(h.operation_id))
            for h in self._callback_handles()
        ]
        return select_callback(entries, name=name, id=id, index=index)

    def _callback_handles(self) -> list[CallbackHandle]:
        return [
            CallbackHandle(self.environment.client, op, self.arn)
            for op in self.execution.operations.values()
            if op.type is OperationType.CALLBACK and op.callback_id is not None
        ]

    def _is_open(self, operation_id: str) -> bool:
        return self.execution.operations[operation_id].status is OperationStatus.STARTED

    def _names_of(self, handle: CallbackHandle) -> set[str]:
        """A callback answers to its own name and to its wait_for_callback context's name."""
        names = {handle.name} if handle.name else set()
        parent = self.execution.operations.get(handle.parent_id or "")
        if parent is not None and parent.sub_type == "WaitForCallback" and parent.name:
            names.add(parent.name)
        return names

    # ------------------------------------------------------------------ one invocation

    def invoke(self) -> InvocationOutcome:
        """Fire due timers, then invoke the handler once and settle its output."""
        self.service.fire_due_timers(self.arn)
        if self.done:
            return InvocationOutcome(output=None)
        event = self.service.begin_invocation(self.arn)
        self._invocations_made += 1
        execution = self.execution
        invocation = execution.invocations[-1]
        context = LambdaContext(
            aws_request_id=invocation.request_id,
            function_name=execution.function_name,
            invoked_function_arn=execution.function_arn,
            function_version=execution.version,
            deadline_ms=self.clock.now_ms() + DEFAULT_FUNCTION_TIMEOUT_SECONDS * 1000,
            clock=self.clock,
        )
        try:
            with self.clock.running():
                outcome = invoke_handler(
                    self.handler,
                    event,
                    context,
                    wall_timeout_seconds=self.settings.invocation_wall_timeout,
                )
        except BaseException:
            self.service.end_invocation(
                self.arn, None, {"ErrorType": "Sandbox.Timedout", "ErrorMessage": "hung"}
            )
            raise
        if outcome.crashed:
            self.service.end_invocation(self.arn, None, outcome.error_object())
            contract_error = missing_decorator(self.handler, outcome.exception, context)
            if contract_error is not None:  # retrying cannot help
                raise contract_error
            self._consecutive_failures += 1
            self._last_crash = outcome.exception
            return outcome
        output = outcome.output
        self._consecutive_failures = 0
        end = self.service.end_invocation(self.arn, output)
        if end.status == "INVALID_OUTPUT":
            # The service has failed the execution, as the real one does; the test learns why.
            raise self._with_result(
                HandlerContractError(
                    f"The handler returned {output!r:.200}, which is not a valid durable "
                    f"invocation output: {end.problem}. The service failed the execution with "
                    f"InvalidParameterValueException, as Lambda does (result.error; the error's "
                    f".result is the execution). Durable handlers answer through "
                    f"@durable_execution from aws_durable_execution_sdk_python: decorate the "
                    f"handler with it, and keep wrappers from changing its answer."
                )
            )
        if end.status == "NOTHING_PENDING" and end.execution_status is ExecutionStatus.FAILED:
            raise self._with_result(
                ExecutionStuckError(
                    f"{self._stuck_message()} Lambda retries such an invocation and then fails "
                    f"the execution; here too it failed after {MAX_IDLE_PENDING_INVOCATIONS} "
                    f"consecutive invocations, with InvalidParameterValueException "
                    f"{end.problem!r} (the error's .result is the execution)."
                )
            )
        return outcome

    def _with_result(self, error: DurableRunError) -> DurableRunError:
        error.result = self.result()
        return error

    # ------------------------------------------------------------------ driving

    def run(self) -> ExecutionResult:
        """Invoke until the execution ends, answering callbacks with the declared responders,
        running chained-invoke targets and moving the virtual clock to each timer."""
        self._drive(stop_when_blocked=False, until_ms=None)
        return self.result()

    def run_until_blocked(self, *, ignore: Iterable[CallbackHandle | str] = ()) -> ExecutionDriver:
        """Run until the execution ends or waits on something only the test can provide: a
        callback no responder answers, or a pause. Returns the driver, to answer and go on.

        Callbacks in ``ignore`` (handles, ids or names) do not count as blocking: the test
        leaves them to their timeouts and waits for the next thing it must answer."""
        for item in ignore:
            if isinstance(item, CallbackHandle):
                self._ignored.add(item.id)
            else:
                self._ignored.update(h.id for h in self._callback_handles() if item == h.id)
                self._ignored_names.add(item)
        self._drive(stop_when_blocked=True, until_ms=None)
        return self

    def advance(self, duration: Duration) -> ExecutionDriver:
        """Let ``duration`` of virtual time pass: every timer, responder answer and
        re-invocation due in that window happens, in order. Returns the driver."""
        target = self.clock.now_ms() + int(to_seconds(duration) * 1000)
        self._drive(stop_when_blocked=False, until_ms=target)
        return self

    def _drive(self, *, stop_when_blocked: bool, until_ms: int | None) -> None:
        # Between invocations nothing of the handler runs: the clock stands still except for
        # jumps, so timers and declared answers land on their exact virtual times.
        with self.clock.hold():
            self._drive_held(stop_when_blocked=stop_when_blocked, until_ms=until_ms)

    def _drive_held(self, *, stop_when_blocked: bool, until_ms: int | None) -> None:
        budget = self.settings.max_invocations
        while not self.done:
            self._handle_outside_world()
            if self.done:
                return
            if self._should_invoke():
                if self._invocations_made >= budget:
                    raise TooManyInvocationsError(
                        f"The execution is still {self.execution.status.value} after "
                        f"{self._invocations_made} invocations. Raise max_invocations if it "
                        f"really needs more, or look for a loop that never ends "
                        f"(result.invocations)."
                    )
                self.invoke()
                self._check_crashes()
                continue
            if not self._move_time(stop_when_blocked=stop_when_blocked, until_ms=until_ms):
                return

    def _should_invoke(self) -> bool:
        execution = self.execution
        if execution.status is not ExecutionStatus.RUNNING:
            return False
        if not execution.invocations or self._consecutive_failures:
            return True
        return self.service.woke_since_last_invocation(self.arn)

    def _check_crashes(self) -> None:
        if self._consecutive_failures >= self.settings.max_failed_invocations:
            raise InvocationFailedError(
                f"The handler crashed on {self._consecutive_failures} consecutive invocations; "
                f"the last crash is chained below. (Lambda would keep retrying; raise "
                f"max_failed_invocations to allow more.)"
            ) from self._last_crash

    def _move_time(self, *, stop_when_blocked: bool, until_ms: int | None) -> bool:
        """Advance the clock to the next thing that can happen. False: the drive should stop."""
        execution = self.execution
        root = execution.execution_id
        deadline = execution.timers.get(root)
        upcoming = [due for op_id, due in execution.timers.items() if op_id != root]
        upcoming += [entry[0] for entry in self._scheduled[:1]]
        unanswered = [h for h in self.callbacks if h.id not in self._responded]
        paused = execution.status in (ExecutionStatus.PAUSED, ExecutionStatus.PAUSING)
        blocking = [
            h
            for h in unanswered
            if h.id not in self._ignored and not (self._names_of(h) & self._ignored_names)
        ]
        if stop_when_blocked and (blocking or paused):
            return False
        if upcoming:
            due = min(upcoming) if deadline is None else min(*upcoming, deadline)
            if until_ms is None or due <= until_ms:
                self._jump(due)
                return True
            self._jump(until_ms)
            return self._should_invoke()
        if until_ms is not None:
            target = until_ms if deadline is None else min(until_ms, deadline)
            self._jump(target)
            return target < until_ms or self._should_invoke()
        waiting = bool(unanswered or paused or self.service.waiting_operations(self.arn))
        if waiting and deadline is not None and self._explicit_timeout:
            self._jump(deadline)
            return True
        if waiting:
            raise ExecutionBlockedError(self._blocked_message(paused))
        raise ExecutionStuckError(self._stuck_message())

    def _jump(self, due_ms: int) -> None:
        self.clock.advance_to(due_ms)
        self.service.fire_due_timers(self.arn)
        self._perform_due_answers()

    # ------------------------------------------------------------------ the outside world

    def _handle_outside_world(self) -> None:
        """Run newly started chained invokes and schedule responders for new callbacks."""
        for operation in list(self.execution.operations.values()):
            if operation.status is not OperationStatus.STARTED:
                continue
            if operation.type is OperationType.CHAINED_INVOKE:
                run_chained_invoke(self.environment, self.arn, operation)
            elif operation.type is OperationType.CALLBACK:
                self._schedule_responder(operation)
        self._perform_due_answers()

    def _schedule_responder(self, operation: Operation) -> None:
        if operation.callback_id is None or operation.callback_id in self._responded:
            return
        handle = CallbackHandle(self.environment.client, operation, self.arn)
        names = self._names_of(handle)
        responder = self.environment.responder_for(names)
        if responder is None:
            return
        self._responded.add(handle.id)
        # Delays count from the callback's creation, so declared times are exact.
        for due_ms, step in responder.schedule(operation.start_ms):
            heapq.heappush(self._scheduled, (due_ms, next(self._sequence), handle.id, step))

    def _perform_due_answers(self) -> None:
        now = self.clock.now_ms()
        while self._scheduled and self._scheduled[0][0] <= now:
            _, _, callback_id, step = heapq.heappop(self._scheduled)
            handle = next(h for h in self._callback_handles() if h.id == callback_id)
            if not self._is_open(handle.operation_id):
                continue  # it timed out (or the test answered it) before this answer was due
            try:
                step.action(handle)
            except ClientError as error:
                if error.response["Error"]["Code"] != "CallbackTimeoutException":
                    raise

    # ------------------------------------------------------------------ messages

    def _blocked_message(self, paused: bool) -> str:
        if paused:
            return (
                f"The execution is {self.execution.status.value}: nothing invokes it until it is "
                f"resumed (env.client.resume_durable_execution(DurableExecutionArn=...))."
            )
        described = ", ".join(
            f"{op.type.value} {op.name or op.id!r}"
            + (f" (CallbackId {op.callback_id})" if op.callback_id else "")
            for op in self.service.waiting_operations(self.arn)
        )
        return (
            f"The execution is suspended waiting for {described}, and nothing will answer. "
            f"Declare an answer before the run (durable.on_callback(name).succeed(value)), or "
            f"drive it step by step: driver = durable.start(handler, event); "
            f"driver.run_until_blocked(); driver.callback(name).succeed(value); driver.run(). "
            f"Or give the execution a timeout (execution_timeout=...)."
        )

    def _stuck_message(self) -> str:
        root = self.execution.execution_id
        unfinished = [
            f"{op.type.value} {op.name or op.id!r} is {op.status.value}"
            for op in self.execution.operations.values()
            if op.id != root
            and not op.status.is_terminal
            and op.status is not OperationStatus.READY
        ]
        return (
            "The handler returned PENDING, but the execution has nothing pending: no timer, "
            "callback or chained invoke can ever wake it. "
            + (
                "Unfinished operations: " + "; ".join(unfinished)
                if unfinished
                else "No operation is unfinished."
            )
            + " This usually means the handler swallowed the SDK's SuspendExecution."
        )

    def result(self) -> ExecutionResult:
        """The execution as it stands now (finished or not)."""
        execution = self.execution
        calls = self.environment.checkpoints.calls(self.arn)
        return ExecutionResult.from_execution(execution, list(execution.history), calls)
