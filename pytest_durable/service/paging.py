"""Paging markers and the IncludeExecutionData filter, shared by the listing APIs."""

from __future__ import annotations

import base64

from pytest_durable.errors import InvalidParameterValueException
from pytest_durable.service.model import Wire

# Page size of GetDurableExecutionState, GetDurableExecutionHistory and
# ListDurableExecutionsByFunction when MaxItems is absent or 0: the model documents "The default
# is 100 ... A value of 0 uses the default" (the SDK always sends MaxItems=1000).
DEFAULT_PAGE_SIZE = 100


def marker(index: int) -> str:
    return base64.b64encode(f"page:{index}".encode()).decode("ascii")


def parse_marker(marker: str | None, length: int) -> int:
    if not marker:
        return 0
    try:
        kind, _, index_text = base64.b64decode(marker, validate=True).decode("ascii").partition(":")
        index = int(index_text)
    except ValueError:
        raise InvalidParameterValueException(
            f"Invalid Marker {marker!r}: pass the NextMarker of the previous page unchanged"
        ) from None
    if kind != "page" or not 0 <= index <= length:
        raise InvalidParameterValueException(
            f"Invalid Marker {marker!r}: pass the NextMarker of the previous page unchanged"
        )
    return index


_PAYLOAD_WRAPPERS = ("Result", "Error", "Input")


def without_data(event: Wire) -> Wire:
    """An event with payloads removed (IncludeExecutionData false), keeping everything else."""
    stripped = dict(event)
    for key, details in event.items():
        if key.endswith("Details") and isinstance(details, dict):
            copy = dict(details)
            for wrapper in _PAYLOAD_WRAPPERS:
                if isinstance(copy.get(wrapper), dict) and "Payload" in copy[wrapper]:
                    copy[wrapper] = {k: v for k, v in copy[wrapper].items() if k != "Payload"}
            stripped[key] = copy
    return stripped
