"""Payloads and errors as a run recorded them, and their decoding.

Naming, across the results: a *payload* is the text the SDK or the service wrote (``payload``,
``result_payload``); what it decodes to is the *value* (``value``, ``result``, ``output``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_durable_execution_sdk_python.exceptions import SerDesError
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES, SerDesContext

Wire = dict[str, Any]


@dataclass(frozen=True)
class ErrorInfo:
    """An ``ErrorObject``: what the SDK or the service recorded for a failure."""

    type: str | None
    message: str | None
    data: str | None = None
    stack_trace: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, error: dict[str, Any] | None) -> ErrorInfo | None:
        if error is None:
            return None
        return cls(
            type=error.get("ErrorType"),
            message=error.get("ErrorMessage"),
            data=error.get("ErrorData"),
            stack_trace=tuple(error.get("StackTrace") or ()),
        )

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


def decode_payload(payload: str | None) -> Any:
    """Decode a payload written with the SDK's default serdes (plain JSON for the execution
    result; the SDK's tagged envelope ``{"t": ..., "v": ...}`` for operation results), falling
    back to plain JSON and then to the raw text for payloads written by a custom serdes."""
    if payload is None or payload == "":
        return None
    try:
        return EXTENDED_TYPES_SERDES.deserialize(payload, SerDesContext())
    except (SerDesError, ValueError, TypeError):
        pass
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def decode_json(payload: str | None) -> Any:
    """Decode the execution's result: the SDK writes it with plain ``json.dumps``, so a value
    that merely looks like a serdes envelope (``{"t": "i", "v": 21}``) stays what it is."""
    if payload is None or payload == "":
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def event_error(details: Wire) -> ErrorInfo | None:
    error = details.get("Error")
    if not isinstance(error, dict):
        return None
    return ErrorInfo.from_wire(error.get("Payload") if "Payload" in error else error)
