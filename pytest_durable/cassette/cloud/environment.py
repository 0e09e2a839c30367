"""Cloud mode: the same test body, run against a deployed durable function.

:class:`CloudEnvironment` has the verbs of :class:`~pytest_durable.DurableEnvironment` a test
needs to run an execution (``run``, ``start``, ``on_callback``, ``client``, ``results``), and
builds the same :class:`~pytest_durable.ExecutionResult` (operations, history, invocations), so
assertions do not change between modes. It only uses the public Lambda API through boto3, as any
client of the real service does:

- ``Invoke`` (asynchronous, ``InvocationType=Event``) starts the execution and answers with its
  ARN (the ``X-Amz-Durable-Execution-Arn`` header, ``DurableExecutionArn`` in boto3);
- ``GetDurableExecution`` is polled with exponential backoff until the execution ends;
- ``GetDurableExecutionHistory`` (every page, with payloads) gives the operations, rebuilt from
  the events (:mod:`.reconstruct`): a test process holds no checkpoint token, so it cannot read
  ``GetDurableExecutionState``;
- callbacks are answered with ``SendDurableExecutionCallback*``, by declared responders or by
  the test through ``execution.callback(name)``.

Nothing here depends on the request order being timed: the requests made depend only on the
answers received, so a recorded run replays request for request.

Differences from local runs, by nature: the handler runs in Lambda (a test cannot change its
module state), time is real (responders answer as soon as a callback is seen; their ``after``
delays are not waited), and ``result.checkpoints`` is empty (checkpoints happen inside Lambda).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError

from pytest_durable.assertions.history import fetch_history
from pytest_durable.cassette.cloud.functions import FunctionMap
from pytest_durable.cassette.cloud.reconstruct import execution_from_cloud, operations_from_history
from pytest_durable.clock import _Real
from pytest_durable.errors import CloudRunError, CloudTimeoutError, LocalOnlyError
from pytest_durable.runner.callbacks import (
    CallbackEntry,
    CallbackHandle,
    CallbackResponder,
    ResponderRegistry,
    select_callback,
)
from pytest_durable.runner.result import ExecutionResult
from pytest_durable.service.model import Execution, Operation, OperationStatus, OperationType, Wire

Handler = Callable[[Any, Any], Any]
_UNSET: Any = object()
_TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"})


@dataclass(frozen=True)
class Polling:
    """How ``GetDurableExecution`` is polled: exponential backoff, bounded in real time."""

    initial_delay: float = 0.25
    factor: float = 1.6
    max_delay: float = 5.0
    #: Real seconds a run may take before :class:`CloudTimeoutError`.
    timeout: float = 900.0

    def delays(self) -> Iterator[float]:
        delay = self.initial_delay
        while True:
            yield delay
            delay = min(delay * self.factor, self.max_delay)


@dataclass
class InvokeRecord:
    """What a test asked Lambda to run: kept for cassettes (input, function, local handler)."""

    function_name: str
    input_payload: str
    handler: Handler


class CloudExecution:
    """One execution started in cloud mode: drive it, answer its callbacks, read its result."""

    def __init__(self, environment: CloudEnvironment, arn: str, invoked: InvokeRecord) -> None:
        self.environment = environment
        self.arn = arn
        self.invoked = invoked
        self._final: ExecutionResult | None = None
        #: The execution as last read (service model, operations rebuilt from the history).
        self.last_state: Execution | None = None
        self._answered: set[str] = set()

    @property
    def client(self) -> Any:
        return self.environment.client

    # ------------------------------------------------------------------ state

    def describe(self, *, include_data: bool = False) -> Wire:
        """``GetDurableExecution`` of this execution."""
        described: Wire = self.environment.call(
            "get_durable_execution", DurableExecutionArn=self.arn, IncludeExecutionData=include_data
        )
        return described

    def history(self) -> list[Wire]:
        """Every event of ``GetDurableExecutionHistory``, all pages, with payloads."""
        with self.environment.reaching("get_durable_execution_history"):
            return fetch_history(self.client, self.arn)

    def operations(self) -> list[Operation]:
        """The operations as they stand, rebuilt from the history."""
        return operations_from_history(self.history()).operations

    @property
    def done(self) -> bool:
        return self._final is not None or self.describe()["Status"] in _TERMINAL

    @property
    def callbacks(self) -> list[CallbackHandle]:
        """The callbacks the execution is waiting on, in the order they were created."""
        return [
            handle
            for handle, operation in self._callback_handles(self.operations())
            if operation.status is OperationStatus.STARTED
        ]

    def callback(
        self, name: str | None = None, *, id: str | None = None, index: int | None = None
    ) -> CallbackHandle:
        """A callback by name (its own or its ``wait_for_callback``'s), CallbackId or creation
        index; with no argument, the only waiting one. Answers go through the real API."""
        operations = self.operations()
        entries = [
            CallbackEntry(
                handle,
                frozenset(_names_of(op, operations)),
                op.status is OperationStatus.STARTED,
            )
            for handle, op in self._callback_handles(operations)
        ]
        return select_callback(entries, name=name, id=id, index=index)

    def _callback_handles(
        self, operations: list[Operation]
    ) -> list[tuple[CallbackHandle, Operation]]:
        return [
            (CallbackHandle(self.client, op, self.arn), op)
            for op in operations
            if op.type is OperationType.CALLBACK and op.callback_id
        ]

    # ------------------------------------------------------------------ driving

    def run(self) -> ExecutionResult:
        """Wait for the execution to end (answering callbacks with the declared responders) and
        return its result."""
        self._drive(stop_when_blocked=False)
        return self.result()

    def run_until_blocked(self) -> CloudExecution:
        """Wait until the execution ends or waits on a callback no responder answers (or is
        paused). Returns this execution, to answer and go on."""
        self._drive(stop_when_blocked=True)
        return self

    def _drive(self, *, stop_when_blocked: bool) -> None:
        if self._final is not None:
            return
        polling = self.environment.polling
        deadline = _Real.monotonic() + polling.timeout
        delays = polling.delays()
        watch_callbacks = stop_when_blocked or self.environment.has_responders
        while True:
            status = self.describe()["Status"]
            if status in _TERMINAL:
                return
            if watch_callbacks:
                events = self.history()
                operations = operations_from_history(events).operations
                if self._answer_with_responders(operations):
                    continue
                # Blocked only once the invocation that created the callback has ended (its
                # InvocationCompleted is the latest event): before that the handler is still
                # running, and the state read now would be a half-way one.
                idle = bool(events) and events[-1].get("EventType") == "InvocationCompleted"
                if stop_when_blocked and (
                    status == "PAUSED" or (idle and self._unanswered(operations))
                ):
                    return
            if _Real.monotonic() > deadline:
                raise CloudTimeoutError(
                    f"The execution {self.arn} is still {status} after {polling.timeout:g} s. "
                    + self._waiting_hint()
                )
            self.environment.sleep(next(delays))

    def _unanswered(self, operations: list[Operation]) -> list[Operation]:
        return [
            op
            for op in operations
            if op.type is OperationType.CALLBACK
            and op.status is OperationStatus.STARTED
            and op.callback_id not in self._answered
        ]

    def _answer_with_responders(self, operations: list[Operation]) -> bool:
        answered = False
        for operation in self._unanswered(operations):
            responder = self.environment.responder_for(_names_of(operation, operations))
            if responder is None or operation.callback_id is None:
                continue
            self._answered.add(operation.callback_id)
            handle = CallbackHandle(self.client, operation, self.arn)
            # Real time: the steps are sent now, in order; their delays are not waited.
            for _, step in responder.schedule(operation.start_ms):
                try:
                    step.action(handle)
                except ClientError as error:
                    if error.response["Error"]["Code"] != "CallbackTimeoutException":
                        raise
            answered = True
        return answered

    def _waiting_hint(self) -> str:
        waiting = self._unanswered(self.operations())
        if not waiting:
            return "Raise the timeout (durable_poll_timeout) if it is merely slow."
        names = ", ".join(repr(op.name or op.callback_id) for op in waiting)
        return (
            f"It waits for callbacks {names}: declare durable_cloud.on_callback(name).succeed(...)"
            f" or answer them with execution.run_until_blocked().callback(name).succeed(...)."
        )

    # ------------------------------------------------------------------ result

    def result(self) -> ExecutionResult:
        """The execution as it stands now, read from the service (cached once it has ended)."""
        if self._final is not None:
            return self._final
        described = self.describe(include_data=True)
        events = self.history()
        execution = execution_from_cloud(described, events)
        self.last_state = execution
        result = ExecutionResult.from_execution(execution, events)
        if described["Status"] in _TERMINAL:
            self._final = result
        return result

    def __repr__(self) -> str:
        return f"CloudExecution({self.arn})"


# What the local fake has and a deployed function does not, and why.
_LOCAL_ONLY = {
    "clock": "time in Lambda is real time; there is no virtual clock to read or move",
    "service": "the service is AWS's; read it through durable.client",
    "router": "requests go to AWS, not to a local router",
    "checkpoints": "the SDK's checkpoint calls happen inside Lambda, out of the test's sight",
    "register_function": "context.invoke targets are deployed functions",
    "register_durable_function": "context.invoke targets are deployed functions",
    "invoke_targets": "context.invoke targets are deployed functions",
    "http_endpoint": "there is no local service to serve",
    "mock_step": "step bodies run inside Lambda, where a test cannot replace them",
    "step_mocks": "step bodies run inside Lambda, where a test cannot replace them",
    "settings": "the deployed function's own configuration applies",
    "faults": "AWS's service answers as it does; only the local fake injects faults",
    "fuzz": "re-invocation fuzzing kills and re-invokes local sandboxes, not Lambda's",
}


class CloudEnvironment:
    """Run durable executions of deployed functions, with the verbs of a local environment.

    ``client`` is a boto3 ``lambda`` client (real credentials for AWS; any endpoint, such as a
    loopback stand-in, for tests). ``functions`` maps handlers to function names. ``sleep`` is
    what polling waits with (a no-op when a cassette replays). ``before_invoke(function_name,
    handler)`` is called before each Invoke (a stand-in registers the handler there).
    """

    def __init__(
        self,
        client: Any,
        *,
        functions: FunctionMap | None = None,
        polling: Polling | None = None,
        sleep: Callable[[float], None] = time.sleep,
        before_invoke: Callable[[str, Handler], None] | None = None,
    ) -> None:
        self.client = client
        self.functions = functions or FunctionMap()
        self.polling = polling or Polling()
        self.sleep = sleep
        self.before_invoke = before_invoke
        self.executions: list[CloudExecution] = []
        self._responders = ResponderRegistry()

    #: Where executions run: "cloud" (the deployed function, or its cassette); "local" for a
    #: DurableEnvironment. A test that runs both ways can branch on it.
    mode = "cloud"

    def __getattr__(self, name: str) -> Any:
        reason = _LOCAL_ONLY.get(name)
        if reason is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        raise LocalOnlyError(
            f"durable.{name} is not available in cloud mode: {reason}. Keep this test local (no "
            f"@pytest.mark.durable_cloud), or branch on durable.mode == 'local'."
        )

    def call(self, operation: str, **params: Any) -> Any:
        """One boto3 call; a failure to reach the service (or a cassette without the request)
        becomes a :class:`CloudRunError` that names the call."""
        with self.reaching(operation):
            return getattr(self.client, operation)(**params)

    @contextmanager
    def reaching(self, operation: str) -> Iterator[None]:
        """Calls of ``operation`` inside the block that fail to reach the service (or find no
        answer in the cassette) raise a :class:`CloudRunError` that names the call."""
        try:
            yield
        except HTTPClientError as error:
            cause = error.kwargs.get("error") if hasattr(error, "kwargs") else None
            if type(cause).__name__ == "CannotOverwriteExistingCassetteException":
                # vcrpy's own advice names its options, not ours: say it in our terms, once.
                detail = str(cause).split("How to fix")[0].strip()  # vcrpy's matcher findings
                raise CloudRunError(
                    f"The cassette has no recorded answer for this {operation} request (the "
                    f"code now makes a request the recording did not). Record the test again "
                    f"with --durable-mode=cloud --durable-record-mode=all, or new_episodes to "
                    f"keep what is recorded and add the rest.\n{detail}"
                ) from None
            raise CloudRunError(f"{operation} did not reach the service: {error}") from error

    def start(
        self,
        handler: Handler,
        event: Any = None,
        *,
        input_payload: str | None = _UNSET,
        function_name: str | None = None,
        execution_name: str | None = None,
    ) -> CloudExecution:
        """Invoke the deployed function of ``handler`` asynchronously; returns the execution."""
        payload = json.dumps(event) if input_payload is _UNSET else (input_payload or "")
        name = self.functions.resolve(handler, function_name)
        if self.before_invoke is not None:
            self.before_invoke(name, handler)
        params: dict[str, Any] = {
            "FunctionName": name,
            "InvocationType": "Event",
            "Payload": payload.encode(),
        }
        if execution_name is not None:
            params["DurableExecutionName"] = execution_name
        response = self.call("invoke", **params)
        arn = response.get("DurableExecutionArn")
        if not arn:
            raise CloudRunError(
                f"Invoke of {name!r} returned no DurableExecutionArn (status "
                f"{response.get('StatusCode')}): it is not a durable function. Deploy it with a "
                f"DurableConfig, or map the handler to the right function (durable_function "
                f"marker, durable_functions ini option, PYTEST_DURABLE_FUNCTION_* variables)."
            )
        execution = CloudExecution(self, arn, InvokeRecord(name, payload, handler))
        self.executions.append(execution)
        return execution

    def run(
        self,
        handler: Handler,
        event: Any = None,
        *,
        input_payload: str | None = _UNSET,
        function_name: str | None = None,
        execution_name: str | None = None,
    ) -> ExecutionResult:
        """Invoke the deployed function and wait for the execution to end."""
        return self.start(
            handler,
            event,
            input_payload=input_payload,
            function_name=function_name,
            execution_name=execution_name,
        ).run()

    def on_callback(self, name: str | None = None) -> CallbackResponder:
        """Declare how callbacks named ``name`` are answered (see ``DurableEnvironment``)."""
        responder = self._responders.declare(name)
        return responder

    @property
    def has_responders(self) -> bool:
        return bool(self._responders)

    def responder_for(self, names: set[str]) -> CallbackResponder | None:
        """As in local mode: the first unused responder of the callback's name, else the last."""
        return self._responders.for_callback(names)

    def results(self) -> list[ExecutionResult]:
        """A result for every execution this environment started, oldest first."""
        return [execution.result() for execution in self.executions]


def _names_of(operation: Operation, operations: list[Operation]) -> set[str]:
    """A callback answers to its own name and to its wait_for_callback context's name."""
    names = {operation.name} if operation.name else set()
    for parent in operations:
        if (
            parent.id == operation.parent_id
            and parent.sub_type == "WaitForCallback"
            and parent.name
        ):
            names.add(parent.name)
    return names
