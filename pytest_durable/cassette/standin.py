"""A stand-in for Lambda's ``Invoke`` in front of the fake service: cloud mode without AWS.

Cloud mode talks to Lambda through boto3 only. To run it (and record cassettes) where no AWS
account is reachable, :class:`LambdaStandIn` answers ``Invoke`` the way Lambda answers an
asynchronous invoke of a durable function: it starts a durable execution of a registered local
handler, answers ``202`` with the execution's ARN in ``X-Amz-Durable-Execution-Arn``, and hands
the execution to the environment's scheduler, which drives it in the background with every
other execution on the one virtual clock (waits take no time; a callback waits for its answer
over HTTP, which wakes the scheduler at once). Every other request goes to the
durable-execution router unchanged. Served over loopback HTTP
(:class:`~pytest_durable.transport.http.HttpEndpoint`), a real boto3 client, and a recorder,
cannot tell it from Lambda.

The request and response follow botocore's ``lambda`` model for ``Invoke``: ``FunctionName`` in
the path (name, ``name:qualifier`` or ARN), ``Qualifier`` query, ``X-Amz-Invocation-Type`` and
``X-Amz-Durable-Execution-Name`` headers, the raw payload as the body. Only asynchronous
(``Event``) and ``DryRun`` invocations are served.

The SDK reads its boto3 client from a process-wide cache when an invocation starts
(``LambdaClient._cached_boto_client``). A stand-in may serve while another environment holds
that cache (a test using both ``durable`` and cloud mode), so each invocation it runs puts its
own in-process client there for the duration (``runner.sdk.sdk_client``, the one place the
cache is set), and the previous one back after.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

from pytest_durable.errors import (
    DurableExecutionAlreadyStartedException,
    InvalidParameterValueException,
    ResourceNotFoundException,
    ServiceError,
)
from pytest_durable.runner.environment import DurableEnvironment
from pytest_durable.runner.invokes import function_key
from pytest_durable.runner.sdk import sdk_client
from pytest_durable.transport.inprocess import make_client
from pytest_durable.transport.router import (
    DURABLE_OPERATIONS,
    HttpResponse,
    Router,
    error_response,
    lambda_model,
)

Handler = Callable[[Any, Any], Any]


def _invoke_pattern() -> re.Pattern[str]:
    uri = lambda_model().operation_model("Invoke").http["requestUri"]
    return re.compile("^" + re.escape(uri).replace(r"\{FunctionName\}", "(?P<name>[^/]+)") + "$")


class LambdaStandIn(Router):
    """The durable-execution router plus Lambda's ``Invoke`` for registered local handlers."""

    served_apis = (*DURABLE_OPERATIONS, "Invoke")

    def __init__(self, environment: DurableEnvironment) -> None:
        # One fault plan for everything the environment serves: Invoke, the operator and
        # callback APIs over HTTP, and the SDK's checkpoints of the executions it runs.
        super().__init__(environment.service, faults=environment.faults)
        environment.faults.allow_apis(self.served_apis)
        self.environment = environment
        self._handlers: dict[str, Handler] = {}
        self._pattern = _invoke_pattern()
        self._lock = threading.Lock()
        self._sdk_client = make_client(
            environment.router,
            region=environment.settings.region,
            retry_sleep=environment.clock.advance,
        )

    def register(self, function_name: str, handler: Handler) -> None:
        """Serve ``Invoke`` of ``function_name`` (a name, ``name:qualifier`` or ARN) by running
        ``handler`` as a durable execution."""
        client = self._sdk_client

        def invoke(event: Any, context: Any) -> Any:
            with sdk_client(client):
                return handler(event, context)

        invoke.__name__ = getattr(handler, "__name__", "handler")
        invoke.__qualname__ = getattr(handler, "__qualname__", invoke.__name__)
        invoke.__module__ = getattr(handler, "__module__", __name__)
        with self._lock:
            self._handlers[function_key(function_name)[0]] = invoke

    # ------------------------------------------------------------------ HTTP

    def handle(
        self, method: str, url_path: str, headers: dict[str, str], body: bytes
    ) -> HttpResponse:
        if method.upper() in ("GET", "HEAD"):  # reads change nothing
            return self._handle(method, url_path, headers, body)
        with self.environment.scheduler.serving_request():  # it may change state: look again
            return self._handle(method, url_path, headers, body)

    @property
    def errors(self) -> list[BaseException]:
        """Errors met driving executions (each such execution was stopped with it)."""
        errors: list[BaseException] = self.environment.scheduler.errors
        return errors

    def _handle(
        self, method: str, url_path: str, headers: dict[str, str], body: bytes
    ) -> HttpResponse:
        path, _, query = url_path.partition("?")
        found = self._pattern.match(path)
        if found is None:
            return super().handle(method, url_path, headers, body)
        try:
            if method.upper() != "POST":
                raise InvalidParameterValueException(f"Invoke takes POST, not {method}")
            name = urllib.parse.unquote(found.group("name"))
            decision = self.faults.decide("Invoke", {"FunctionName": name, "Payload": body})
            if decision is not None and decision.error is not None:
                raise decision.error
            if decision is not None and decision.rule.kind == "delay":
                self.faults.wait(decision)
            answer = self._invoke(
                name,
                urllib.parse.parse_qs(query),
                {name.lower(): value for name, value in headers.items()},
                body,
            )
            if decision is not None and decision.rule.kind == "lose_answer":
                return HttpResponse(answer.status, answer.headers, answer.body, lost=True)
            return answer
        except ServiceError as error:
            return error_response(error)

    def _invoke(
        self,
        function_name: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> HttpResponse:
        name, qualifier = function_key(function_name)
        qualifier = (query.get("Qualifier") or [qualifier or "$LATEST"])[-1]
        with self._lock:
            handler = self._handlers.get(name)
        if handler is None:
            raise ResourceNotFoundException(
                f"Function not found: {self.service.function_arn(name, qualifier)}"
            )
        kind = headers.get("x-amz-invocation-type", "RequestResponse")
        if kind == "DryRun":
            return HttpResponse(204, {"Content-Type": "application/json"}, b"")
        if kind != "Event":
            raise InvalidParameterValueException(
                f"The stand-in serves asynchronous invokes of durable functions only "
                f"(InvocationType=Event), not {kind}"
            )
        payload = body.decode("utf-8")
        execution_name = headers.get("x-amz-durable-execution-name")
        existing = self._existing(name, execution_name, payload)
        if existing is not None:
            return self._accepted(existing)
        arn = self.environment.scheduler.start(
            handler, name, payload, execution_name=execution_name, autonomous=True
        )
        return self._accepted(arn)

    def adopt(self, arn: str) -> bool:
        """Go on driving an execution this stand-in did not start (one restored from a store),
        if it is not finished and its function is registered. Returns whether it is driven."""
        execution = self.service.execution(arn)
        with self._lock:
            handler = self._handlers.get(execution.function_name)
        if handler is None or execution.status.is_terminal:
            return False
        self.environment.scheduler.adopt(arn, handler)
        return True

    def _existing(self, name: str, execution_name: str | None, payload: str) -> str | None:
        """The ARN of an execution already started under this name (model docs: same payload
        returns it; a different payload is DurableExecutionAlreadyStartedException)."""
        if execution_name is None:
            return None
        for execution in self.service.executions:
            if execution.function_name == name and execution.name == execution_name:
                if execution.input_payload != payload:
                    raise DurableExecutionAlreadyStartedException(
                        f"A durable execution named {execution_name!r} was already started "
                        f"for {name} with a different payload"
                    )
                return execution.arn
        return None

    @staticmethod
    def _accepted(arn: str) -> HttpResponse:
        return HttpResponse(
            202,
            {"Content-Type": "application/json", "X-Amz-Durable-Execution-Arn": arn},
            b"",
        )

    def stop(self) -> None:
        """Stop driving executions (those still running stay as they are)."""
        self.environment.scheduler.close()
