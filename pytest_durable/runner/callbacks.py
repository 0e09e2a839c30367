"""Answering callbacks from the test: by hand (interactive) or by declared responders.

Answers go through the real ``SendDurableExecutionCallback*`` APIs on a boto3 client, as an
external system's would, so they meet the same validation and errors. A success value is sent as
the raw request body: bytes as given, a ``str`` as UTF-8, anything else as JSON. The SDK hands
the handler that text unchanged unless the callback was configured with a serdes (its default
for callbacks is pass-through).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_durable.parsing import Duration, to_seconds

NO_VALUE: Any = object()


def encode_callback_result(value: Any) -> bytes:
    """The request body for a callback success: the raw bytes the service stores as Result."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()


@dataclass(frozen=True)
class Failure:
    """A callback failure answer (an ``ErrorObject``)."""

    error_type: str = "CallbackError"
    message: str = ""
    data: str | None = None

    def error_object(self) -> dict[str, Any]:
        error: dict[str, Any] = {"ErrorType": self.error_type, "ErrorMessage": self.message}
        if self.data is not None:
            error["ErrorData"] = self.data
        return error


class CallbackHandle:
    """A callback an execution created: who it is, and the three ways to answer it."""

    def __init__(self, client: Any, operation: Any, arn: str) -> None:
        self._client = client
        self.execution_arn = arn
        self.id: str = operation.callback_id
        self.operation_id: str = operation.id
        self.name: str | None = operation.name
        self.parent_id: str | None = operation.parent_id
        self.timeout_seconds: int = operation.timeout_seconds
        self.heartbeat_timeout_seconds: int = operation.heartbeat_timeout_seconds

    def succeed(self, value: Any = NO_VALUE) -> None:
        """Send ``SendDurableExecutionCallbackSuccess`` with ``value`` as the result body (bytes
        as given, a ``str`` as UTF-8, anything else as JSON); with no value, no body at all."""
        if value is NO_VALUE:
            self._client.send_durable_execution_callback_success(CallbackId=self.id)
        else:
            self._client.send_durable_execution_callback_success(
                CallbackId=self.id, Result=encode_callback_result(value)
            )

    def fail(
        self, error_type: str = "CallbackError", message: str = "", data: str | None = None
    ) -> None:
        """Send ``SendDurableExecutionCallbackFailure`` with this error."""
        self._client.send_durable_execution_callback_failure(
            CallbackId=self.id, Error=Failure(error_type, message, data).error_object()
        )

    def heartbeat(self) -> None:
        """Send ``SendDurableExecutionCallbackHeartbeat``: restarts the heartbeat timeout."""
        self._client.send_durable_execution_callback_heartbeat(CallbackId=self.id)

    def answer(self, response: Any = NO_VALUE) -> None:
        """Succeed with ``response``, or fail if it is a :class:`Failure`."""
        if isinstance(response, Failure):
            self.fail(response.error_type, response.message, response.data)
        else:
            self.succeed(response)

    def __repr__(self) -> str:
        return f"CallbackHandle(name={self.name!r}, id={self.id[:12]}...)"


@dataclass(frozen=True)
class CallbackEntry:
    """A callback as a lookup sees it: its handle, the names it answers to, whether it is open."""

    handle: CallbackHandle
    names: frozenset[str]
    is_open: bool


def select_callback(
    entries: list[CallbackEntry],
    *,
    name: str | None = None,
    id: str | None = None,
    index: int | None = None,
) -> CallbackHandle:
    """The callback a test means: by CallbackId; by name (its own or its wait_for_callback's)
    and ``index`` among the callbacks of that name; by name alone the only open one of that name
    (or the only one at all); by ``index`` in creation order; or with nothing given the only
    open one. Shared by the local driver and cloud mode, so both answer the same way."""
    if id is not None:
        matches = [e.handle for e in entries if e.handle.id == id]
    else:
        named = [e for e in entries if name is None or name in e.names]
        if index is not None:
            in_range = -len(named) <= index < len(named)
            matches = [named[index].handle] if in_range else []
        else:
            matches = [e.handle for e in named if e.is_open]
            if len(matches) > 1:
                raise LookupError(
                    f"{len(matches)} callbacks{f' named {name!r}' if name else ''} are waiting "
                    f"({matches}); pick one by id or index"
                )
            if not matches and name is not None:
                closed = [e.handle for e in named]
                if len(closed) == 1:
                    matches = closed  # the only one of that name, already answered or expired
                elif closed:
                    raise LookupError(
                        f"The {len(closed)} callbacks named {name!r} are all closed (answered or "
                        f"timed out): {closed}. Pass index= to pick one."
                    )
    if not matches:
        known = ", ".join(f"{e.handle.name or '(unnamed)'} [{e.handle.id[:8]}...]" for e in entries)
        raise LookupError(
            f"No callback matches name={name!r} id={id!r} index={index!r}. Callbacks of this "
            f"execution: {known or 'none'}"
        )
    return matches[0]


@dataclass
class _Step:
    delay_seconds: float
    action: Callable[[CallbackHandle], None]
    describe: str


@dataclass
class CallbackResponder:
    """A declared answer for callbacks that start during a run: built with chained calls.

    ``durable.on_callback("approval").after(minutes=30).succeed({"approved": True})``
    """

    name: str | None
    _steps: list[_Step] = field(default_factory=list)
    _pending_delay: float = 0.0
    _final: bool = False

    def after(self, duration: Duration = 0, **units: float) -> CallbackResponder:
        """Wait this long (virtual time) before the next answer: seconds, a timedelta, or
        keyword units as for ``timedelta`` (``after(minutes=5)``)."""
        self._pending_delay += to_seconds(duration) + _dt.timedelta(**units).total_seconds()
        return self

    def heartbeat(self, *, every: Duration = 0, times: int = 1) -> CallbackResponder:
        """Send ``times`` heartbeats, one every ``every`` (the first ``every`` after any pending
        delay); a following answer's delay counts from the last heartbeat."""
        for _ in range(times):
            delay = self._take_delay() + to_seconds(every)
            self._add(_Step(delay, CallbackHandle.heartbeat, "heartbeat"))
        return self

    def succeed(self, value: Any = NO_VALUE) -> CallbackResponder:
        self._add(_Step(self._take_delay(), lambda cb: cb.succeed(value), f"succeed({value!r})"))
        self._final = True
        return self

    def fail(
        self, error_type: str = "CallbackError", message: str = "", data: str | None = None
    ) -> CallbackResponder:
        failure = Failure(error_type, message, data)
        self._add(_Step(self._take_delay(), lambda cb: cb.answer(failure), f"fail({error_type})"))
        self._final = True
        return self

    def respond(self, compute: Callable[[CallbackHandle], Any]) -> CallbackResponder:
        """Answer with ``compute(callback)``: a value succeeds, a :class:`Failure` fails."""
        self._add(
            _Step(self._take_delay(), lambda cb: cb.answer(compute(cb)), "respond(<function>)")
        )
        self._final = True
        return self

    def _take_delay(self) -> float:
        delay, self._pending_delay = self._pending_delay, 0.0
        return delay

    def _add(self, step: _Step) -> None:
        if self._final:
            raise ValueError(
                f"responder for {self.name or 'any callback'} already ends with an answer; "
                f"declare another responder instead"
            )
        self._steps.append(step)

    def check_complete(self) -> None:
        """Refuse a responder that never answers: it would leave its callback waiting, and the
        run would say nothing answers it."""
        if not self._steps or self._pending_delay:
            raise ValueError(
                f"The responder for {self.name or 'any callback'} {self!r} ends without an answer"
                f"{' after its last delay' if self._steps else ''}: finish it with .succeed(...), "
                f".fail(...), .respond(...) or .heartbeat(...)"
            )

    def schedule(self, start_ms: int) -> list[tuple[int, _Step]]:
        """The steps as absolute virtual times, counted from ``start_ms``."""
        planned = []
        at = float(start_ms)
        for step in self._steps:
            at += step.delay_seconds * 1000
            planned.append((int(at), step))
        return planned

    def __repr__(self) -> str:
        steps = ", ".join(f"+{s.delay_seconds:g}s {s.describe}" for s in self._steps)
        return f"CallbackResponder({self.name or '*'}: {steps})"


class ResponderRegistry:
    """Declared responders, and which callback each answers: named ones win over catch-alls;
    several for one name answer successive callbacks in order, the last one then all further
    ones. Shared by the local environment and cloud mode."""

    def __init__(self) -> None:
        self._responders: list[CallbackResponder] = []
        self._used: set[int] = set()

    def declare(self, name: str | None) -> CallbackResponder:
        responder = CallbackResponder(name)
        self._responders.append(responder)
        return responder

    def __bool__(self) -> bool:
        return bool(self._responders)

    def for_callback(self, names: set[str]) -> CallbackResponder | None:
        named = [r for r in self._responders if r.name is not None and r.name in names]
        candidates = named or [r for r in self._responders if r.name is None]
        if not candidates:
            return None
        chosen = next((r for r in candidates if id(r) not in self._used), candidates[-1])
        chosen.check_complete()
        self._used.add(id(chosen))
        return chosen
