"""The two places a determinism replay watches the SDK, while (and only while) it replays.

A replay runs the current handler, unmodified, against recorded operations. Two things the SDK
does not expose are needed, and each is taken at the single point the SDK routes it through:

- **which operation the code reaches, and as what**. Every durable operation the code calls is
  checked against its checkpoint by ``OperationIdentifier.validate_checkpoint`` (Type, SubType,
  Name, ParentId: the SDK's replay identity check, docs/service-semantics.md#operations). The replay
  observes the identifier there, before the SDK's own check runs unchanged, so it learns the code's
  identity at each Id even where the SDK is about to raise ``NonDeterministicExecutionError``.
- **that no step body runs**. Step bodies (``step``, a ``wait_for_condition`` check, a
  ``wait_for_callback`` submitter: every STEP operation) run through
  ``ExecutionState.wrap_user_function``. For the replayed execution only, the wrapped function
  raises :class:`StepBodyBlocked` instead of calling the body. It is a ``SuspendExecution``, the
  SDK's own way of ending an invocation early: the SDK handles it everywhere (map and parallel
  branches included) and the invocation ends PENDING. Child context bodies are orchestration
  code and run as usual.

Both wrappers call through to the SDK's originals, are installed for the duration of one replay
run, and are checked for before use (:func:`seams_supported`): with an SDK that lacks either
point, replays refuse to run rather than run step bodies. One replay runs at a time in a
process (they are short; a lock serialises them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python import identifier as sdk_identifier
from aws_durable_execution_sdk_python import state as sdk_state
from aws_durable_execution_sdk_python.exceptions import SuspendExecution

from pytest_durable.errors import ReplayUnsupportedError


class StepBodyBlocked(SuspendExecution):
    """A step body was about to run during a determinism replay; the invocation suspends."""


@dataclass(frozen=True)
class Identity:
    """What the code calls an operation: the fields the SDK's replay identity check compares."""

    id: str
    type: str
    sub_type: str | None
    name: str | None
    parent_id: str | None

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """Type, SubType and Name: what must agree for two operations to be the same one."""
        return (self.type, self.sub_type or None, self.name or None)


@dataclass
class Observation:
    """What one replay run saw: identities in the order the code reached them, blocked steps."""

    arn: str
    visits: dict[str, Identity] = field(default_factory=dict)
    blocked: list[Identity] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def visit(self, identity: Identity) -> None:
        with self.lock:
            self.visits.setdefault(identity.id, identity)


def seams_supported() -> bool:
    """Whether the installed SDK has both points the replay watches."""
    execution_state = getattr(sdk_state, "ExecutionState", None)
    operation_identifier = getattr(sdk_identifier, "OperationIdentifier", None)
    return (
        callable(getattr(execution_state, "wrap_user_function", None))
        and callable(getattr(operation_identifier, "validate_checkpoint", None))
        and {"operation_id", "sub_type", "parent_id", "name", "operation_type"}
        <= set(getattr(operation_identifier, "__dataclass_fields__", {}))
    )


def identity_of(identifier: Any) -> Identity:
    operation_type = identifier.operation_type
    sub_type = identifier.sub_type
    return Identity(
        id=str(identifier.operation_id),
        type=str(getattr(operation_type, "value", operation_type)),
        sub_type=None if sub_type is None else str(getattr(sub_type, "value", sub_type)),
        name=identifier.name or None,
        parent_id=identifier.parent_id or None,
    )


_replay_lock = threading.Lock()
_active: Observation | None = None


@contextmanager
def observe(arn: str) -> Iterator[Observation]:
    """Watch the SDK for the execution ``arn`` for the duration (see the module doc)."""
    global _active  # noqa: PLW0603 - the one replay this process runs
    if not seams_supported():
        raise ReplayUnsupportedError(
            "The installed aws-durable-execution-sdk-python has no "
            "ExecutionState.wrap_user_function / OperationIdentifier.validate_checkpoint; a "
            "determinism replay would have to run step bodies, so it does not run."
        )
    execution_state = sdk_state.ExecutionState
    operation_identifier = sdk_identifier.OperationIdentifier
    original_wrap: Callable[..., Any] = execution_state.wrap_user_function
    original_validate: Callable[..., Any] = operation_identifier.validate_checkpoint
    observation = Observation(arn)

    def validate_checkpoint(self: Any, checkpoint: Any) -> None:
        active = _active
        if active is not None:
            active.visit(identity_of(self))
        return original_validate(self, checkpoint)  # type: ignore[no-any-return]

    def wrap_user_function(
        self: Any,
        user_function: Callable[..., Any],
        operation_identifier: Any,
        *args: Any,
        **kw: Any,
    ) -> Callable[..., Any]:
        active = _active
        identity = identity_of(operation_identifier)
        if active is None or self.durable_execution_arn != active.arn or identity.type != "STEP":
            return original_wrap(self, user_function, operation_identifier, *args, **kw)  # type: ignore[no-any-return]

        def blocked(*_args: Any, **_kwargs: Any) -> Any:
            with active.lock:
                active.blocked.append(identity)
            raise StepBodyBlocked(
                f"determinism replay: the body of STEP {identity.name or identity.id!r} is not run"
            )

        return blocked

    with _replay_lock:
        execution_state.wrap_user_function = wrap_user_function  # type: ignore[method-assign]
        operation_identifier.validate_checkpoint = validate_checkpoint  # type: ignore[method-assign]
        _active = observation
        try:
            yield observation
        finally:
            _active = None
            execution_state.wrap_user_function = original_wrap  # type: ignore[method-assign]
            operation_identifier.validate_checkpoint = original_validate  # type: ignore[method-assign]
