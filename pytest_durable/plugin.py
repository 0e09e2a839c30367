"""The pytest layer: a ``durable`` fixture and a ``durable`` marker, nothing more.

Everything is in :class:`~pytest_durable.runner.DurableEnvironment`; this module only builds one
per test from the marker's settings and closes it after. ``durable_settings`` is a fixture so a
conftest can override it for a whole directory, as pytest-recording does with ``vcr_config``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_durable.runner import DurableEnvironment, DurableSettings

MARKER_HELP = (
    "durable(**settings): settings of the `durable` fixture's environment for this test, e.g. "
    "durable(start=datetime(2030, 1, 1), execution_timeout=3600, max_invocations=50). "
    "Keywords: " + ", ".join(sorted(DurableSettings.names()))
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)


@pytest.fixture
def durable_settings(request: pytest.FixtureRequest) -> DurableSettings:
    """Settings for this test's environment: the defaults, updated by every ``durable`` marker
    from the outermost (module, class) to the innermost (the test function)."""
    settings = DurableSettings()
    for marker in reversed(list(request.node.iter_markers("durable"))):
        if marker.args:
            raise pytest.UsageError(
                f"@pytest.mark.durable takes keyword arguments only (got {marker.args!r}); "
                f"known settings: {', '.join(sorted(DurableSettings.names()))}"
            )
        try:
            settings = settings.updated(**marker.kwargs)
        except TypeError as error:
            raise pytest.UsageError(str(error)) from None
    return settings


@pytest.fixture
def durable(durable_settings: DurableSettings) -> Iterator[DurableEnvironment]:
    """A fresh fake durable-execution service on a virtual clock, driving handlers like Lambda.

    ``durable.run(handler, event)`` runs a ``@durable_execution`` handler to the end;
    ``durable.clock`` is the virtual clock; ``durable.client`` a boto3 client on the fake.
    """
    with DurableEnvironment(durable_settings) as environment:
        yield environment
