"""The checkpoint updates a run sent, one by one, as the service received them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_durable.runner.payloads import ErrorInfo, Wire, decode_payload


@dataclass(frozen=True)
class EmittedUpdate:
    """One ``OperationUpdate`` the SDK sent, with where it came from."""

    #: Position among all updates of the execution, in the order the service received them.
    sequence: int
    #: The checkpoint call that carried it (``CheckpointCall.sequence``) and its place in it.
    call: int
    position: int
    #: Index of the invocation that sent it in ``ExecutionResult.invocations``.
    invocation: int | None
    #: The update exactly as sent.
    raw: Wire = field(repr=False)

    @property
    def id(self) -> str:
        return str(self.raw.get("Id"))

    @property
    def type(self) -> str:
        return str(self.raw.get("Type"))

    @property
    def action(self) -> str:
        return str(self.raw.get("Action"))

    @property
    def name(self) -> str | None:
        return self.raw.get("Name")

    @property
    def parent_id(self) -> str | None:
        return self.raw.get("ParentId")

    @property
    def sub_type(self) -> str | None:
        return self.raw.get("SubType")

    @property
    def payload(self) -> str | None:
        return self.raw.get("Payload")

    @property
    def value(self) -> Any:
        """The payload decoded with the SDK's default serdes."""
        return decode_payload(self.payload)

    @property
    def error(self) -> ErrorInfo | None:
        return ErrorInfo.from_wire(self.raw.get("Error"))

    def __str__(self) -> str:
        label = self.name if self.name is not None else self.id[:12]
        return f"{self.type} {self.action} {label}"
