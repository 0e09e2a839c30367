"""The environment a test runs durable functions in: fake service, virtual clock, Lambda's role.

``DurableEnvironment`` owns everything with a lifetime: the virtual clock (and the time patching, so
handler code sees it), the service, the boto3 client the SDK is given, and the SDK patches.
Enter it as a context manager, or get one from the ``durable`` pytest fixture.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import Any

from aws_durable_execution_sdk_python import __about__ as sdk_about

from pytest_durable.clock import VirtualClock
from pytest_durable.errors import hide_frames_of_run_errors
from pytest_durable.runner.callbacks import CallbackResponder, ResponderRegistry
from pytest_durable.runner.checkpoints import CheckpointLog
from pytest_durable.runner.contract import check_handler
from pytest_durable.runner.driver import ExecutionDriver
from pytest_durable.runner.fuzzing import FuzzReport
from pytest_durable.runner.fuzzing import fuzz as fuzz_run
from pytest_durable.runner.invokes import InvokeRegistry, InvokeTarget, error_object
from pytest_durable.runner.mocks import NO_RESULT, StepMock, StepMocks
from pytest_durable.runner.result import ExecutionResult
from pytest_durable.runner.sandbox import SandboxGate, follow_threads, kill_for_fault
from pytest_durable.runner.scheduler import Scheduler
from pytest_durable.runner.sdk import (
    prompt_checkpoint_shutdown,
    sdk_client,
    skip_idle_batch_window,
)
from pytest_durable.runner.settings import DurableSettings, whole_seconds
from pytest_durable.service import DurableService
from pytest_durable.transport import Router, make_client
from pytest_durable.transport.faults import FaultPlan
from pytest_durable.transport.http import HttpEndpoint
from pytest_durable.transport.inprocess import leased_client

Handler = Callable[[Any, Any], Any]
_UNSET: Any = object()


def _event_payload(event: Any) -> str:
    """The execution input: the event as JSON, as Lambda receives it."""
    try:
        return json.dumps(event)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"The event is not JSON serializable ({error}): a durable execution's input is "
            f"JSON, as Lambda receives it. Convert the values first (e.g. a datetime with "
            f".isoformat()), or pass the input text itself as input_payload='...'."
        ) from None


def function_name_for(handler: Handler) -> str:
    """A Lambda function name (``[a-zA-Z0-9_-]``, at most 64) derived from the handler's name."""
    raw = getattr(handler, "__name__", None) or type(handler).__name__
    return re.sub(r"[^a-zA-Z0-9_-]", "-", raw)[:64] or "handler"


class DurableEnvironment:
    """Run durable handlers against the fake service on a virtual clock.

    >>> with DurableEnvironment() as env:               # doctest: +SKIP
    ...     result = env.run(handler, {"order": 1})
    ...     assert result.status == "SUCCEEDED"
    """

    #: Where executions run: "local" (this fake); "cloud" for cloud mode's environment.
    mode = "local"

    def __init__(self, settings: DurableSettings | None = None, **overrides: Any) -> None:
        self.settings = (settings or DurableSettings()).updated(**overrides)
        self.clock = VirtualClock(self.settings.start)
        self.service = DurableService(
            self.clock.now_ms, region=self.settings.region, account_id=self.settings.account_id
        )
        # One router for the SDK, the test's client and HTTP, so all share the fault plan and
        # the record of the fake's bugs; as a gate, it refuses a killed invocation's requests.
        self.router: Router = SandboxGate(self.service)
        # Faults declared by the test (durable.faults.throttle(...)); virtual delays and
        # botocore's retry backoff pass on the virtual clock; a sandbox death kills the
        # invocation whose thread sent the request.
        self.router.faults.advance = self.clock.advance
        self.router.faults.sandbox_killer = kill_for_fault
        # Every accepted checkpoint call, per execution: results expose them as sent.
        self.checkpoints = CheckpointLog(self.service, self.clock.now_ms)
        self.service.add_checkpoint_listener(self.checkpoints)
        self._test_client: Any = None
        # The SDK's client, leased for the time the environment is open (see __enter__).
        self._sdk_client: Any = None
        self._stack: ExitStack | None = None
        self._http: HttpEndpoint | None = None
        self._responders = ResponderRegistry()
        #: Functions handlers may reach with ``context.invoke``.
        self.invoke_targets = InvokeRegistry()
        #: Steps whose outcome the test declared (``mock_step``).
        self.step_mocks = StepMocks(self.service)
        self.prompt_shutdown = False
        #: Plays Lambda for every execution of the environment, on the one virtual clock.
        self.scheduler = Scheduler(
            clock=self.clock,
            service=self.service,
            client=lambda: self.client,
            checkpoints=self.checkpoints,
            invoke_targets=self.invoke_targets,
            responders=self._responders,
            max_invocations=self.settings.max_invocations,
            max_failed_invocations=self.settings.max_failed_invocations,
            invocation_wall_timeout=self.settings.invocation_wall_timeout,
            fake_bugs=self.router.bugs,
            injected_faults=self.router.faults.injected,
        )
        self.idle_window_skip = False

    def __enter__(self) -> DurableEnvironment:
        stack = ExitStack()
        try:
            if self.settings.freeze_time:
                stack.enter_context(self.clock.freeze())
            self.prompt_shutdown = stack.enter_context(prompt_checkpoint_shutdown())
            self.idle_window_skip = stack.enter_context(skip_idle_batch_window())
            self._sdk_client = stack.enter_context(
                leased_client(
                    self.router,  # a gate: a killed invocation's requests never arrive
                    region=self.settings.region,
                    user_agent_extra=f"aws-durable-execution-sdk-python/{sdk_about.__version__}",
                    retry_sleep=self.clock.advance,
                )
            )
            stack.enter_context(follow_threads())
            stack.enter_context(sdk_client(self._sdk_client))
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._stack is not None:
                self.scheduler.close()  # nothing of the executions runs after this
            if exc_type is None:
                self.step_mocks.verify()
        finally:
            self.step_mocks.close()
            if self._stack is not None:
                self._stack.close()
                self._stack = None
                self._http = None
                self._sdk_client = None  # returned to the pool: another environment's now

    @property
    def client(self) -> Any:
        """A real boto3 ``lambda`` client on the fake service, for test code (made on first use:
        most tests never need it, and a botocore client costs milliseconds to build)."""
        if self._test_client is None:
            self._test_client = make_client(
                self.router, region=self.settings.region, retry_sleep=self.clock.advance
            )
        return self._test_client

    def http_endpoint(self) -> HttpEndpoint:
        """This environment's service over loopback HTTP (started on first use, stopped with the
        environment): for handlers in another process, or any client given its ``url``."""
        self._require_entered()
        if self._http is None:
            assert self._stack is not None
            self._http = self._stack.enter_context(HttpEndpoint(self.router))
        return self._http

    def _require_entered(self) -> None:
        if self._stack is None:
            raise RuntimeError(
                "Use DurableEnvironment as a context manager (`with DurableEnvironment() as env:`)"
                " or through the `durable` pytest fixture before running handlers."
            )

    # ------------------------------------------------------------------ runs

    def start(
        self,
        handler: Handler,
        event: Any = None,
        *,
        input_payload: str | None = _UNSET,
        function_name: str | None = None,
        execution_name: str | None = None,
        execution_timeout: int | None = None,
        reserved_arn: str | None = None,
    ) -> ExecutionDriver:
        """Start an execution without running it. The returned driver runs it to the end
        (``run()``), until only the test can move it on (``run_until_blocked()``), or lets
        virtual time pass (``advance(duration)``); answer callbacks with ``callback(...)``."""
        self._require_entered()
        if self.settings.freeze_time:
            # A freezegun freeze_time started around this run moves the clock, not a copy of it.
            from pytest_durable.time_patching import adopt_user_clocks  # noqa: PLC0415

            adopt_user_clocks()
        check_handler(handler)
        payload = _event_payload(event) if input_payload is _UNSET else input_payload
        timeout = (
            whole_seconds("execution_timeout", execution_timeout) or self.settings.execution_timeout
        )
        arn = self.scheduler.start(
            handler,
            function_name or function_name_for(handler),
            payload,
            execution_name=execution_name,
            execution_timeout=timeout,
            reserved_arn=reserved_arn,
        )
        return ExecutionDriver(self.scheduler, arn)

    # ------------------------------------------------------------------ the outside world

    def on_callback(self, name: str | None = None) -> CallbackResponder:
        """Declare how callbacks named ``name`` (a callback's name or its wait_for_callback's
        name; None: any callback) are answered when they start, e.g.
        ``durable.on_callback("approval").after(minutes=30).succeed({"ok": True})``.
        Named responders win over catch-alls. Several responders for the same name answer
        successive callbacks of that name in the order they were declared; the last one then
        answers every further one."""
        return self._responders.declare(name)

    def responder_for(self, names: set[str]) -> CallbackResponder | None:
        """The responder that answers the next callback known by ``names``, if one was
        declared: the first unused one of its kind, else the last of them again."""
        return self._responders.for_callback(names)

    def register_durable_function(
        self,
        function_name: str,
        handler: Handler,
        *,
        execution_timeout: int | None = None,
    ) -> None:
        """Make ``context.invoke(function_name, ...)`` start ``handler`` (a @durable_execution
        handler) as its own child execution, with its own history, on this virtual clock."""
        self.invoke_targets.add(
            function_name,
            InvokeTarget(
                function_name,
                durable_handler=handler,
                execution_timeout=whole_seconds("execution_timeout", execution_timeout),
            ),
        )

    def mock_step(
        self,
        name: str,
        *,
        result: Any = NO_RESULT,
        error: BaseException | type[BaseException] | None = None,
        attempts: Sequence[Any] | None = None,
    ) -> StepMock:
        """Declare the outcome of every step named ``name``: its body does not run, and the SDK
        checkpoints the declared ``result``, or handles the declared ``error`` (an exception or
        class) as if the body raised it (retries by the step's retry strategy), or gives
        attempt *n* the *n*-th of ``attempts`` (exceptions raised, values returned; the last
        repeats). A mock no step reached fails the test, naming the steps that ran. Returns the
        mock: ``mock.calls`` lists the attempts that used it."""
        return self.step_mocks.declare(name, result=result, error=error, attempts=attempts)

    def register_function(
        self,
        function_name: str,
        function: Handler | None = None,
        *,
        result: Any = _UNSET,
        error: BaseException | dict[str, Any] | None = None,
    ) -> None:
        """Make ``context.invoke(function_name, ...)`` call a plain ``function(event, context)``,
        or answer with a canned ``result`` (any JSON value) or ``error`` (an exception or an
        ErrorObject dict)."""
        given = sum([function is not None, result is not _UNSET, error is not None])
        if given != 1:
            raise TypeError("register_function takes exactly one of function, result= or error=")
        error_dict = error_object(error) if isinstance(error, BaseException) else error
        self.invoke_targets.add(
            function_name,
            InvokeTarget(
                function_name,
                function=function,
                result=None if result is _UNSET else result,
                error=error_dict,
            ),
        )

    def results(self) -> list[ExecutionResult]:
        """A result for every execution started in this environment, finished or not, oldest
        first: what the failure report's timeline is drawn from."""
        return [self.scheduler.result_of(execution.arn) for execution in self.service.executions]

    @property
    def faults(self) -> FaultPlan:
        """Faults the service injects into this environment's calls, declared with its verbs:
        ``durable.faults.throttle("CheckpointDurableExecution", times=2)``, ``fail``,
        ``lose_answer``, ``delay``, ``kill_sandbox`` (see docs/faults-and-fuzzing.md).
        ``durable.faults.injected`` lists what was injected."""
        return self.router.faults

    def fuzz(
        self,
        handler: Handler,
        event: Any = None,
        *,
        every: int = 1,
        probability: float | None = None,
        seed: int = 0,
        compare_results: bool = True,
        check: bool = True,
        **run_options: Any,
    ) -> FuzzReport:
        """Re-invocation fuzzing: run the execution cleanly, then again with the Lambda sandbox
        killed after every new checkpoint (``every=k``: every k-th; ``probability=p``: at
        seeded random points), so the handler replays from each; compare the two runs. Raises
        :class:`~pytest_durable.errors.ReplayDivergenceError` naming the first diverging
        operation and the likely cause (``check=False``: return the report instead).
        ``compare_results=False`` compares the operation sequence and status only."""
        self._require_entered()

        def start(clean: ExecutionResult) -> ExecutionDriver:
            # One re-invocation per checkpoint, at most: the run may need that many more.
            budget = len(clean.invocations) + 2 * len(clean.checkpoints) + 10
            self.scheduler.max_invocations = max(self.scheduler.max_invocations, budget)
            return self.start(handler, event, **run_options)

        try:
            report = fuzz_run(
                self,
                lambda: self.run(handler, event, **run_options),
                start,
                every=every,
                probability=probability,
                seed=seed,
                compare_results=compare_results,
            )
        finally:
            self.scheduler.max_invocations = self.settings.max_invocations
        return report.raise_if_failed() if check else report

    def run(
        self,
        handler: Handler,
        event: Any = None,
        *,
        input_payload: str | None = _UNSET,
        function_name: str | None = None,
        execution_name: str | None = None,
        execution_timeout: int | None = None,
    ) -> ExecutionResult:
        """Run an execution to its end, re-invoking the handler as Lambda would, and return the
        result. ``event`` is JSON-encoded as the execution input; pass ``input_payload`` to give
        the input text verbatim instead."""
        __tracebackhide__ = hide_frames_of_run_errors
        driver = self.start(
            handler,
            event,
            input_payload=input_payload,
            function_name=function_name,
            execution_name=execution_name,
            execution_timeout=execution_timeout,
        )
        return driver.run()
