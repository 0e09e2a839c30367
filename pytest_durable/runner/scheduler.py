"""One scheduler per environment: every execution on one virtual timeline.

The scheduler plays Lambda and the outside world for every execution of its environment, the
ones a test starts, the ones chained invokes start and the ones ``Invoke`` starts over HTTP
(the stand-in, ``serve --function``): it invokes them, settles their outputs, runs chained
invoke targets, performs declared callback answers, fires timers, and moves the virtual clock.
All of it goes through one pass over one set of due work (:meth:`Scheduler._pass`), so no
execution moves time on its own. The rules (docs/architecture.md, "The scheduler"):

- **Time skips only when nothing runs.** While any invocation runs anywhere (a handler, a plain
  invoke target), the clock ticks at the real rate for everyone. Only when none runs and
  nothing is due now does the clock jump, straight to the earliest due item across all
  executions, as Temporal's time-skipping test server does.
- **Only progress pulls time.** A wait, a retry backoff and a declared answer pull the clock
  to them. A callback's timeout (and the execution's own timeout) pulls it only for an
  execution the test is running to its end (``run()``), or a callback the test chose to leave to
  its timeout (``run_until_blocked(ignore=...)``, a declared responder). An execution that only
  waits for the outside world (a callback nobody has answered) does not make time race to its
  timeout: while it idles, time passes at the real rate.
- **Executions run while someone waits.** Executions a test started are driven during the
  test's drives (``run``, ``run_until_blocked``, ``advance`` on any of them), all at once;
  executions started by ``Invoke`` are driven all the time, by a background thread, and their
  clock jumps only once no request that changes state has arrived for ``SETTLE_SECONDS`` (a
  client starting 50 executions in a row sees them all start before time skips).
"""

from __future__ import annotations

import contextlib
import heapq
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from pytest_durable.clock import VirtualClock, _Real
from pytest_durable.errors import (
    DurableRunError,
    ExecutionBlockedError,
    ExecutionStuckError,
    HandlerContractError,
    InvocationFailedError,
    TooManyInvocationsError,
    hide_frames_of_run_errors,
)
from pytest_durable.runner.callbacks import CallbackHandle, ResponderRegistry
from pytest_durable.runner.checkpoints import CheckpointLog
from pytest_durable.runner.contract import missing_decorator
from pytest_durable.runner.fault_reactions import reactions
from pytest_durable.runner.goals import Goal, GoalKind, Handler, Tracked
from pytest_durable.runner.invocation import (
    DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    InvocationOutcome,
    LambdaContext,
    RunningInvocation,
)
from pytest_durable.runner.invokes import (
    InvokeOutcome,
    InvokeRegistry,
    InvokeTarget,
    canned_outcome,
    durable_outcome,
    function_key,
    missing_outcome,
    plain_context,
    plain_event,
    plain_outcome,
)
from pytest_durable.runner.messages import blocked_message, stuck_message
from pytest_durable.runner.result import ExecutionResult
from pytest_durable.service import (
    MAX_IDLE_PENDING_INVOCATIONS,
    DurableService,
    Execution,
    ExecutionStatus,
    Operation,
    OperationStatus,
    OperationType,
)
from pytest_durable.service.service import MAX_EXECUTION_TIMEOUT_SECONDS
from pytest_durable.transport.faults import InjectedFault

#: Quiet real time (no state-changing request) before the clock of autonomous executions jumps.
SETTLE_SECONDS = 0.25
_PAUSED = (ExecutionStatus.PAUSED, ExecutionStatus.PAUSING)


@dataclass
class _PlainCall:
    """A plain function target being called for a chained invoke."""

    caller: Tracked
    operation_id: str
    invocation: RunningInvocation


@dataclass
class _Due:
    """The earliest due items of one pass: those that pull the clock, and the others."""

    pull: int | None = None
    other: int | None = None

    def add(self, due: int, pulls: bool) -> None:
        if pulls:
            self.pull = due if self.pull is None else min(self.pull, due)
        else:
            self.other = due if self.other is None else min(self.other, due)


class Scheduler:
    """Owns the virtual clock and everything that happens on it, for one environment."""

    def __init__(
        self,
        *,
        clock: VirtualClock,
        service: DurableService,
        client: Callable[[], Any],
        checkpoints: CheckpointLog,
        invoke_targets: InvokeRegistry,
        responders: ResponderRegistry,
        max_invocations: int,
        max_failed_invocations: int,
        invocation_wall_timeout: float,
        fake_bugs: Sequence[BaseException] = (),
        injected_faults: Sequence[InjectedFault] = (),
    ) -> None:
        self.clock = clock
        self.service = service
        self._client = client
        self.checkpoints = checkpoints
        self.invoke_targets = invoke_targets
        self.responders = responders
        self.max_invocations = max_invocations
        self.max_failed_invocations = max_failed_invocations
        self.invocation_wall_timeout = invocation_wall_timeout
        # The router's record of its own bugs, and of the faults it injected (both live lists).
        self._fake_bugs = fake_bugs
        self._injected_faults = injected_faults
        self._tracked: dict[str, Tracked] = {}
        self._plain: list[_PlainCall] = []
        self._manual = 0
        self._wake = threading.Event()
        # Held for a pass (re-entrant: a pass starts chained targets' executions).
        self._pass_lock = threading.RLock()
        self._drive_lock = threading.Lock()
        self._driving = False
        self._last_external = _Real.monotonic()
        self._requests = 0
        self._requests_lock = threading.Lock()
        self._background: threading.Thread | None = None
        self._closed = threading.Event()
        #: Errors met driving autonomous executions (each such execution was stopped with it).
        self.errors: list[BaseException] = []

    @property
    def client(self) -> Any:
        """The boto3 client declared answers are sent with (the test's)."""
        return self._client()

    # ------------------------------------------------------------------ executions

    def start(
        self,
        handler: Handler,
        function_name: str,
        input_payload: str | None,
        *,
        execution_name: str | None = None,
        execution_timeout: int | None = None,
        reserved_arn: str | None = None,
        autonomous: bool = False,
        parent: tuple[str, str, str] | None = None,
    ) -> str:
        """Start an execution (``Invoke``'s part) and track it; returns its ARN. Nothing runs
        until a drive (or, for an autonomous one, the background thread) gets to it."""
        execution = self.service.start_execution(
            function_name,
            input_payload,
            execution_name=execution_name,
            execution_timeout_seconds=execution_timeout or MAX_EXECUTION_TIMEOUT_SECONDS,
            reserved_arn=reserved_arn,
        )
        tracked = Tracked(
            execution.arn,
            handler,
            explicit_timeout=execution_timeout is not None,
            autonomous=autonomous,
            parent=parent,
        )
        with self._pass_lock:
            self._tracked[execution.arn] = tracked
            if parent is not None:
                self._tracked[parent[0]].children.append(execution.arn)
        if autonomous:
            self._ensure_background()
            self.poke(external=parent is None)  # an Invoke from outside, or a chained target
        return execution.arn

    def adopt(self, arn: str, handler: Handler) -> None:
        """Drive, as an autonomous execution, one that exists in the service but was not
        started here (restored from a store); its timeout counts as set."""
        with self._pass_lock:
            self._tracked[arn] = Tracked(arn, handler, explicit_timeout=True, autonomous=True)
        self._ensure_background()
        self.poke()

    def tracked_arns(self) -> set[str]:
        return set(self._tracked)

    def tracked(self, arn: str) -> Tracked:
        try:
            return self._tracked[arn]
        except KeyError:
            raise LookupError(f"{arn} is not an execution of this environment") from None

    def poke(self, *, external: bool = False) -> None:
        """Something changed (an invocation ended, a request changed state): look again.
        ``external``: a state-changing request from outside, which delays time skips of
        autonomous executions by ``SETTLE_SECONDS``."""
        if external:
            self._last_external = _Real.monotonic()
        self._wake.set()

    @contextlib.contextmanager
    def serving_request(self) -> Iterator[None]:
        """A state-changing request from outside is being served: no time skip of autonomous
        executions until ``SETTLE_SECONDS`` after the last one ended."""
        with self._requests_lock:
            self._requests += 1
        try:
            yield
        finally:
            with self._requests_lock:
                self._requests -= 1
            self.poke(external=True)

    # ------------------------------------------------------------------ drives

    def drive(self, goal: Goal) -> None:
        """Drive every execution a test started (and the autonomous ones) until ``goal`` is
        reached; raise what stopped the goal's execution, if anything did."""
        __tracebackhide__ = hide_frames_of_run_errors
        with self._drive_lock:
            self._driving = True
            try:
                with self._pass_lock:
                    # What happened since the last drive (a manual invoke()) is looked at now.
                    for tracked in list(self._tracked.values()):
                        if tracked.running is None and tracked.error is None:
                            self._look_at_outside_world(tracked)
                with self.clock.hold():
                    self._loop(goal)
            finally:
                self._driving = False
        if goal.error is not None:
            raise goal.error

    def _loop(self, goal: Goal | None) -> None:
        while not self._closed.is_set():
            self._wake.clear()
            with self._pass_lock:
                wait = self._pass(goal)
            if wait is None:
                return
            if wait > 0:
                self._wake.wait(wait)

    def invoke_once(self, arn: str) -> InvocationOutcome:
        """One invocation of ``arn`` on the calling thread, nothing else (``driver.invoke()``)."""
        tracked = self.tracked(arn)
        with self._pass_lock:
            self.service.fire_due_timers(arn)
            if self.service.execution(arn).status.is_terminal:
                return InvocationOutcome(output=None)
            running = self._begin(tracked)
            tracked.running = None  # settled here, not by a pass
            self._manual += 1
        try:
            try:
                outcome = running.wait()
            except BaseException:
                self._end_hung(tracked)
                raise
            with self._pass_lock:
                error = self._settle(tracked, running, scan=False)
            if isinstance(error, HandlerContractError | ExecutionStuckError):
                raise error
            return outcome
        finally:
            self._manual -= 1
            self.poke()

    # ------------------------------------------------------------------ background

    def _ensure_background(self) -> None:
        if self._background is None and not self._closed.is_set():
            self._background = threading.Thread(
                target=self._run_background, name="durable-scheduler", daemon=True
            )
            self._background.start()

    def _run_background(self) -> None:
        while not self._closed.is_set():
            if self._driving:  # a drive's passes cover the autonomous executions too
                self._wake.wait(0.05)
                self._wake.clear()
                continue
            self._wake.clear()
            with self._pass_lock:
                wait = self._pass(None)
            self._wake.wait(1.0 if wait is None else wait)

    def close(self) -> None:
        """Stop driving; let running invocations finish within their wall timeout, then kill
        their sandboxes. Nothing of the environment's executions runs after this."""
        self._closed.set()
        self._wake.set()
        if self._background is not None:
            self._background.join(timeout=10)
        for tracked in self._tracked.values():
            if tracked.running is not None:
                running, tracked.running = tracked.running, None
                try:
                    running.wait()
                    self._settle(tracked, running, scan=False)
                except DurableRunError:
                    self._end_hung(tracked)
        for call in self._plain:
            with contextlib.suppress(DurableRunError):
                call.invocation.wait()
        self._plain.clear()

    # ------------------------------------------------------------------ one pass

    def _pass(self, goal: Goal | None) -> float | None:
        """Do everything that is due, then decide: None (the goal is met, or failed), 0 (look
        again at once) or the real seconds to wait for something to happen."""
        progressed = self._collect_finished()
        live = [t for t in self._tracked.values() if self._live(t, goal)]
        now = self.clock.now_ms()
        for tracked in live:
            if tracked.error is None and not self._execution(tracked).status.is_terminal:
                progressed |= self._perform_due_answers(tracked, now)
                if self.service.fire_due_timers(tracked.arn):
                    progressed = True
        for tracked in live:
            progressed |= self._report_if_ended(tracked)
        for tracked in live:
            if tracked.running is None and tracked.error is None and self._should_invoke(tracked):
                self._begin_or_fail(tracked)
                progressed = True
        if goal is not None and self._goal_settled(goal):
            return None
        if progressed:
            return 0
        return self._idle(goal, live, now)

    def _live(self, tracked: Tracked, goal: Goal | None) -> bool:
        return tracked.autonomous or goal is not None

    def _collect_finished(self) -> bool:
        progressed = False
        now_real = _Real.monotonic()
        for tracked in list(self._tracked.values()):
            running = tracked.running
            if running is None:
                continue
            if running.finished.is_set():
                tracked.running = None
                running.release()
                self._settle(tracked, running, scan=True)
                progressed = True
            elif now_real >= running.deadline:
                tracked.running = None
                error = running.abandon()
                self._end_hung(tracked)
                self._fail(tracked, error)
                progressed = True
        for call in list(self._plain):
            if call.invocation.finished.is_set():
                call.invocation.release()
                assert call.invocation.outcome is not None
                self._plain.remove(call)
                self._complete(
                    call.caller, call.operation_id, plain_outcome(call.invocation.outcome)
                )
                progressed = True
            elif now_real >= call.invocation.deadline:
                self._plain.remove(call)
                self._fail(call.caller, call.invocation.abandon())
                progressed = True
        return progressed

    def _goal_settled(self, goal: Goal) -> bool:
        tracked = self._tracked[goal.arn]
        if tracked.error is not None:
            goal.error = tracked.error
            return True
        if goal.kind is GoalKind.UNTIL:
            return False
        return self._execution(tracked).status.is_terminal

    def _idle(self, goal: Goal | None, live: list[Tracked], now: int) -> float | None:
        """Nothing was due: skip time, stop the drive, or say how long to wait."""
        running = self._running_anywhere()
        due = _Due()
        family = set(self._family(goal.arn)) if goal is not None else set()
        family_due = _Due()
        for tracked in live:
            in_family = tracked.arn in family
            for when, pulls_in_kind in self._items(tracked, goal if in_family else None):
                pulls = pulls_in_kind
                if goal is not None and goal.kind is GoalKind.UNTIL:
                    pulls = goal.until_ms is not None and when <= goal.until_ms
                due.add(when, pulls)
                if in_family:
                    family_due.add(when, pulls)
        if goal is not None:
            family_busy = any(self._tracked[arn].running is not None for arn in family) or any(
                call.caller.arn in family for call in self._plain
            )
            if goal.kind is GoalKind.UNTIL:
                assert goal.until_ms is not None
                if now >= goal.until_ms and not family_busy:
                    return None
                if not running:
                    target = goal.until_ms if due.pull is None else min(due.pull, goal.until_ms)
                    return self._jump(target)
            else:
                origin = self._tracked[goal.arn]
                if (
                    not family_busy
                    and goal.kind is GoalKind.BLOCKED
                    and self._blocked(origin, goal)
                ):
                    return None
                if not family_busy and family_due.pull is None:
                    goal.error = self._cannot_proceed(origin)
                    return None
                if not running and due.pull is not None:
                    return self._jump(due.pull)
        elif not running and not self._requests and due.pull is not None:
            quiet = _Real.monotonic() - self._last_external
            if quiet >= SETTLE_SECONDS:
                return self._jump(due.pull)
            return SETTLE_SECONDS - quiet
        return self._wait_seconds(due, now)

    def _wait_seconds(self, due: _Due, now: int) -> float:
        waits = [1.0]
        now_real = _Real.monotonic()
        for tracked in self._tracked.values():
            if tracked.running is not None:
                waits.append(tracked.running.deadline - now_real)
        waits += [call.invocation.deadline - now_real for call in self._plain]
        if self.clock.ticking:
            waits += [(when - now) / 1000 for when in (due.pull, due.other) if when is not None]
        return max(0.0005, min(waits))

    def _running_anywhere(self) -> bool:
        return (
            self._manual > 0
            or bool(self._plain)
            or any(t.running is not None for t in self._tracked.values())
        )

    def _jump(self, due_ms: int) -> float:
        """Move the clock to ``due_ms``; 0: look again at once."""
        if due_ms <= self.clock.now_ms():  # pragma: no cover - a due item nothing consumed
            return 0.001  # never spin: look again shortly
        self.clock.advance_to(due_ms)
        return 0

    # ------------------------------------------------------------------ what is due

    def _items(self, tracked: Tracked, goal: Goal | None) -> Iterator[tuple[int, bool]]:
        """(due ms, whether it pulls the clock) of everything due for one execution. ``goal``
        is the drive's goal if the execution belongs to it, else None (driven in passing)."""
        execution = self._execution(tracked)
        if execution.status.is_terminal or tracked.error is not None:
            return
        to_end = goal is not None and goal.kind is GoalKind.END
        root = execution.execution_id
        for operation_id, due in list(execution.timers.items()):
            if operation_id == root:
                yield due, tracked.explicit_timeout and goal is not None
                continue
            operation = execution.operations.get(operation_id)
            if operation is not None and operation.type is OperationType.CALLBACK:
                yield due, to_end or not self._blocking(tracked, operation, goal)
            else:
                yield due, True
        for answer in tracked.answers[:1]:
            yield answer[0], True

    def _blocking(self, tracked: Tracked, operation: Operation, goal: Goal | None) -> bool:
        """Whether an open callback waits for the test (no responder answers it, and the test
        did not choose to leave it to its timeout)."""
        callback_id = operation.callback_id or ""
        if callback_id in tracked.responded:
            return False
        left_to_timeout = goal is not None and (
            callback_id in goal.ignored_ids
            or bool(self.callback_names(tracked.arn, operation) & goal.ignored_names)
        )
        return not left_to_timeout

    def _blocked(self, tracked: Tracked, goal: Goal | None) -> bool:
        """Whether the execution waits for the test: paused, a callback only the test can
        answer, or a chained target that is itself blocked."""
        execution = self._execution(tracked)
        if execution.status.is_terminal:
            return False
        if execution.status in _PAUSED:
            return True
        for operation in list(execution.operations.values()):
            if operation.status is not OperationStatus.STARTED:
                continue
            if operation.type is OperationType.CALLBACK and self._blocking(
                tracked, operation, goal
            ):
                return True
            if operation.type is OperationType.CHAINED_INVOKE:
                child = self._tracked.get(operation.child_execution_arn or "")
                if child is not None and self._blocked(child, goal):
                    return True
        return False

    def _family(self, arn: str) -> list[str]:
        """An execution and the chained targets it started, transitively."""
        found = [arn]
        for found_arn in found:
            found += self._tracked[found_arn].children
        return found

    def callback_names(self, arn: str, operation: Operation) -> set[str]:
        """A callback answers to its own name and to its wait_for_callback context's name."""
        names = {operation.name} if operation.name else set()
        parent = self.service.execution(arn).operations.get(operation.parent_id or "")
        if parent is not None and parent.sub_type == "WaitForCallback" and parent.name:
            names.add(parent.name)
        return names

    # ------------------------------------------------------------------ invocations

    def _should_invoke(self, tracked: Tracked) -> bool:
        execution = self._execution(tracked)
        if execution.status is not ExecutionStatus.RUNNING:
            return False
        if not execution.invocations or tracked.consecutive_failures or tracked.sandbox_died:
            return execution.active_invocation is None
        return self.service.woke_since_last_invocation(tracked.arn)

    def _begin_or_fail(self, tracked: Tracked) -> None:
        if tracked.invocations_made >= self.max_invocations:
            status = self._execution(tracked).status.value
            self._fail(
                tracked,
                TooManyInvocationsError(
                    f"The execution is still {status} after {tracked.invocations_made} "
                    f"invocations. Raise max_invocations if it really needs more, or look for a "
                    f"loop that never ends (result.invocations)."
                ),
            )
            return
        self._begin(tracked)

    def _begin(self, tracked: Tracked) -> RunningInvocation:
        event = self.service.begin_invocation(tracked.arn)
        tracked.invocations_made += 1
        tracked.sandbox_died = False
        tracked.bugs_seen = len(self._fake_bugs)
        execution = self._execution(tracked)
        invocation = execution.invocations[-1]
        context = LambdaContext(
            aws_request_id=invocation.request_id,
            function_name=execution.function_name,
            invoked_function_arn=execution.function_arn,
            function_version=execution.version,
            deadline_ms=self.clock.now_ms() + DEFAULT_FUNCTION_TIMEOUT_SECONDS * 1000,
            clock=self.clock,
        )
        running = RunningInvocation(
            tracked.handler,
            event,
            context,
            clock=self.clock,
            wall_timeout_seconds=self.invocation_wall_timeout,
            on_done=self.poke,
        )
        tracked.running = running
        return running

    def _end_hung(self, tracked: Tracked) -> None:
        self.service.end_invocation(
            tracked.arn, None, {"ErrorType": "Sandbox.Timedout", "ErrorMessage": "hung"}
        )

    def _settle(
        self, tracked: Tracked, running: RunningInvocation, *, scan: bool
    ) -> BaseException | None:
        """End the invocation with its outcome, as Lambda does; then look at what it left
        (chained invokes to start, callbacks to answer) and whether anything can wake it."""
        arn = tracked.arn
        outcome = running.outcome
        assert outcome is not None
        bugs = list(self._fake_bugs[tracked.bugs_seen :])
        if bugs:
            # The fake failed, not the handler: say so, whatever the SDK made of it.
            self.service.end_invocation(
                arn, None, {"ErrorType": "FakeServiceBug", "ErrorMessage": str(bugs[0])[:1000]}
            )
            self._fail(tracked, bugs[0])
            return bugs[0]
        if outcome.death is not None:
            # An injected sandbox death, not a handler failure: it does not count towards
            # max_failed_invocations. Lambda reports the runtime's exit and re-invokes.
            self.service.end_invocation(
                arn,
                None,
                {
                    "ErrorType": "Runtime.ExitError",
                    "ErrorMessage": f"pytest-durable killed the sandbox: {outcome.death.detail}",
                },
            )
            tracked.sandbox_died = True
            if scan:
                self._look_at_outside_world(tracked)
            return None
        if outcome.crashed:
            self.service.end_invocation(arn, None, outcome.error_object())
            contract_error = missing_decorator(tracked.handler, outcome.exception, running.context)
            if contract_error is not None:  # retrying cannot help
                self._fail(tracked, contract_error)
                return contract_error
            tracked.consecutive_failures += 1
            tracked.last_crash = outcome.exception
            if tracked.consecutive_failures >= self.max_failed_invocations:
                error: BaseException = InvocationFailedError(
                    f"The handler crashed on {tracked.consecutive_failures} consecutive "
                    f"invocations; the last crash is chained below. (Lambda would keep "
                    f"retrying; raise max_failed_invocations to allow more.)"
                )
                error.__cause__ = tracked.last_crash
                self._fail(tracked, error)
                return error
            return None
        output = outcome.output
        tracked.consecutive_failures = 0
        end = self.service.end_invocation(arn, output)
        refused: DurableRunError | None = None
        if end.status == "INVALID_OUTPUT":
            # The service has failed the execution, as the real one does; the test learns why.
            refused = HandlerContractError(
                f"The handler returned {output!r:.200}, which is not a valid durable "
                f"invocation output: {end.problem}. The service failed the execution with "
                f"InvalidParameterValueException, as Lambda does (result.error; the error's "
                f".result is the execution). Durable handlers answer through "
                f"@durable_execution from aws_durable_execution_sdk_python: decorate the "
                f"handler with it, and keep wrappers from changing its answer."
            )
        elif end.status == "NOTHING_PENDING" and end.execution_status is ExecutionStatus.FAILED:
            refused = ExecutionStuckError(
                f"{stuck_message(self._execution(tracked))} Lambda retries such an invocation "
                f"and then fails the execution; here too it failed after "
                f"{MAX_IDLE_PENDING_INVOCATIONS} consecutive invocations, with "
                f"InvalidParameterValueException {end.problem!r} (the error's .result is the "
                f"execution)."
            )
        if refused is not None:
            refused.result = self.result_of(tracked.arn)
            self._fail(tracked, refused)
            return refused
        if scan:
            self._look_at_outside_world(tracked)
        return None

    def result_of(self, arn: str) -> ExecutionResult:
        """The execution as it stands now (finished or not), with its checkpoint calls."""
        execution = self.service.execution(arn)
        calls = self.checkpoints.calls(arn)
        result = ExecutionResult.from_execution(execution, list(execution.history), calls)
        return replace(result, faults=reactions(list(self._injected_faults), execution))

    def _fail(self, tracked: Tracked, error: BaseException) -> None:
        """Stop driving an execution: the error goes to whoever drives it, and up the chain of
        callers of a chained target. An autonomous execution is stopped with it."""
        tracked.error = error
        if tracked.parent is not None:
            caller_arn, _, function_name = tracked.parent
            wrapped = type(error)(
                f"In the execution {tracked.arn} that context.invoke({function_name!r}) "
                f"started: {error}"
            )
            wrapped.__cause__ = error
            self._fail(self._tracked[caller_arn], wrapped)
            return
        if tracked.autonomous:
            self.errors.append(error)
            if not self._execution(tracked).status.is_terminal:
                self.service.stop_durable_execution(
                    DurableExecutionArn=tracked.arn,
                    Error={
                        "ErrorType": type(error).__name__,
                        "ErrorMessage": f"pytest-durable: {error}"[:1000],
                    },
                )

    def _stuck(self, tracked: Tracked) -> bool:
        execution = self._execution(tracked)
        if execution.status is not ExecutionStatus.RUNNING or tracked.answers:
            return False
        if any(op_id != execution.execution_id for op_id in execution.timers):
            return False
        if self.service.waiting_operations(tracked.arn):
            return False
        return not self.service.woke_since_last_invocation(tracked.arn)

    def _cannot_proceed(self, tracked: Tracked) -> BaseException:
        if self._stuck(tracked):
            return ExecutionStuckError(stuck_message(self._execution(tracked)))
        return ExecutionBlockedError(blocked_message(self.service, tracked.arn))

    # ------------------------------------------------------------------ the outside world

    def _look_at_outside_world(self, tracked: Tracked) -> None:
        """Start the chained invokes the invocation started; schedule declared answers for the
        callbacks it created."""
        for operation in list(self._execution(tracked).operations.values()):
            if operation.status is not OperationStatus.STARTED:
                continue
            if operation.type is OperationType.CHAINED_INVOKE:
                if operation.id not in tracked.started_invokes:
                    tracked.started_invokes.add(operation.id)
                    self._start_target(tracked, operation)
            elif operation.type is OperationType.CALLBACK:
                self._schedule_responder(tracked, operation)

    def _start_target(self, caller: Tracked, operation: Operation) -> None:
        function_name = operation.function_name or ""
        target = self.invoke_targets.find(function_name)
        if target is None:
            self._complete(
                caller, operation.id, missing_outcome(self.invoke_targets, function_name)
            )
        elif target.durable_handler is not None:
            self.start(
                target.durable_handler,
                function_key(function_name or target.name)[0],
                operation.invoke_input,
                execution_timeout=target.execution_timeout,
                reserved_arn=operation.child_execution_arn,
                autonomous=caller.autonomous,
                parent=(caller.arn, operation.id, function_name),
            )
        elif target.function is not None:
            self._call_plain(caller, target, operation)
        else:
            self._complete(caller, operation.id, canned_outcome(target))

    def _call_plain(self, caller: Tracked, target: InvokeTarget, operation: Operation) -> None:
        assert target.function is not None
        invocation = RunningInvocation(
            target.function,
            plain_event(operation),
            plain_context(self.service, self.clock, target, operation),
            clock=self.clock,
            wall_timeout_seconds=self.invocation_wall_timeout,
            on_done=self.poke,
        )
        self._plain.append(_PlainCall(caller, operation.id, invocation))

    def _complete(self, caller: Tracked, operation_id: str, outcome: InvokeOutcome) -> None:
        """Settle the caller's CHAINED_INVOKE; dropped if the caller ended meanwhile (its own
        timeout passed while the target ran), as Lambda would."""
        self.service.fire_due_timers(caller.arn)
        if self._execution(caller).status.is_terminal:
            return
        self.service.complete_chained_invoke(
            caller.arn,
            operation_id,
            OperationStatus(outcome.status),
            result=outcome.result,
            error=outcome.error,
        )

    def _report_if_ended(self, tracked: Tracked) -> bool:
        """A durable target that ended settles its caller's CHAINED_INVOKE."""
        if tracked.parent is None or tracked.reported or tracked.error is not None:
            return False
        execution = self._execution(tracked)
        if not execution.status.is_terminal or tracked.running is not None:
            return False
        tracked.reported = True
        self._complete(
            self._tracked[tracked.parent[0]], tracked.parent[1], durable_outcome(execution)
        )
        return True

    def _schedule_responder(self, tracked: Tracked, operation: Operation) -> None:
        callback_id = operation.callback_id
        if callback_id is None or callback_id in tracked.responded:
            return
        responder = self.responders.for_callback(self.callback_names(tracked.arn, operation))
        if responder is None:
            return
        tracked.responded.add(callback_id)
        # Delays count from the callback's creation, so declared times are exact.
        for due_ms, step in responder.schedule(operation.start_ms):
            tracked.schedule_answer(due_ms, callback_id, step)

    def _perform_due_answers(self, tracked: Tracked, now: int) -> bool:
        performed = False
        while tracked.answers and tracked.answers[0][0] <= now:
            _, _, callback_id, step = heapq.heappop(tracked.answers)
            operation = self._callback_operation(tracked, callback_id)
            if operation is None or operation.status is not OperationStatus.STARTED:
                continue  # it timed out (or the test answered it) before this answer was due
            try:
                step.action(CallbackHandle(self.client, operation, tracked.arn))
            except ClientError as error:
                if error.response["Error"]["Code"] != "CallbackTimeoutException":
                    raise
            performed = True
        return performed

    def _callback_operation(self, tracked: Tracked, callback_id: str) -> Operation | None:
        for operation in list(self._execution(tracked).operations.values()):
            if operation.callback_id == callback_id:
                return operation
        return None

    def _execution(self, tracked: Tracked) -> Execution:
        return self.service.execution(tracked.arn)


def ignore_sets(items: Iterable[Any], handles: list[CallbackHandle]) -> tuple[set[str], set[str]]:
    """``run_until_blocked(ignore=...)``: handles and CallbackIds by id, other strings also as
    names."""
    ids: set[str] = set()
    names: set[str] = set()
    for item in items:
        if isinstance(item, CallbackHandle):
            ids.add(item.id)
        else:
            ids.update(h.id for h in handles if item == h.id)
            names.add(str(item))
    return ids, names
