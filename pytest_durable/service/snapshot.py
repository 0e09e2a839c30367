"""The service's state as JSON text, and back: what a persistent store saves and restores.

Pure: no I/O. An execution (its operations, invocations, token, timers, history, idempotency
caches, pause) becomes one JSON document; :func:`execution_from_json` rebuilds an equal
:class:`~pytest_durable.service.model.Execution`. The encoding is generic over the model's
dataclasses, so a field added to the model is saved without a change here. Values JSON cannot
hold are tagged: ``{"$class": name, ...fields}``, ``{"$datetime": iso}`` (history timestamps,
cached answers), ``{"$bytes": base64}``, and, in a dataclass field, ``{"$enum": name, "value":
v}``, ``{"$tuple": [...]}`` and ``{"$items": [[k, v], ...]}`` for a mapping whose keys are not
plain strings (the idempotency caches are keyed by tuples). The wire-shaped payloads inside
(history events, cached answers), the bulk of an execution, are written by the ``json``
module's C encoder, with only those tags added through its hooks: a long execution is saved in
milliseconds. A value of any other type is a bug of the fake, reported as such.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any

from pytest_durable.service.model import (
    CachedCheckpoint,
    Execution,
    ExecutionStatus,
    Invocation,
    Operation,
    OperationStatus,
    OperationType,
    PauseState,
)

#: Bumped when the encoding changes incompatibly; a store refuses data of another version.
SNAPSHOT_VERSION = 1

_CLASSES: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (Execution, Operation, Invocation, PauseState, CachedCheckpoint)
}
_ENUMS: dict[str, type[Enum]] = {
    cls.__name__: cls for cls in (ExecutionStatus, OperationStatus, OperationType)
}


def _default(value: Any) -> Any:
    """What ``json`` calls for a value it cannot write itself."""
    if is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _CLASSES:
            raise TypeError(f"pytest-durable bug: cannot save a {name} in a store")
        encoded: dict[str, Any] = {"$class": name}
        encoded.update({f.name: _field(getattr(value, f.name)) for f in fields(value)})
        return encoded
    if isinstance(value, _dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"pytest-durable bug: cannot save a {type(value).__name__} in a store")


def _field(value: Any) -> Any:
    """A dataclass field's value, with what ``json`` would silently change tagged: enums (they
    are ``str`` subclasses), tuples (they would become lists), mappings with non-string keys."""
    if isinstance(value, Enum):
        name = type(value).__name__
        if name not in _ENUMS:
            raise TypeError(f"pytest-durable bug: cannot save the enum {name} in a store")
        return {"$enum": name, "value": value.value}
    if isinstance(value, tuple):
        return {"$tuple": [_field(item) for item in value]}
    if isinstance(value, dict) and not all(
        isinstance(key, str) and not key.startswith("$") for key in value
    ):
        return {"$items": [[_field(key), _field(item)] for key, item in value.items()]}
    return value


def _object(value: dict[str, Any]) -> Any:
    """``json``'s hook for every object it reads, innermost first: the tags back to values."""
    if "$class" in value:
        cls = _CLASSES[value.pop("$class")]
        return cls(**value)
    if "$datetime" in value:
        return _dt.datetime.fromisoformat(value["$datetime"])
    if "$enum" in value:
        return _ENUMS[value["$enum"]](value["value"])
    if "$tuple" in value:
        return tuple(value["$tuple"])
    if "$items" in value:
        return {_hashable(key): item for key, item in value["$items"]}
    if "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    return value


def _hashable(key: Any) -> Any:
    return tuple(_hashable(item) for item in key) if isinstance(key, list | tuple) else key


def execution_to_json(execution: Execution) -> str:
    """The execution as compact JSON text."""
    return json.dumps(execution, default=_default, separators=(",", ":"), ensure_ascii=False)


def execution_from_json(text: str) -> Execution:
    """The execution :func:`execution_to_json` wrote."""
    execution = json.loads(text, object_hook=_object)
    if not isinstance(execution, Execution):
        raise ValueError("the stored data is not a durable execution")
    return execution
