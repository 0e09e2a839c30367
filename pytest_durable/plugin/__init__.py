"""The pytest layer: options, markers and hooks here; small overridable fixtures beside them.

In the way of pytest-recording, the layer only reads pytest's configuration and hands plain values
to the engine below it: the fixtures of local runs are in :mod:`.fixtures`, those of cassettes and
cloud mode in :mod:`.cloud_fixtures` (their engine is :mod:`pytest_durable.cassette.engine`). This
module declares every option and marker, publishes ``pytest_durable/hooks.py``, and holds the
report hooks: the one ``makereport`` (the call's report for cassette saving, the timeline of a
failed test) and the one terminal summary (goldens and cassettes written).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_durable.cassette.engine import MODES
from pytest_durable.cassette.recording.modes import RecordMode
from pytest_durable.options import UPDATE_FLAG
from pytest_durable.runner.settings import DurableSettings

if TYPE_CHECKING:
    from pytest_durable.runner.environment import DurableEnvironment

# Installing the plugin must cost nothing to a session that never asks for a durable fixture:
# this module imports only pytest and light modules, and each fixture imports what it builds
# (the SDK, botocore, YAML) when a test first asks for it.

# The fixtures, registered as plugins of their own when this one is.
pytest_plugins = ["pytest_durable.plugin.fixtures", "pytest_durable.plugin.cloud_fixtures"]

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

MARKERS = (
    MARKER_HELP,
    FAULT_MARKER_HELP,
    "durable_function(name, *, handler=None): in cloud mode, run the handler (all handlers of "
    "the test, or the one given as module:qualname or object) as deployed function `name`",
    "durable_cloud(mode=None): the `durable` fixture of this test can run in cloud mode: "
    "local by default, against the deployed function or offline from its cassette with "
    "--durable-mode=cloud; mode='cloud' or mode='local' fixes it for this test",
    "durable_cassette(name): the cassette file of this test (relative to "
    "durable_cassette_dir; default <test module path>/<test name>.yaml)",
)

#: Golden files and cassettes written in this session, for the terminal summary.
GOLDENS_WRITTEN = pytest.StashKey[list[Path]]()
CASSETTES_WRITTEN = pytest.StashKey[list[Path]]()
#: A test's call report: a cassette is saved only after a passed test.
CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def pytest_plugin_registered(plugin: object, manager: pytest.PytestPluginManager) -> None:
    """Keep pytest's assertion rewriting out of this package's library code.

    pytest marks the whole distribution of an entry-point plugin for rewriting, so every module
    of pytest_durable would be parsed and rewritten on import (and again in every session where
    its cache cannot be written, as in a read-only site-packages). None of them needs it: the
    assertion helpers raise their own messages. This runs when this module is registered,
    before the fixture modules and any fixture import the rest. pytest keeps the marks in a
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
    _add_cloud_options(group, parser)


def _add_cloud_options(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    """Cloud mode and cassettes: where durable_cloud tests run, how cassettes are recorded."""
    group.addoption(
        "--durable-mode",
        choices=MODES,
        default=None,
        help="local: durable_cloud tests run against the fake (default); cloud: against the "
        "deployed functions, or offline from their cassettes (env PYTEST_DURABLE_MODE)",
    )
    group.addoption(
        "--durable-record-mode",
        choices=[mode.value for mode in RecordMode],
        default=None,
        help="none: never touch the network, replay cassettes (default); once: record missing "
        "cassettes; new_episodes: record requests a cassette lacks; all: record everything again",
    )
    group.addoption(
        "--durable-mask-account",
        action="store_true",
        default=None,
        help="replace the AWS account id with 000000000000 in recorded cassettes",
    )
    group.addoption(
        "--durable-endpoint-url",
        default=None,
        help="Lambda endpoint for cloud mode (default: boto3's, e.g. AWS_ENDPOINT_URL_LAMBDA)",
    )
    group.addoption("--durable-region", default=None, help="AWS region for cloud mode")
    group.addoption("--durable-profile", default=None, help="AWS profile for cloud mode")
    group.addoption(
        "--durable-standin",
        action="store_true",
        default=False,
        help="cloud mode against an in-process stand-in for Lambda (the fake behind Invoke, on "
        "loopback HTTP) instead of AWS: try cloud-mode tests, record cassettes without AWS",
    )
    parser.addini("durable_mode", "local or cloud (see --durable-mode)", default="local")
    parser.addini(
        "durable_record_mode", "default record mode (see --durable-record-mode)", default="none"
    )
    parser.addini(
        "durable_mask_account",
        "mask the account id in recorded cassettes",
        type="bool",
        default=False,
    )
    parser.addini(
        "durable_cassette_dir",
        "directory of cassettes, relative to the rootdir",
        default="fixtures/cassettes",
    )
    parser.addini(
        "durable_functions",
        "handler = function-name lines mapping handlers (module:qualname or qualname, * for "
        "all) to deployed functions in cloud mode",
        type="linelist",
        default=[],
    )
    parser.addini(
        "durable_poll_timeout",
        "seconds a cloud-mode run may take before it fails",
        default="900",
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


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_durable import hooks  # noqa: PLC0415 - hook specs are registered, not imported

    pluginmanager.add_hookspecs(hooks)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    config.stash[GOLDENS_WRITTEN] = []
    config.stash[CASSETTES_WRITTEN] = []
    if config.pluginmanager.has_plugin("pytester"):
        for module in _FIXTURE_MODULES:
            importlib.import_module(module)


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
    """The one report hook: the call's report is kept for the cassette saved at teardown (only
    after a passed test), and a failed test's report shows the timeline of each local
    environment it ran (``durable``, and ``durable_cloud`` when it runs locally; a cloud run's
    would need requests its cassette may not have, so it is left out)."""
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
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
    """The files this session wrote: golden files, then cassettes."""
    stash = terminalreporter.config.stash
    for key, title, verb in (
        (GOLDENS_WRITTEN, "pytest-durable goldens", "written"),
        (CASSETTES_WRITTEN, "pytest-durable cassettes", "recorded"),
    ):
        written = stash.get(key, [])
        if written:
            terminalreporter.section(title)
            for path in written:
                terminalreporter.write_line(f"{verb}: {path}")
