"""One Lambda invocation of a durable handler: the envelope in, the output (or a crash) out."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_durable.clock import VirtualClock
from pytest_durable.errors import HandlerTimeoutError, SandboxKilled
from pytest_durable.runner.sandbox import Sandbox

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


def invoke_handler(
    handler: Handler,
    event: Any,
    context: LambdaContext,
    *,
    wall_timeout_seconds: float,
) -> InvocationOutcome:
    """Call the handler in a sandbox of its own, as Lambda would, bounded by a wall-clock
    timeout; past it the sandbox is killed and :class:`HandlerTimeoutError` says what the
    handler was doing."""
    outcome: list[InvocationOutcome] = []
    sandbox = Sandbox(context.aws_request_id[:8])

    def call() -> None:
        try:
            outcome.append(InvocationOutcome(output=handler(event, context)))
        except SandboxKilled as killed:
            outcome.append(InvocationOutcome(exception=killed))
        except BaseException as error:
            outcome.append(InvocationOutcome(exception=error))

    worker = sandbox.start(call)
    worker.join(wall_timeout_seconds)
    if worker.is_alive():
        doing = sandbox.describe()
        sandbox.kill()
        raise HandlerTimeoutError(
            f"The handler did not return within {wall_timeout_seconds:g} s of wall time. Durable "
            f"waits and retries never block in pytest-durable, so the handler is stuck (a "
            f"deadlock, a real sleep, or I/O that never completes). Raise the limit with "
            f"@pytest.mark.durable(invocation_wall_timeout=...) if it is merely slow. Its "
            f"sandbox was killed: nothing more of this invocation reaches the service."
            + (f"\n{doing}" if doing else "")
        )
    return outcome[0]
