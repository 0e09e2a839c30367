"""The fixtures of local runs, each small and overridable, as pytest-recording's ``vcr_config``.

``durable_config`` and ``durable_settings`` are the settings (a conftest overrides them for a
whole directory); ``durable`` builds an environment per test from them and closes it after;
``durable_endpoint`` serves it on loopback HTTP; ``durable_golden`` hands out golden files. The
work is in :class:`~pytest_durable.runner.DurableEnvironment` and ``pytest_durable.assertions``;
each fixture imports what it builds when a test first asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_durable.marker_settings import from_config, with_markers
from pytest_durable.options import UPDATE_FLAG
from pytest_durable.plugin import GOLDENS_WRITTEN
from pytest_durable.runner.settings import DurableSettings
from pytest_durable.testnames import qualified_test_name

if TYPE_CHECKING:
    from pytest_durable.assertions.golden import GoldenFiles
    from pytest_durable.clock import VirtualClock
    from pytest_durable.runner.environment import DurableEnvironment
    from pytest_durable.service import DurableService


@pytest.fixture
def durable_config() -> dict[str, Any]:
    """Settings for every test in a directory: override it in a ``conftest.py`` to return a
    dict, e.g. ``{"execution_timeout": 3600}``. ``@pytest.mark.durable`` markers apply on top."""
    return {}


@pytest.fixture
def durable_settings(request: pytest.FixtureRequest, durable_config: Any) -> DurableSettings:
    """Settings for this test's environment: the defaults, then ``durable_config``, then every
    ``durable`` marker from the outermost (module, class) to the innermost (the function)."""
    __tracebackhide__ = True
    return with_markers(from_config(durable_config), request.node)


@pytest.fixture
def durable(request: pytest.FixtureRequest, durable_settings: Any) -> Iterator[Any]:
    """A fresh fake durable-execution service on a virtual clock, driving handlers like Lambda.

    ``durable.run(handler, event)`` runs a ``@durable_execution`` handler to the end;
    ``durable.clock`` is the virtual clock; ``durable.client`` a boto3 client on the fake;
    ``durable.faults`` the faults it injects (also declared with ``durable_fault`` markers).
    Marked ``@pytest.mark.durable_cloud``, the test runs in cloud mode with
    ``--durable-mode=cloud`` (against the deployed function, or offline from its cassette).
    """
    __tracebackhide__ = True
    if request.node.get_closest_marker("durable_cloud") is not None:
        # The same test body in local mode, in cloud mode or from its cassette, by option or
        # marker alone: the cloud-capable environment of ``cloud_fixtures.py``.
        yield request.getfixturevalue("durable_cloud")
        return
    # Markers again: a conftest that overrides durable_settings itself (the older way to set
    # directory defaults) must not lose them; on our own fixture's result this changes nothing.
    settings = with_markers(from_config(durable_settings, "durable_settings"), request.node)
    from pytest_durable.runner.environment import DurableEnvironment  # noqa: PLC0415 - lazy

    with DurableEnvironment(settings) as environment:
        declare_marked_faults(environment, request.node)
        yield environment


def declare_marked_faults(environment: DurableEnvironment, node: pytest.Item) -> None:
    """Declare the faults of every ``durable_fault`` marker, outermost first: each is a verb of
    ``durable.faults`` with its arguments, ``durable_fault("throttle", API, times=2)``."""
    from pytest_durable.transport.faults import FAULT_KINDS  # noqa: PLC0415 - lazy

    for marker in reversed(list(node.iter_markers("durable_fault"))):
        verb = marker.args[0] if marker.args else None
        if verb not in FAULT_KINDS:
            raise pytest.UsageError(
                f"@pytest.mark.durable_fault takes a verb first, one of {', '.join(FAULT_KINDS)}"
                f" (got {verb!r}), e.g. durable_fault('throttle', "
                f"'CheckpointDurableExecution', times=2)"
            )
        try:
            getattr(environment.faults, verb)(*marker.args[1:], **marker.kwargs)
        except (TypeError, ValueError) as error:
            raise pytest.UsageError(f"@pytest.mark.durable_fault({verb!r}, ...): {error}") from None


@dataclass(frozen=True)
class DurableEndpoint:
    """The ``durable`` environment's service on loopback HTTP, for code in other processes.

    ``url`` is what a client takes as ``endpoint_url`` (or another process as
    ``AWS_ENDPOINT_URL_LAMBDA``); ``service``, ``clock`` and ``environment`` are the very objects
    of the test's ``durable`` fixture, so what arrives over HTTP is visible to the test at once.
    """

    url: str
    environment: DurableEnvironment

    @property
    def service(self) -> DurableService:
        return self.environment.service

    @property
    def clock(self) -> VirtualClock:
        return self.environment.clock

    @property
    def env_vars(self) -> dict[str, str]:
        """Variables that point another process's AWS SDK here (dummy credentials, region)."""
        from pytest_durable.transport.http import endpoint_environment  # noqa: PLC0415 - lazy

        return endpoint_environment(self.url, self.environment.settings.region)

    def client(self) -> Any:
        """A new boto3 ``lambda`` client that reaches the service over the socket."""
        from pytest_durable.transport.http import make_http_client  # noqa: PLC0415 - lazy

        return make_http_client(self.url, region=self.environment.settings.region)


@pytest.fixture
def durable_endpoint(durable: DurableEnvironment) -> DurableEndpoint:
    """The ``durable`` environment's service served on 127.0.0.1 (a free port) for this test:
    ``durable_endpoint.url``, ``.service``, ``.clock``, ``.env_vars``, ``.client()``."""
    return DurableEndpoint(durable.http_endpoint().url, durable)


@pytest.fixture
def durable_golden(request: pytest.FixtureRequest) -> GoldenFiles:
    """Golden files of this test: ``durable_golden.assert_history(result)`` and
    ``durable_golden.assert_updates(result)``; ``--durable-update-goldens`` writes them."""
    from pytest_durable.assertions.golden import GoldenFiles  # noqa: PLC0415 - lazy

    config = request.config
    module = Path(request.node.path)
    try:
        relative = module.relative_to(config.rootpath)
    except ValueError:
        relative = Path(module.name)
    return GoldenFiles(
        directory=config.rootpath / str(config.getini("durable_golden_dir")),
        test_path=relative.with_suffix("").as_posix(),
        test_name=qualified_test_name(request.node),
        update=bool(config.getoption(UPDATE_FLAG)),
        on_written=config.stash[GOLDENS_WRITTEN].append,
        test_id=request.node.nodeid,
    )
