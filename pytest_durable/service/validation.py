"""Validation of a checkpoint batch, before anything in it is applied.

The rules are the service's legal transitions (docs/service-semantics.md#operations, read from the
SDK's use of each action; the official testing library's validators encode the same), plus the value
ranges of the botocore ``lambda`` model that botocore does not enforce client-side. A batch is
validated as a whole against a simulated view of the state, so that a rejected batch changes
nothing. Every rejection names the update (its index in the batch), its Id and the rule it broke.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pytest_durable.errors import BatchRejected
from pytest_durable.service.model import (
    Execution,
    OperationAction,
    OperationStatus,
    OperationType,
)

_ID_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_SUB_TYPE_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,32}")
_NAME_PATTERN = re.compile(r"[\x20-\x7E]{1,256}")
MAX_PAYLOAD_CHARS = 6_291_456
MAX_DURATION_SECONDS = 31_622_400
MAX_CALLBACK_TIMEOUT_SECONDS = 99_999_999

_ALLOWED_ACTIONS: dict[OperationType, frozenset[OperationAction]] = {
    OperationType.STEP: frozenset(
        {
            OperationAction.START,
            OperationAction.SUCCEED,
            OperationAction.FAIL,
            OperationAction.RETRY,
        }
    ),
    OperationType.CONTEXT: frozenset(
        {OperationAction.START, OperationAction.SUCCEED, OperationAction.FAIL}
    ),
    OperationType.WAIT: frozenset({OperationAction.START, OperationAction.CANCEL}),
    OperationType.CALLBACK: frozenset({OperationAction.START}),
    OperationType.CHAINED_INVOKE: frozenset({OperationAction.START}),
    OperationType.EXECUTION: frozenset({OperationAction.SUCCEED, OperationAction.FAIL}),
}

# Statuses an existing operation may be in for each action (None in a set means "new").
_STEP_FROM: dict[OperationAction, frozenset[OperationStatus | None]] = {
    OperationAction.START: frozenset({None, OperationStatus.READY}),
    OperationAction.SUCCEED: frozenset({None, OperationStatus.STARTED, OperationStatus.READY}),
    OperationAction.FAIL: frozenset({None, OperationStatus.STARTED, OperationStatus.READY}),
    OperationAction.RETRY: frozenset({None, OperationStatus.STARTED, OperationStatus.READY}),
}
_CONTEXT_CLOSE_FROM = frozenset({None, OperationStatus.STARTED})


@dataclass(frozen=True)
class ValidatedUpdate:
    """An update that passed validation, with its enums parsed."""

    index: int
    raw: dict[str, Any]
    id: str
    type: OperationType
    action: OperationAction


def _reject(index: int, update: dict[str, Any], rule: str) -> BatchRejected:
    op_id = update.get("Id", "<missing>")
    what = f"{update.get('Type', '?')} {update.get('Action', '?')}"
    return BatchRejected(f"Updates[{index}] ({what}, Id {op_id!r}): {rule}")


def validate_batch(
    execution: Execution,
    updates: list[dict[str, Any]],
    *,
    due: dict[str, OperationStatus] | None = None,
) -> list[ValidatedUpdate]:
    """Check every update of a batch against the execution's state; raise on the first violation.

    Pure: the execution is only read. ``due`` gives the statuses of operations whose timers are
    due but not yet fired (they fire right after validation, before the batch is applied).
    Statuses the batch itself produces (a START followed by its SUCCEED, a CONTEXT started
    earlier in the batch) are simulated in a local overlay.
    """
    overlay: dict[str, tuple[OperationType, OperationStatus]] = {
        op_id: (execution.operations[op_id].type, status) for op_id, status in (due or {}).items()
    }
    # Name, SubType and ParentId each operation was created with (stored, or earlier in batch).
    identities: dict[str, tuple[str | None, str | None, str | None]] = {}
    # Types of the operations STARTed earlier in this batch: the only in-batch parents allowed.
    started_in_batch: dict[str, OperationType] = {}
    seen_in_batch: dict[str, list[OperationAction]] = {}
    validated: list[ValidatedUpdate] = []
    last = len(updates) - 1

    for index, update in enumerate(updates):
        if not isinstance(update, dict):
            raise _reject(index, {}, "an update must be an OperationUpdate structure")
        parsed = _check_shape(index, update)
        op_type, action, op_id = parsed.type, parsed.action, parsed.id

        if op_type is OperationType.EXECUTION:
            if index != last:
                raise _reject(index, update, "an EXECUTION update must be the last of its batch")
            validated.append(parsed)
            continue

        current = overlay.get(op_id)
        if current is None and op_id in execution.operations:
            stored = execution.operations[op_id]
            current = (stored.type, stored.status)
        if current is not None and current[0] is not op_type:
            raise _reject(
                index,
                update,
                f"operation {op_id!r} exists with Type {current[0].value}; an update cannot "
                f"change an operation's Type",
            )

        earlier = seen_in_batch.setdefault(op_id, [])
        if earlier and not (
            len(earlier) == 1
            and earlier[0] is OperationAction.START
            and action is not OperationAction.START
            and op_type in (OperationType.STEP, OperationType.CONTEXT)
        ):
            raise _reject(
                index,
                update,
                "the same Id may appear twice in one batch only as a STEP or CONTEXT START "
                "followed by its completion",
            )
        earlier.append(action)

        _check_identity(index, update, execution, identities)
        _check_parent(index, update, execution, started_in_batch)
        status = current[1] if current is not None else None
        new_status = _check_transition(index, update, op_type, action, status)
        overlay[op_id] = (op_type, new_status)
        if action is OperationAction.START:
            started_in_batch[op_id] = op_type
        validated.append(parsed)
    return validated


def _check_shape(index: int, update: dict[str, Any]) -> ValidatedUpdate:
    op_id = update.get("Id")
    if not isinstance(op_id, str) or not _ID_PATTERN.fullmatch(op_id):
        raise _reject(index, update, "Id must be 1-64 characters of [a-zA-Z0-9-_]")
    try:
        op_type = OperationType(str(update.get("Type")))
    except ValueError:
        raise _reject(
            index, update, f"Type must be one of {', '.join(t.value for t in OperationType)}"
        ) from None
    try:
        action = OperationAction(str(update.get("Action")))
    except ValueError:
        raise _reject(
            index, update, f"Action must be one of {', '.join(a.value for a in OperationAction)}"
        ) from None
    if action not in _ALLOWED_ACTIONS[op_type]:
        allowed = ", ".join(sorted(a.value for a in _ALLOWED_ACTIONS[op_type]))
        raise _reject(index, update, f"{op_type.value} accepts only the actions {allowed}")

    parent_id = update.get("ParentId")
    if parent_id is not None and (
        not isinstance(parent_id, str) or not _ID_PATTERN.fullmatch(parent_id)
    ):
        raise _reject(index, update, "ParentId must be 1-64 characters of [a-zA-Z0-9-_]")
    name = update.get("Name")
    if name is not None and (not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name)):
        raise _reject(index, update, "Name must be 1-256 printable ASCII characters")
    sub_type = update.get("SubType")
    if sub_type is not None and (
        not isinstance(sub_type, str) or not _SUB_TYPE_PATTERN.fullmatch(sub_type)
    ):
        raise _reject(index, update, "SubType must be 1-32 characters of [a-zA-Z0-9-_]")
    payload = update.get("Payload")
    if payload is not None and len(payload) > MAX_PAYLOAD_CHARS:
        raise _reject(
            index, update, f"Payload is {len(payload)} characters; the limit is {MAX_PAYLOAD_CHARS}"
        )
    if action is OperationAction.SUCCEED and update.get("Error") is not None:
        raise _reject(index, update, "a SUCCEED update cannot carry an Error")
    if action is OperationAction.FAIL and payload is not None:
        raise _reject(index, update, "a FAIL update cannot carry a Payload")
    return ValidatedUpdate(index, update, op_id, op_type, action)


_IDENTITY_FIELDS = ("Name", "SubType", "ParentId")


def _check_identity(
    index: int,
    update: dict[str, Any],
    execution: Execution,
    identities: dict[str, tuple[str | None, str | None, str | None]],
) -> None:
    """An operation keeps the Name, SubType and ParentId it was created with: a later update that
    names others is refused (the SDK replays by comparing exactly these,
    docs/service-semantics.md#operations)."""
    op_id = update["Id"]
    known = identities.get(op_id)
    if known is None and op_id in execution.operations:
        stored = execution.operations[op_id]
        known = (stored.name, stored.sub_type, stored.parent_id)
    given = tuple(update.get(field) for field in _IDENTITY_FIELDS)
    if known is None:
        identities[op_id] = given  # type: ignore[assignment]
        return
    for field, was, now in zip(_IDENTITY_FIELDS, known, given, strict=True):
        if now is not None and now != was:
            raise _reject(
                index,
                update,
                f"operation {op_id!r} was created with {field} {was!r}; an update cannot change "
                f"it to {now!r}",
            )


def _check_parent(
    index: int,
    update: dict[str, Any],
    execution: Execution,
    started_in_batch: dict[str, OperationType],
) -> None:
    # The parent must be an existing operation or one STARTed earlier in this batch
    # (docs/service-semantics.md#operations; the official testing library's
    # _is_valid_parent_for_update). Looking the parent up in the whole batch overlay also accepted a
    # CONTEXT that the batch only completed (a SUCCEED or FAIL with no START and no stored
    # operation), which the rule refuses.
    parent_id = update.get("ParentId")
    if parent_id is None:
        return
    parent = started_in_batch.get(parent_id)
    if parent is None and parent_id in execution.operations:
        parent = execution.operations[parent_id].type
    if parent is None:
        raise _reject(
            index,
            update,
            f"ParentId {parent_id!r} is not an existing CONTEXT nor one started earlier in "
            f"this batch",
        )
    if parent is not OperationType.CONTEXT:
        raise _reject(index, update, f"ParentId {parent_id!r} is a {parent.value}, not a CONTEXT")


def _check_transition(
    index: int,
    update: dict[str, Any],
    op_type: OperationType,
    action: OperationAction,
    status: OperationStatus | None,
) -> OperationStatus:
    """Check the action is legal from the current status; return the status it leads to."""
    shown = status.value if status is not None else "new"
    match op_type:
        case OperationType.STEP:
            if status not in _STEP_FROM[action]:
                allowed = sorted(s.value if s else "new" for s in _STEP_FROM[action])
                raise _reject(
                    index,
                    update,
                    f"a STEP {action.value} is legal only from {' or '.join(allowed)}; "
                    f"the step is {shown}",
                )
            if action is OperationAction.RETRY:
                _check_retry(index, update)
                return OperationStatus.PENDING
            return _STEP_OUTCOME[action]
        case OperationType.CONTEXT:
            if action is OperationAction.START:
                if status is not None:
                    raise _reject(
                        index, update, f"a CONTEXT can be started only once; it is {shown}"
                    )
                return OperationStatus.STARTED
            if status not in _CONTEXT_CLOSE_FROM:
                raise _reject(
                    index, update, f"a CONTEXT can be closed only while STARTED; it is {shown}"
                )
            return _STEP_OUTCOME[action]
        case OperationType.WAIT:
            if action is OperationAction.CANCEL:
                if status is not OperationStatus.STARTED:
                    raise _reject(
                        index, update, f"only a STARTED WAIT can be cancelled; it is {shown}"
                    )
                return OperationStatus.CANCELLED
            if status is not None:
                raise _reject(index, update, f"a WAIT can be started only once; it is {shown}")
            _check_wait_options(index, update)
            return OperationStatus.STARTED
        case OperationType.CALLBACK:
            if status is not None:
                raise _reject(index, update, f"a CALLBACK can be started only once; it is {shown}")
            _check_callback_options(index, update)
            return OperationStatus.STARTED
        case OperationType.CHAINED_INVOKE:
            if status is not None:
                raise _reject(
                    index, update, f"a CHAINED_INVOKE can be started only once; it is {shown}"
                )
            options = update.get("ChainedInvokeOptions")
            if not isinstance(options, dict) or not options.get("FunctionName"):
                raise _reject(
                    index, update, "a CHAINED_INVOKE START needs ChainedInvokeOptions.FunctionName"
                )
            return OperationStatus.STARTED
    raise _reject(index, update, "unsupported operation type")  # pragma: no cover


_STEP_OUTCOME = {
    OperationAction.START: OperationStatus.STARTED,
    OperationAction.SUCCEED: OperationStatus.SUCCEEDED,
    OperationAction.FAIL: OperationStatus.FAILED,
}


def _check_retry(index: int, update: dict[str, Any]) -> None:
    if update.get("Error") is not None and update.get("Payload") is not None:
        raise _reject(index, update, "a STEP RETRY cannot carry both an Error and a Payload")
    delay = (update.get("StepOptions") or {}).get("NextAttemptDelaySeconds")
    if not isinstance(delay, int) or not 1 <= delay <= MAX_DURATION_SECONDS:
        raise _reject(
            index,
            update,
            f"a STEP RETRY needs StepOptions.NextAttemptDelaySeconds between 1 and "
            f"{MAX_DURATION_SECONDS}; got {delay!r}",
        )


def _check_wait_options(index: int, update: dict[str, Any]) -> None:
    seconds = (update.get("WaitOptions") or {}).get("WaitSeconds")
    if not isinstance(seconds, int) or not 1 <= seconds <= MAX_DURATION_SECONDS:
        raise _reject(
            index,
            update,
            f"a WAIT START needs WaitOptions.WaitSeconds between 1 and {MAX_DURATION_SECONDS}; "
            f"got {seconds!r}",
        )


def _check_callback_options(index: int, update: dict[str, Any]) -> None:
    options = update.get("CallbackOptions") or {}
    for key in ("TimeoutSeconds", "HeartbeatTimeoutSeconds"):
        value = options.get(key, 0)
        if not isinstance(value, int) or not 0 <= value <= MAX_CALLBACK_TIMEOUT_SECONDS:
            raise _reject(
                index,
                update,
                f"CallbackOptions.{key} must be between 0 and {MAX_CALLBACK_TIMEOUT_SECONDS}; "
                f"got {value!r}",
            )
