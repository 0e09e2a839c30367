"""The pytest layer: fixtures, a marker, a command-line flag and a report section, nothing more.

Everything is in :class:`~pytest_durable.runner.DurableEnvironment` and in
``pytest_durable.assertions``; this module only builds an environment per test from the marker's
settings and closes it after, serves it on loopback HTTP for a test that asks
(``durable_endpoint``), hands out golden files, and adds the run's timeline to the report
of a failed test. ``durable_settings`` is a fixture so a conftest can override it for a whole
directory, as pytest-recording does with ``vcr_config``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_durable.marker_settings import from_config, with_markers
from pytest_durable.options import UPDATE_FLAG
from pytest_durable.runner.settings import DurableSettings
from pytest_durable.testnames import qualified_test_name

if TYPE_CHECKING:
    from pytest_durable.assertions.golden import GoldenFiles
    from pytest_durable.clock import VirtualClock
    from pytest_durable.runner.environment import DurableEnvironment
    from pytest_durable.service import DurableService

# Installing the plugin must cost nothing to a session that never asks for a durable fixture:
# this module imports only pytest and light modules, and each fixture imports what it builds
# (the SDK, botocore, YAML) when a test first asks for it.

# Cassettes, cloud mode and determinism replays: options, fixtures and hook specs of their own.
pytest_plugins = ["pytest_durable.cassette.pytest_plugin"]

MARKER_HELP = (
    "durable(**settings): settings of the `durable` fixture's environment for this test, e.g. "
    "durable(start=datetime(2030, 1, 1), execution_timeout=3600, max_invocations=50). "
    "Keywords: " + ", ".join(sorted(DurableSettings.names()))
)


FAULT_MARKER_HELP = (
    "durable_fault(verb, *args, **kwargs): a fault the `durable` fixture's service injects, "
    "e.g. durable_fault('throttle', 'CheckpointDurableExecution', times=2) or "
    "durable_fault('kill_sandbox', after_checkpoint=3). Verbs: throttle, fail, lose_answer, "
    "delay, kill_sandbox"
)

_WRITTEN = pytest.StashKey[list[Path]]()


def pytest_plugin_registered(plugin: object, manager: pytest.PytestPluginManager) -> None:
    """Keep pytest's assertion rewriting out of this package's library code.

    pytest marks the whole distribution of an entry-point plugin for rewriting, so every module
    of pytest_durable would be parsed and rewritten on import (and again in every session where
    its cache cannot be written, as in a read-only site-packages). None of them needs it: the
    assertion helpers raise their own messages. This runs when this module is registered,
    before the cassette plugin and any fixture import the rest. pytest keeps the marks in a
    private set; if that changes, the package is merely rewritten as before.
    """
    if plugin is not sys.modules[__name__]:
        return
    hook = getattr(manager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)
    package = __name__.partition(".")[0]
    if isinstance(marked, set) and package in marked:
        marked.discard(package)
        cache = getattr(hook, "_marked_for_rewrite_cache", None)
        if isinstance(cache, dict):
            cache.clear()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("durable", "pytest-durable")
    group.addoption(
        UPDATE_FLAG,
        action="store_true",
        default=False,
        help="write missing golden files and rewrite those that no longer match (durable_golden)",
    )
    parser.addini(
        "durable_golden_dir",
        "directory of durable_golden files, relative to the rootdir",
        default="fixtures/golden",
    )
    parser.addini(
        "durable_timeline",
        "add the timeline of the test's durable executions to the report of a failed test",
        type="bool",
        default=True,
    )


# What the fixtures import. pytester's in-process runs (``runpytest``) drop every module first
# imported during a run from ``sys.modules`` when the run ends; one imported again by the next run
# is a second copy, and libyaml's C emitter only knows the first copy's node classes (the next
# cassette or golden fails to write). Where pytester is loaded, these are imported up front so
# that they outlive its runs, as they did when the plugin imported everything eagerly.
_FIXTURE_MODULES = (
    "pytest_durable.runner.environment",
    "pytest_durable.transport.http",
    "pytest_durable.assertions.golden",
    "pytest_durable.assertions.timeline",
    "pytest_durable.cassette.local",
    "pytest_durable.cassette.replay.replayer",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", FAULT_MARKER_HELP)
    config.stash[_WRITTEN] = []
    if config.pluginmanager.has_plugin("pytester"):
        for module in _FIXTURE_MODULES:
            importlib.import_module(module)


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
        # marker alone: the cloud-capable environment of the cassette plugin.
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
        on_written=config.stash[_WRITTEN].append,
        test_id=request.node.nodeid,
    )


def _environment_of(item: pytest.Item) -> DurableEnvironment | None:
    """The test's ``durable`` environment, if the fixture ran (so its module is imported)."""
    environment = getattr(item, "funcargs", {}).get("durable")
    if environment is None:
        return None
    from pytest_durable.runner.environment import DurableEnvironment  # noqa: PLC0415 - lazy

    return environment if isinstance(environment, DurableEnvironment) else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """A ``durable.mock_step`` no step reached fails the test itself (not its teardown), once
    the test body has passed."""
    yield
    environment = _environment_of(item)
    if environment is not None:
        environment.step_mocks.verify()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """The one timeline hook: a failed test's report shows the timeline of each local
    environment it ran (``durable``, and ``durable_cloud`` when it runs locally; a cloud run's
    would need requests its cassette may not have, so it is left out)."""
    report = yield
    if report.when == "call" and report.failed and item.config.getini("durable_timeline"):
        environments = _local_environments_of(item)
        if environments:
            from pytest_durable.assertions.timeline import environment_timeline  # noqa: PLC0415

            for environment in environments:
                timeline = environment_timeline(environment.results())
                if timeline:
                    report.sections.append(("durable timeline", timeline))
    return report


def _local_environments_of(item: pytest.Item) -> list[DurableEnvironment]:
    """The local environments of the test's ``durable`` and ``durable_cloud`` fixtures, each
    once (a ``durable`` test marked ``durable_cloud`` gets the same object), if they ran."""
    funcargs = getattr(item, "funcargs", {})
    candidates = [funcargs.get("durable"), funcargs.get("durable_cloud")]
    if all(candidate is None for candidate in candidates):
        return []
    from pytest_durable.runner.environment import DurableEnvironment  # noqa: PLC0415 - lazy

    found: list[DurableEnvironment] = []
    for candidate in candidates:
        if isinstance(candidate, DurableEnvironment) and all(candidate is not e for e in found):
            found.append(candidate)
    return found


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    written = terminalreporter.config.stash.get(_WRITTEN, [])
    if written:
        terminalreporter.section("pytest-durable goldens")
        for path in written:
            terminalreporter.write_line(f"written: {path}")
