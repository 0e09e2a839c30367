"""Mocked steps: a step's outcome declared by the test, everything else as in a real run.

``durable.mock_step("charge", result={"id": "ch_1"})`` keeps the body of every step named
``charge`` from running and gives the SDK the declared outcome instead, at the one point every
STEP body goes through: ``ExecutionState.wrap_user_function`` (the SDK wraps the body there just
before calling it; the determinism replay uses the same point, see
``pytest_durable/cassette/replay/seams.py``). The SDK then does with the outcome exactly what it
does with a real one, so the step is checkpointed like a real step:

- a result is serialized with the step's serdes and checkpointed (START, then SUCCEED);
- an error is passed to the step's retry strategy, which decides RETRY (with its delay, on the
  virtual clock) or FAIL, attempt after attempt, as for a body that raised it;
- ``attempts=[...]`` gives attempt *n* the *n*-th outcome (the last one repeats): a flaky
  dependency that fails twice and then answers.

Only the body is replaced: the START update, the retry decisions, the history events, the
at-most-once semantics are the SDK's own. A mock that no step ever reached is a failed test,
naming the steps that did run (a misspelt name or a step that moved must not pass silently).

The patch is process-wide but acts only for executions of the environments that declared
mocks (looked up by execution ARN in their services), is installed on the first ``mock_step``
and removed when the last such environment closes.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_durable_execution_sdk_python import state as sdk_state

from pytest_durable.errors import UnusedStepMockError

if TYPE_CHECKING:
    from pytest_durable.service import DurableService

#: The default of ``result=``: no result declared (``None`` is a result).
NO_RESULT: Any = object()


@dataclass(frozen=True)
class StepCall:
    """One attempt of a mocked step: which operation, which attempt, what it was given."""

    operation_id: str
    attempt: int
    outcome: Any


@dataclass
class StepMock:
    """The declared outcomes of the steps named ``name``, and the attempts that used them."""

    name: str
    outcomes: list[Any]
    calls: list[StepCall] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return bool(self.calls)

    def outcome_for(self, attempt: int) -> Any:
        """The outcome of attempt ``attempt`` (1-based): the last declared one repeats."""
        return self.outcomes[min(attempt, len(self.outcomes)) - 1]

    def __repr__(self) -> str:
        return f"StepMock({self.name!r}, {len(self.calls)} call(s))"


def _is_error(outcome: Any) -> bool:
    return isinstance(outcome, BaseException) or (
        isinstance(outcome, type) and issubclass(outcome, BaseException)
    )


class StepMocks:
    """One environment's mocked steps (see the module doc)."""

    def __init__(self, service: DurableService) -> None:
        self.service = service
        self._mocks: dict[str, StepMock] = {}
        self._lock = threading.Lock()
        self._active = False
        self._verified = False

    def declare(
        self,
        name: str,
        *,
        result: Any = NO_RESULT,
        error: BaseException | type[BaseException] | None = None,
        attempts: Sequence[Any] | None = None,
    ) -> StepMock:
        given = sum([result is not NO_RESULT, error is not None, attempts is not None])
        if given != 1:
            raise TypeError(
                f"mock_step({name!r}) takes exactly one of result=, error= or attempts= "
                f"(got {given})"
            )
        if not isinstance(name, str) or not name:
            raise ValueError(f"mock_step needs the step's name, got {name!r}")
        if error is not None and not _is_error(error):
            raise TypeError(
                f"mock_step({name!r}, error=...) takes an exception or exception class, "
                f"not {error!r}; use result= for a value"
            )
        if attempts is not None:
            outcomes = list(attempts)
            if not outcomes or isinstance(attempts, str | bytes):
                raise ValueError(
                    f"mock_step({name!r}, attempts=...) takes a non-empty list of outcomes, "
                    f"one per attempt (exceptions are raised, other values returned)"
                )
        else:
            outcomes = [error if error is not None else result]
        mock = StepMock(name, outcomes)
        with self._lock:
            self._mocks[name] = mock
        if not self._active:
            _activate(self)
            self._active = True
        return mock

    def for_step(self, arn: str, name: str | None) -> StepMock | None:
        if name is None:
            return None
        with self._lock:
            mock = self._mocks.get(name)
        if mock is None or not self._owns(arn):
            return None
        return mock

    def _owns(self, arn: str) -> bool:
        return any(execution.arn == arn for execution in self.service.executions)

    def steps_that_ran(self) -> list[str]:
        """Names of the STEP operations of this environment's executions, first seen first."""
        names: dict[str, None] = {}
        for execution in self.service.executions:
            for operation in execution.operations.values():
                if operation.type.value == "STEP" and operation.name:
                    names.setdefault(operation.name, None)
        return list(names)

    def verify(self) -> None:
        """Raise :class:`UnusedStepMockError` if a declared mock never matched (once)."""
        if self._verified:
            return
        self._verified = True
        unused = [mock.name for mock in self._mocks.values() if not mock.matched]
        if not unused:
            return
        ran = self.steps_that_ran()
        raise UnusedStepMockError(
            f"mock_step({', '.join(map(repr, unused))}) never matched: no step of that name "
            f"reached its body. Steps that ran: {', '.join(map(repr, ran)) or 'none'}. Check "
            f"the name passed to context.step(..., name=...), or drop the mock."
        )

    def close(self) -> None:
        if self._active:
            _deactivate(self)
            self._active = False


# ----------------------------------------------------------------- the patch

_patch_lock = threading.Lock()
_registries: list[StepMocks] = []
_original: Callable[..., Any] | None = None


def _activate(mocks: StepMocks) -> None:
    global _original  # noqa: PLW0603 - one patch for the process
    with _patch_lock:
        _registries.append(mocks)
        if _original is None:
            execution_state = sdk_state.ExecutionState
            if not callable(getattr(execution_state, "wrap_user_function", None)):
                _registries.remove(mocks)
                raise RuntimeError(
                    "The installed aws-durable-execution-sdk-python has no "
                    "ExecutionState.wrap_user_function: steps cannot be mocked with it."
                )
            _original = execution_state.wrap_user_function
            execution_state.wrap_user_function = _wrap_user_function  # type: ignore[method-assign]


def _deactivate(mocks: StepMocks) -> None:
    global _original  # noqa: PLW0603
    with _patch_lock:
        if mocks in _registries:
            _registries.remove(mocks)
        if not _registries and _original is not None:
            sdk_state.ExecutionState.wrap_user_function = _original  # type: ignore[method-assign]
            _original = None


def _mock_for(arn: str, name: str | None) -> StepMock | None:
    with _patch_lock:
        registries = list(_registries)
    for registry in registries:
        mock = registry.for_step(arn, name)
        if mock is not None:
            return mock
    return None


def _fresh(error: BaseException) -> BaseException:
    """A copy of the declared exception for each attempt, so attempts do not share (and grow)
    one traceback; the declared instance itself if it cannot be copied."""
    try:
        copied = copy.copy(error)
    except Exception:
        return error
    copied.__traceback__ = None
    return copied


def _wrap_user_function(
    self: Any,
    user_function: Callable[..., Any],
    operation_identifier: Any,
    *args: Any,
    **kwargs: Any,
) -> Callable[..., Any]:
    original = _original
    assert original is not None, "the step-mock patch is installed only with its original"
    operation_type = getattr(operation_identifier.operation_type, "value", None)
    mock = None
    if operation_type == "STEP":
        mock = _mock_for(str(self.durable_execution_arn), operation_identifier.name)
    if mock is None:
        wrapped: Callable[..., Any] = original(
            self, user_function, operation_identifier, *args, **kwargs
        )
        return wrapped
    attempt = kwargs.get("attempt", args[1] if len(args) > 1 else None)
    attempt = int(attempt) if attempt else len(mock.calls) + 1
    outcome = mock.outcome_for(attempt)
    call = StepCall(str(operation_identifier.operation_id), attempt, outcome)

    def mocked_body(*_args: Any, **_kwargs: Any) -> Any:
        mock.calls.append(call)
        if isinstance(outcome, type):
            raise outcome()
        if isinstance(outcome, BaseException):
            raise _fresh(outcome)
        return outcome

    # Through the SDK's own wrapper, so its instrumentation sees the call as for a real body.
    result: Callable[..., Any] = original(self, mocked_body, operation_identifier, *args, **kwargs)
    return result
