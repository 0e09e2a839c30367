"""The checkpoint traffic of a run: every accepted CheckpointDurableExecution call, as sent.

The service stays a pure API model; it only notifies listeners after each accepted checkpoint.
The environment registers a :class:`CheckpointLog` as such a listener and the results it builds
expose the calls, so a test can see exactly what the SDK sent (which the official testing library
hides) and which invocation sent it.
"""

from __future__ import annotations

import datetime as _dt
import pickle
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pytest_durable.service import DurableService, ms_to_datetime

Wire = dict[str, Any]


@dataclass(frozen=True)
class CheckpointCall:
    """One accepted ``CheckpointDurableExecution`` call of an execution, in the order received.

    ``updates`` and ``response`` are a snapshot taken when the service accepted the call (the
    service keeps working with the same dicts, and a test may change what it is handed). The
    snapshot is kept as pickled bytes, three times cheaper to take than a deep copy, and read
    back on first access: a run of thousands of steps whose calls no test reads pays little.
    """

    #: Position of the call among this execution's checkpoint calls (0-based).
    sequence: int
    #: Index of the invocation that sent it in ``ExecutionResult.invocations`` (None: sent while
    #: no invocation was running, e.g. by test code through ``durable.client``).
    invocation: int | None
    #: Lambda request id of that invocation.
    request_id: str | None
    #: Virtual time at which the service accepted the call.
    at: _dt.datetime
    client_token: str | None
    _snapshot: bytes = field(repr=False)

    @classmethod
    def taken(
        cls,
        *,
        sequence: int,
        invocation: int | None,
        request_id: str | None,
        at: _dt.datetime,
        updates: Sequence[Wire],
        client_token: str | None,
        response: Wire,
    ) -> CheckpointCall:
        """A call whose updates and response are snapshotted now."""
        snapshot = pickle.dumps((tuple(updates), response), protocol=pickle.HIGHEST_PROTOCOL)
        return cls(sequence, invocation, request_id, at, client_token, snapshot)

    @cached_property
    def _contents(self) -> tuple[tuple[Wire, ...], Wire]:
        contents: tuple[tuple[Wire, ...], Wire] = pickle.loads(self._snapshot)  # our own bytes
        return contents

    @property
    def updates(self) -> tuple[Wire, ...]:
        """The ``OperationUpdate`` list exactly as the SDK sent it (after botocore's round
        trip)."""
        return self._contents[0]

    @property
    def response(self) -> Wire:
        """The service's answer: ``CheckpointToken`` (absent when the batch completed the
        execution) and ``NewExecutionState``."""
        return self._contents[1]


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
        at = ms_to_datetime(self._now_ms())
        with self._lock:
            calls = self._calls.setdefault(arn, [])
            # A snapshot: the response dict is also the idempotency cache entry and the router's
            # output, and the updates' parts live on in the service's operations.
            calls.append(
                CheckpointCall.taken(
                    sequence=len(calls),
                    invocation=index,
                    request_id=invocation.request_id if invocation is not None else None,
                    at=at,
                    updates=request.get("Updates") or [],
                    client_token=request.get("ClientToken"),
                    response=response,
                )
            )

    def calls(self, arn: str) -> tuple[CheckpointCall, ...]:
        with self._lock:
            return tuple(self._calls.get(arn, ()))
