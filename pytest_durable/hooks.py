"""Hook specifications of pytest-durable: what teams customise about cassettes and cloud mode.

Implement them in a ``conftest.py`` (or a plugin) like any pytest hook; pytest-durable publishes
them through ``pytest_addhooks``, so pytest checks the signatures of implementations.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import pytest
    from vcr.request import Request

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_durable_scrub_cassette(
    document: dict[str, Any], path: Path, config: pytest.Config
) -> None:
    """Edit a cassette before it is written: ``document`` is the whole file as a dict
    (``recorded``, ``executions``, ``interactions``), already without credentials, signatures
    and session headers, and with the account id masked if asked. Change it in place, e.g. to
    replace customer data in payloads. Every implementation is called. If a credential is still
    in the document afterwards, the cassette is not written."""


@hookspec
def pytest_durable_request_matchers(
    config: pytest.Config,
) -> list[Callable[[Request, Request], None]] | None:
    """Extra vcrpy matchers, ``matcher(live_request, recorded_request)`` raising
    ``AssertionError`` when they differ, applied on top of pytest-durable's own (method, path
    with ARNs and CallbackIds normalised, query, JSON body without ``ClientToken``). The lists
    of every implementation are combined."""


@hookspec(firstresult=True)
def pytest_durable_function_name(handler: Any, default: str, item: pytest.Item) -> str | None:
    """The deployed function that runs ``handler`` in cloud mode (a name, ``name:qualifier`` or
    an ARN), or None to leave it to the environment, the ``durable_function`` marker and the
    ``durable_functions`` ini option. ``default`` is the handler's own name. The first
    implementation that answers wins."""
