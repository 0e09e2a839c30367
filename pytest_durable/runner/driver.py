"""Playing Lambda for one execution: invoke, read the output, move time, invoke again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_durable.runner.errors import (
    ExecutionBlockedError,
    ExecutionStuckError,
    HandlerContractError,
    InvocationFailedError,
    TooManyInvocationsError,
)
from pytest_durable.runner.invocation import (
    DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    Handler,
    InvocationOutcome,
    LambdaContext,
    invoke_handler,
)
from pytest_durable.runner.result import ExecutionResult
from pytest_durable.service import DurableService, Execution, OperationStatus

if TYPE_CHECKING:
    from pytest_durable.clock import VirtualClock
    from pytest_durable.runner.checkpoints import CheckpointLog
    from pytest_durable.runner.environment import DurableSettings

_OUTPUT_STATUSES = frozenset({"SUCCEEDED", "FAILED", "PENDING"})


class ExecutionDriver:
    """Drives one durable execution. ``run()`` goes to the end; ``invoke()`` does one invocation."""

    def __init__(
        self,
        *,
        service: DurableService,
        clock: VirtualClock,
        handler: Handler,
        arn: str,
        settings: DurableSettings,
        explicit_timeout: bool,
        checkpoints: CheckpointLog | None = None,
    ) -> None:
        self.service = service
        self.clock = clock
        self.handler = handler
        self.arn = arn
        self.settings = settings
        self._explicit_timeout = explicit_timeout
        self._checkpoints = checkpoints
        self._consecutive_failures = 0
        self._last_crash: BaseException | None = None

    @property
    def execution(self) -> Execution:
        return self.service.execution(self.arn)

    @property
    def done(self) -> bool:
        return self.execution.status.is_terminal

    # ------------------------------------------------------------------ one invocation

    def invoke(self) -> InvocationOutcome:
        """Fire due timers, then invoke the handler once and settle its output."""
        self.service.fire_due_timers(self.arn)
        if self.done:
            return InvocationOutcome(output=None)
        event = self.service.begin_invocation(self.arn)
        invocation = self.execution.invocations[-1]
        execution = self.execution
        context = LambdaContext(
            aws_request_id=invocation.request_id,
            function_name=execution.function_name,
            invoked_function_arn=execution.function_arn,
            function_version=execution.version,
            deadline_ms=self.clock.now_ms() + DEFAULT_FUNCTION_TIMEOUT_SECONDS * 1000,
            clock=self.clock,
        )
        try:
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
            self._consecutive_failures += 1
            self._last_crash = outcome.exception
            return outcome
        output = outcome.output
        if not isinstance(output, dict) or output.get("Status") not in _OUTPUT_STATUSES:
            self.service.end_invocation(
                self.arn,
                None,
                {"ErrorType": "Runtime.InvalidOutput", "ErrorMessage": repr(output)[:500]},
            )
            raise HandlerContractError(
                f"The handler returned {output!r:.200}, which is not a durable invocation output "
                f"(a dict with Status SUCCEEDED, FAILED or PENDING). Decorate the handler with "
                f"@durable_execution from aws_durable_execution_sdk_python."
            )
        self._consecutive_failures = 0
        self.service.end_invocation(self.arn, output)
        return outcome

    # ------------------------------------------------------------------ to the end

    def run(self) -> ExecutionResult:
        """Invoke until the execution ends, moving the virtual clock to each timer."""
        for _ in range(self.settings.max_invocations):
            if self.done:
                return self.result()
            self.invoke()
            if self.done:
                return self.result()
            if self._consecutive_failures:
                if self._consecutive_failures >= self.settings.max_failed_invocations:
                    raise InvocationFailedError(
                        f"The handler crashed on {self._consecutive_failures} consecutive "
                        f"invocations; the last crash is chained below. (Lambda would keep "
                        f"retrying; raise max_failed_invocations to allow more.)"
                    ) from self._last_crash
                continue
            self._wait_for_next_wake()
        if self.done:
            return self.result()
        raise TooManyInvocationsError(
            f"The execution is still {self.execution.status.value} after "
            f"{self.settings.max_invocations} invocations. Raise max_invocations if it really "
            f"needs more, or look for a loop that never ends (result.invocations)."
        )

    def _wait_for_next_wake(self) -> None:
        """After a PENDING output: decide what Lambda would wait for, and make it happen now."""
        if self.service.woke_since_last_invocation(self.arn):
            return
        execution = self.execution
        root = execution.execution_id
        operation_timers = [due for op_id, due in execution.timers.items() if op_id != root]
        deadline = execution.timers.get(root)
        waiting = self.service.waiting_operations(self.arn)
        if operation_timers:
            due = min(operation_timers)
            self.clock.advance_to(due if deadline is None else min(due, deadline))
            return
        if waiting and deadline is not None and self._explicit_timeout:
            self.clock.advance_to(deadline)
            return
        if waiting:
            described = ", ".join(
                f"{op.type.value} {op.name or op.id!r}"
                + (f" (CallbackId {op.callback_id})" if op.callback_id else "")
                for op in waiting
            )
            raise ExecutionBlockedError(
                f"The execution is suspended waiting for {described}, and nothing will answer: "
                f"answer it from the test (env.client.send_durable_execution_callback_success("
                f"CallbackId=...)) before running on, or give the execution a timeout."
            )
        unfinished = [
            f"{op.type.value} {op.name or op.id!r} is {op.status.value}"
            for op in execution.operations.values()
            if op.id != root
            and not op.status.is_terminal
            and op.status is not OperationStatus.READY
        ]
        raise ExecutionStuckError(
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
        execution = self.execution
        calls = self._checkpoints.calls(self.arn) if self._checkpoints is not None else ()
        return ExecutionResult.from_execution(execution, list(execution.history), calls)
