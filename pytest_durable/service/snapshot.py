"""The service's state as plain data, and back: what a persistent store saves and restores.

Pure: no I/O. An execution (its operations, invocations, token, timers, history, idempotency
caches, pause) becomes a JSON-compatible value; :func:`execution_from_data` rebuilds an equal
:class:`~pytest_durable.service.model.Execution`. The encoding is generic over the model's
dataclasses, so a field added to the model is saved without a change here. Values JSON cannot
hold are tagged: ``{"$datetime": iso}`` (history timestamps, cached answers),
``{"$tuple": [...]}``, ``{"$bytes": base64}``, ``{"$enum": name, "value": v}`` and
``{"$items": [[k, v], ...]}`` for a mapping whose keys are not plain strings (the idempotency
caches are keyed by tuples). A value of any other type is a bug of the fake, reported as such.
"""

from __future__ import annotations

import base64
import datetime as _dt
from collections.abc import Mapping
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


def encode(value: Any) -> Any:
    """``value`` as a JSON-compatible value (see the module doc)."""
    if isinstance(value, Enum):  # before str: the model's enums are StrEnums
        name = type(value).__name__
        if name not in _ENUMS:
            raise TypeError(f"pytest-durable bug: cannot save the enum {name} in a store")
        return {"$enum": name, "value": value.value}
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _CLASSES:
            raise TypeError(f"pytest-durable bug: cannot save a {name} in a store")
        encoded = {"$class": name}
        encoded.update({f.name: encode(getattr(value, f.name)) for f in fields(value)})
        return encoded
    if isinstance(value, _dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: encode(item) for key, item in value.items()}
        return {"$items": [[encode(key), encode(item)] for key, item in value.items()]}
    raise TypeError(f"pytest-durable bug: cannot save a {type(value).__name__} in a store")


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$class" in value:
        cls = _CLASSES[value["$class"]]
        return cls(**{k: decode(item) for k, item in value.items() if k != "$class"})
    if "$enum" in value:
        return _ENUMS[value["$enum"]](value["value"])
    if "$datetime" in value:
        return _dt.datetime.fromisoformat(value["$datetime"])
    if "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    if "$tuple" in value:
        return tuple(decode(item) for item in value["$tuple"])
    if "$items" in value:
        return {_hashable(decode(key)): decode(item) for key, item in value["$items"]}
    return {key: decode(item) for key, item in value.items()}


def _hashable(key: Any) -> Any:
    return tuple(_hashable(item) for item in key) if isinstance(key, list | tuple) else key


def execution_to_data(execution: Execution) -> Any:
    return encode(execution)


def execution_from_data(data: Any) -> Execution:
    execution = decode(data)
    if not isinstance(execution, Execution):
        raise ValueError("the stored data is not a durable execution")
    return execution
