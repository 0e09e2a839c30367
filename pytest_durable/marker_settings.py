"""A test's settings: the defaults, then a directory's ``durable_config``, then its markers.

Like pytest-recording's ``vcr_config``: a conftest overrides the ``durable_config`` fixture to
return a dict of settings for every test below it, and each ``@pytest.mark.durable(...)`` (module,
class, then function: the innermost wins per setting) is applied on top. A conftest that still
overrides ``durable_settings`` itself keeps working: the markers are applied to whatever it
returns as well, so a marker is never lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from pytest_durable.runner import DurableSettings


def _updated(settings: DurableSettings, changes: Mapping[str, Any], where: str) -> DurableSettings:
    __tracebackhide__ = True
    try:
        return settings.updated(**changes)
    except (TypeError, ValueError) as error:
        raise pytest.UsageError(f"{where}: {error}") from None


def from_config(config: Any, where: str = "durable_config") -> DurableSettings:
    """The settings a ``durable_config`` fixture (or a ``durable_settings`` override) gave: a
    dict of settings, or a :class:`DurableSettings`."""
    __tracebackhide__ = True
    if isinstance(config, DurableSettings):
        return config
    if isinstance(config, Mapping):
        return _updated(DurableSettings(), config, where)
    raise pytest.UsageError(
        f"{where} must return a dict of settings (e.g. {{'execution_timeout': 3600}}) or a "
        f"DurableSettings, not {type(config).__name__}: {config!r:.100}"
    )


def with_markers(settings: DurableSettings, node: pytest.Item) -> DurableSettings:
    """``settings`` updated by every ``durable`` marker of the test, outermost first."""
    __tracebackhide__ = True
    for marker in reversed(list(node.iter_markers("durable"))):
        if marker.args:
            raise pytest.UsageError(
                f"@pytest.mark.durable on {node.nodeid} takes keyword arguments only (got "
                f"{marker.args!r}); known settings: {', '.join(sorted(DurableSettings.names()))}"
            )
        settings = _updated(settings, marker.kwargs, f"@pytest.mark.durable on {node.nodeid}")
    return settings
