"""The settings of a ``DurableEnvironment``, which are also the ``durable`` marker's keywords.

A module of its own, importing nothing heavy: the pytest plugin lists the keywords in the
marker's help in every session, also in those that never build an environment.
"""

from __future__ import annotations

import datetime as _dt
import difflib
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class DurableSettings:
    """Per-environment settings; each is also a ``@pytest.mark.durable(...)`` keyword."""

    #: Virtual time at which the environment starts (default: the real current time); a
    #: datetime (naive means UTC) or an ISO-8601 string.
    start: _dt.datetime | None = None
    #: Whether ``datetime``/``time`` in the handler follow the virtual clock (through time-machine).
    freeze_time: bool = True
    #: DurableConfig.ExecutionTimeout in whole seconds (or a timedelta); None means the longest
    #: the service allows.
    execution_timeout: int | None = None
    #: Upper bound on invocations of one execution; a run never loops forever.
    max_invocations: int = 1000
    #: Consecutive crashed invocations tolerated before the run stops with the crash.
    max_failed_invocations: int = 5
    #: Wall-clock seconds one invocation may take before it counts as hung.
    invocation_wall_timeout: float = 60.0
    region: str = "us-east-1"
    account_id: str = "123456789012"

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def updated(self, **changes: Any) -> DurableSettings:
        unknown = sorted(set(changes) - self.names())
        if unknown:
            hints = []
            for name in unknown:
                close = difflib.get_close_matches(name, sorted(self.names()), n=1)
                hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
            raise TypeError(
                f"Unknown pytest-durable setting(s): {', '.join(hints)}. "
                f"Known settings: {', '.join(sorted(self.names()))}"
            )
        return replace(self, **{name: _coerce(name, value) for name, value in changes.items()})


def whole_seconds(what: str, value: Any) -> int | None:
    """A duration setting as whole seconds: an int, or a timedelta of whole seconds."""
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
        if seconds != int(seconds):
            raise ValueError(f"{what} must be whole seconds, got {value!r}")
        value = int(seconds)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{what} must be a positive number of seconds or a timedelta, not {value!r}"
        )
    return value


def _coerce(name: str, value: Any) -> Any:
    """Settings given in a convenient form are turned into the one the runner uses; a value of
    the wrong kind is refused here, with the setting's name, not deep inside a run."""
    if name == "start" and isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"start={value!r} is not an ISO-8601 date-time (e.g. 2030-01-01T00:00:00Z)"
            ) from None
    if name == "start" and value is not None and not isinstance(value, _dt.datetime):
        raise ValueError(f"start must be a datetime or an ISO-8601 string, not {value!r}")
    if name == "execution_timeout":
        return whole_seconds("execution_timeout", value)
    if name in ("max_invocations", "max_failed_invocations") and (
        isinstance(value, bool) or not isinstance(value, int) or value < 1
    ):
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    if name == "invocation_wall_timeout":
        if isinstance(value, _dt.timedelta):
            value = value.total_seconds()
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValueError(
                f"invocation_wall_timeout must be a positive number of seconds or a timedelta, "
                f"not {value!r}"
            )
        return float(value)
    if name in ("freeze_time",) and not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, not {value!r}")
    return value
