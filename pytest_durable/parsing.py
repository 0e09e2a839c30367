"""One parser per format the package reads: Lambda's FunctionName, ``module:qualname``
references, and durations.

Each format used to be read in several places, each a little differently; here is the one
reading, and callers decide what to do with a value that does not parse. This module imports
nothing of the package, so every layer (the service included) can use it.
"""

from __future__ import annotations

import datetime as _dt
import pkgutil
import re
from dataclasses import dataclass
from typing import Any

Duration = float | int | _dt.timedelta

# The forms Lambda accepts for a FunctionName (the ``FunctionName`` docs of the botocore
# ``lambda`` model): ``name``, ``name:qualifier``, the partial ARN ``123456789012:function:name``
# and the full ARN ``arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier]``. The full
# ARN is tried first; a string that is not one is read as a name (so ``arn`` alone is a name).
_FUNCTION_NAME = re.compile(
    r"^(?:arn:(?P<partition>[^:]+):lambda:(?P<region>[^:]*):(?P<account>\d{12}):function:"
    r"|(?:\d{12}:)?(?:function:)?)"
    r"(?P<name>[^:]+)(?::(?P<qualifier>.+))?$"
)
# What Lambda allows in a function name, and the qualifiers that name a version (not an alias).
_NAME_CHARACTERS = re.compile(r"[a-zA-Z0-9_.-]+")
_VERSION_QUALIFIER = re.compile(r"\$LATEST(?:\.PUBLISHED)?|[0-9]+")
_DURABLE_EXECUTION = "/durable-execution/"


@dataclass(frozen=True)
class FunctionName:
    """A FunctionName taken apart. ``region`` and ``account`` are set only for a full ARN."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None

    @property
    def is_valid(self) -> bool:
        """The name is made of the characters Lambda allows, and the qualifier (if any) is a
        version: ``$LATEST``, ``$LATEST.PUBLISHED`` or a number."""
        return _NAME_CHARACTERS.fullmatch(self.name) is not None and (
            self.qualifier is None or _VERSION_QUALIFIER.fullmatch(self.qualifier) is not None
        )

    @property
    def version(self) -> str:
        """The version this name resolves to: its qualifier if that is a version, else
        ``$LATEST`` (an alias resolves to a version only Lambda knows)."""
        if self.qualifier is not None and _VERSION_QUALIFIER.fullmatch(self.qualifier):
            return self.qualifier
        return "$LATEST"


def parse_function_name(text: str) -> FunctionName:
    """``text`` in any FunctionName form; a durable execution ARN is read by its function part.
    Text in no known form is returned whole as the name (check :attr:`FunctionName.is_valid`)."""
    function_part = text.partition(_DURABLE_EXECUTION)[0]
    match = _FUNCTION_NAME.match(function_part)
    if match is None:
        return FunctionName(name=function_part)
    return FunctionName(
        name=match.group("name"),
        qualifier=match.group("qualifier"),
        region=match.group("region"),
        account=match.group("account"),
    )


def split_reference(reference: str, *, example: str = "app.handlers:handler") -> tuple[str, str]:
    """``(module, qualname)`` of a ``module:qualname`` reference, without importing anything;
    a reference in another form is a ``ValueError`` that shows the expected one."""
    module, separator, qualname = reference.partition(":")
    if not (separator and module.strip() and qualname.strip()):
        raise ValueError(f"expected MODULE:FUNCTION (e.g. {example}), got {reference!r}")
    return module, qualname


def resolve_reference(reference: str) -> Any:
    """The object a ``module:qualname`` reference names (``pkgutil.resolve_name`` does the
    import and the attribute walk). Raises ``ValueError`` for a reference in another form,
    ``ImportError`` or ``AttributeError`` when it names nothing."""
    split_reference(reference)
    return pkgutil.resolve_name(reference)


def to_seconds(duration: Duration) -> float:
    """A duration given as seconds (int or float) or as a ``timedelta``, in seconds."""
    if isinstance(duration, _dt.timedelta):
        return duration.total_seconds()
    return float(duration)
