"""The checkpoint traffic of a run: every accepted CheckpointDurableExecution call, as sent.

The service stays a pure API model; it only notifies listeners after each accepted checkpoint.
The environment registers a :class:`CheckpointLog` as such a listener and the results it builds
expose the calls, so a test can see exactly what the SDK sent (which the official testing library
hides) and which invocation sent it.
"""

from __future__ import annotations

import copy
import datetime as _dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_durable.service import DurableService, ms_to_datetime

Wire = dict[str, Any]


@dataclass(frozen=True)
class CheckpointCall:
    """One accepted ``CheckpointDurableExecution`` call of an execution, in the order received."""

    #: Position of the call among this execution's checkpoint calls (0-based).
    sequence: int
    #: Index of the invocation that sent it in ``ExecutionResult.invocations`` (None: sent while
    #: no invocation was running, e.g. by test code through ``durable.client``).
    invocation: int | None
    #: Lambda request id of that invocation.
    request_id: str | None
    #: Virtual time at which the service accepted the call.
    at: _dt.datetime
    #: The ``OperationUpdate`` list exactly as the SDK sent it (after botocore's round trip).
    updates: tuple[Wire, ...]
    client_token: str | None
    #: The service's answer: ``CheckpointToken`` (absent when the batch completed the execution)
    #: and ``NewExecutionState``.
    response: Wire


class CheckpointLog:
    """Collects checkpoint calls per execution ARN. Thread-safe: the SDK checkpoints from its own
    thread, map and parallel branches from several."""

    def __init__(self, service: DurableService, now_ms: Callable[[], int]) -> None:
        self._service = service
        self._now_ms = now_ms
        self._calls: dict[str, list[CheckpointCall]] = {}
        self._lock = threading.Lock()

    def __call__(self, arn: str, request: Wire, response: Wire) -> None:
        """The service's checkpoint listener signature: ``(arn, request, response)``."""
        execution = self._service.execution(arn)
        invocation = execution.active_invocation
        index = len(execution.invocations) - 1 if invocation is not None else None
        # Copies: the response dict is also the idempotency cache entry and the router's output.
        updates = tuple(copy.deepcopy(list(request.get("Updates") or [])))
        answer = copy.deepcopy(response)
        with self._lock:
            calls = self._calls.setdefault(arn, [])
            calls.append(
                CheckpointCall(
                    sequence=len(calls),
                    invocation=index,
                    request_id=invocation.request_id if invocation is not None else None,
                    at=ms_to_datetime(self._now_ms()),
                    updates=updates,
                    client_token=request.get("ClientToken"),
                    response=answer,
                )
            )

    def calls(self, arn: str) -> tuple[CheckpointCall, ...]:
        with self._lock:
            return tuple(self._calls.get(arn, ()))
