"""One Lambda invocation of a durable handler: the envelope in, the output (or a crash) out."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from pytest_durable.clock import VirtualClock, _Real
from pytest_durable.errors import HandlerTimeoutError, SandboxKilled
from pytest_durable.runner.sandbox import Sandbox
from pytest_durable.transport.faults import InjectedFault

Handler = Callable[[Any, Any], Any]

# Lambda's maximum function timeout; the remaining time the handler sees counts down on the
# virtual clock from its invocation's start.
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 900


@dataclass
class LambdaContext:
    """The ``context`` Lambda passes to a handler (the SDK's ``LambdaContext`` protocol)."""

    aws_request_id: str
    function_name: str
    invoked_function_arn: str
    deadline_ms: int
    clock: VirtualClock
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = "128"
    log_group_name: str | None = None
    log_stream_name: str | None = None
    tenant_id: str | None = None
    client_context: Any = None
    identity: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - self.clock.now_ms())

    def log(self, msg: str) -> None:  # pragma: no cover - Lambda's logger shim
        print(msg)


@dataclass(frozen=True)
class InvocationOutcome:
    """What one call of the handler produced: its output dict, or the exception it raised."""

    output: Any = None
    exception: BaseException | None = None
    #: The injected fault that killed the invocation's sandbox (``kill_sandbox``).
    death: InjectedFault | None = None

    @property
    def crashed(self) -> bool:
        return self.exception is not None

    def error_object(self) -> dict[str, Any]:
        """The function error Lambda records for a crash (``ErrorType`` as Lambda's Python
        runtime reports it: the exception class name; a process exit is ``Runtime.ExitError``)."""
        assert self.exception is not None
        error = self.exception
        error_type = getattr(error, "error_type", None) or (
            "Runtime.ExitError" if isinstance(error, SystemExit) else type(error).__name__
        )
        return {
            "ErrorType": error_type,
            "ErrorMessage": str(error),
            "StackTrace": traceback.format_exception(error),
        }


class RunningInvocation:
    """One call of a handler in a sandbox of its own, as Lambda runs an invocation, under way.

    The virtual clock ticks at the real rate from :meth:`start` until the invocation is
    settled (:meth:`release`) or abandoned: time passes for everyone while handler code runs.
    ``on_done`` is called from the invocation's thread when the handler returns or raises.
    Past ``wall_timeout_seconds`` of real time the owner calls :meth:`abandon`: the sandbox
    is killed and the :class:`HandlerTimeoutError` says what the handler was doing.
    """

    def __init__(
        self,
        handler: Handler,
        event: Any,
        context: LambdaContext,
        *,
        clock: VirtualClock,
        wall_timeout_seconds: float,
        on_done: Callable[[], None] = lambda: None,
    ) -> None:
        self.wall_timeout_seconds = wall_timeout_seconds
        self.handler = handler
        self.context = context
        self.deadline = _Real.monotonic() + wall_timeout_seconds
        self.sandbox = Sandbox(context.aws_request_id[:8])
        self.outcome: InvocationOutcome | None = None
        #: Set when the handler returned or raised, or its sandbox was killed.
        self.finished = threading.Event()
        self._end_lock = threading.Lock()
        self._ticking: AbstractContextManager[Any] | None = clock.running()
        self._ticking.__enter__()

        def call() -> None:
            try:
                outcome = InvocationOutcome(output=handler(event, context))
            except BaseException as error:  # SandboxKilled included: a killed sandbox crashed
                outcome = InvocationOutcome(exception=error)
            death = self.sandbox.death
            if death is not None:
                # An injected death (sandbox.kill_for_fault): the handler unwound from its
                # failed checkpoint; what it answered is lost, and what of the sandbox still
                # runs (a branch, a user's thread) is stopped and fenced.
                self.sandbox.on_killed = lambda: None
                self.sandbox.kill()
                self._end(InvocationOutcome(death=death), on_done)
            elif not self.sandbox.killed:
                self._end(outcome, on_done)

        def killed() -> None:
            # The sandbox died (a fault, or abandon()): the invocation crashed, as Lambda
            # reports a runtime that exited; whatever the handler does later is not heard.
            self._end(InvocationOutcome(exception=SandboxKilled("the sandbox died")), on_done)

        self.sandbox.on_killed = killed

        try:
            self.sandbox.start(call)
        except BaseException:
            self.release()
            raise

    def _end(self, outcome: InvocationOutcome, on_done: Callable[[], None]) -> None:
        with self._end_lock:
            if self.finished.is_set():
                return
            self.outcome = outcome
            self.finished.set()
        on_done()

    def release(self) -> None:
        """The invocation is over for the clock: it no longer keeps time ticking."""
        ticking, self._ticking = self._ticking, None
        if ticking is not None:
            ticking.__exit__(None, None, None)

    def abandon(self) -> HandlerTimeoutError:
        """Kill the sandbox of a hung invocation; the error to report."""
        doing = self.sandbox.describe()
        self.sandbox.on_killed = lambda: None  # hung, not crashed: the owner reports it
        self.sandbox.kill()
        self.release()
        return HandlerTimeoutError(
            f"The handler did not return within {self.wall_timeout_seconds:g} s of wall time. "
            f"Durable waits and retries never block in pytest-durable, so the handler is stuck "
            f"(a deadlock, a real sleep, or I/O that never completes). Raise the limit with "
            f"@pytest.mark.durable(invocation_wall_timeout=...) if it is merely slow. Its "
            f"sandbox was killed: nothing more of this invocation reaches the service."
            + (f"\n{doing}" if doing else "")
        )

    def wait(self) -> InvocationOutcome:
        """Block until the handler is done (settled) or past its wall timeout (raised)."""
        if not self.finished.wait(max(0.0, self.deadline - _Real.monotonic())):
            raise self.abandon()
        self.release()
        assert self.outcome is not None
        return self.outcome
