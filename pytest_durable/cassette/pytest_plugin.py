"""The pytest layer of cassettes and cloud mode: options, markers, two fixtures, hooks.

- ``durable_cloud``: a cloud-capable environment. By default (``--durable-mode=local``) it is the
  local fake, exactly like ``durable``; with ``--durable-mode=cloud`` it runs the same calls
  against the deployed function, or, with the cassette present and record mode ``none``, offline
  from the cassette.
- ``durable_replay``: checks the current code against recorded executions.

Configuration is the usual pytest mix (command line over ini), every piece also a fixture a
conftest can override (``durable_record_mode``, ``durable_cassette_dir``,
``durable_cassette_path``), as pytest-recording does.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_durable.cassette.recording.modes import RecordMode
from pytest_durable.errors import CassetteMissingError, CassetteSourceError, CloudRunError
from pytest_durable.marker_settings import from_config, with_markers
from pytest_durable.testnames import qualified_test_name

if TYPE_CHECKING:
    from pytest_durable.cassette.cloud.environment import CloudEnvironment
    from pytest_durable.cassette.cloud.functions import FunctionMap
    from pytest_durable.cassette.recording.recorder import CloudSettings
    from pytest_durable.cassette.replay.checker import ReplayChecker
    from pytest_durable.runner.environment import DurableEnvironment
    from pytest_durable.runner.settings import DurableSettings

# Like the main plugin, this module imports nothing heavy: a session that never asks for these
# fixtures must not pay for the runner, vcrpy or YAML. Each fixture imports what it uses.

MODES = ("local", "cloud")
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()
_WRITTEN = pytest.StashKey[list[Path]]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_durable import hooks  # noqa: PLC0415 - hook specs are registered, not imported

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("durable", "pytest-durable")
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "durable_function(name, *, handler=None): in cloud mode, run the handler (all handlers of "
        "the test, or the one given as module:qualname or object) as deployed function `name`",
    )
    config.addinivalue_line(
        "markers",
        "durable_cloud(mode=None): the `durable` fixture of this test can run in cloud mode: "
        "local by default, against the deployed function or offline from its cassette with "
        "--durable-mode=cloud; mode='cloud' or mode='local' fixes it for this test",
    )
    config.addinivalue_line(
        "markers",
        "durable_cassette(name): the cassette file of this test (relative to "
        "durable_cassette_dir; default <test module path>/<test name>.yaml)",
    )
    config.stash[_WRITTEN] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the call's report for the cassette's teardown (the timeline of a failed test is the
    main plugin's hook, ``plugin.py``)."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    written = terminalreporter.config.stash.get(_WRITTEN, [])
    if written:
        terminalreporter.section("pytest-durable cassettes")
        for path in written:
            terminalreporter.write_line(f"recorded: {path}")


# ----------------------------------------------------------------- configuration


def durable_mode_of(config: pytest.Config) -> str:
    mode = (
        config.getoption("--durable-mode")
        or os.environ.get("PYTEST_DURABLE_MODE")
        or str(config.getini("durable_mode"))
    )
    if mode not in MODES:
        raise pytest.UsageError(f"durable mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


@pytest.fixture
def durable_record_mode(request: pytest.FixtureRequest) -> str:
    """The record mode of this test's cassette (``none`` unless asked)."""
    config = request.config
    mode = config.getoption("--durable-record-mode") or str(config.getini("durable_record_mode"))
    try:
        return RecordMode(mode).value
    except ValueError:
        raise pytest.UsageError(
            f"durable record mode must be one of {', '.join(m.value for m in RecordMode)}, "
            f"not {mode!r}"
        ) from None


@pytest.fixture
def durable_cassette_dir(request: pytest.FixtureRequest) -> Path:
    """Where cassettes live (``durable_cassette_dir`` ini option, from the rootdir)."""
    return request.config.rootpath / str(request.config.getini("durable_cassette_dir"))


_UNSAFE = re.compile(r"[^\w.\-\[\]]+")


@pytest.fixture
def durable_cassette_path(request: pytest.FixtureRequest, durable_cassette_dir: Path) -> Path:
    """This test's cassette: ``<cassette dir>/<test module path>/<test name>.yaml``."""
    marker = request.node.get_closest_marker("durable_cassette")
    if marker is not None and marker.args:
        name = str(marker.args[0])
        return durable_cassette_dir / (name if name.endswith(".yaml") else f"{name}.yaml")
    module = Path(request.node.path)
    try:
        relative = module.relative_to(request.config.rootpath).with_suffix("")
    except ValueError:
        relative = Path(module.stem)
    name = qualified_test_name(request.node)  # classes included: TestA.test_x
    return durable_cassette_dir / relative / f"{_UNSAFE.sub('_', name)}.yaml"


def _function_map(request: pytest.FixtureRequest) -> FunctionMap:
    from pytest_durable.cassette.cloud.functions import (  # noqa: PLC0415 - cloud mode only
        FunctionMap,
        handler_keys,
        parse_mapping_lines,
    )

    config = request.config
    try:
        mapping = parse_mapping_lines(list(config.getini("durable_functions")))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    for marker in reversed(list(request.node.iter_markers("durable_function"))):
        name = marker.args[0] if marker.args else marker.kwargs.get("name")
        if not name:
            raise pytest.UsageError("@pytest.mark.durable_function needs the function name")
        handler = marker.kwargs.get("handler")
        if handler is None:
            mapping["*"] = str(name)
        else:
            mapping[handler if isinstance(handler, str) else handler_keys(handler)[0]] = str(name)
    node = request.node

    def hook(handler: Any, default: str) -> str | None:
        answer: str | None = config.hook.pytest_durable_function_name(
            handler=handler, default=default, item=node
        )
        return answer

    return FunctionMap(mapping=mapping, hook=hook)


def _cloud_settings(config: pytest.Config) -> CloudSettings:
    from pytest_durable.cassette.cloud.environment import Polling  # noqa: PLC0415 - cloud mode only
    from pytest_durable.cassette.recording.recorder import CloudSettings  # noqa: PLC0415

    standin = bool(config.getoption("--durable-standin"))
    timeout = float(str(config.getini("durable_poll_timeout")))
    polling = (
        Polling(initial_delay=0.02, factor=1.5, max_delay=0.2, timeout=min(timeout, 60.0))
        if standin
        else Polling(timeout=timeout)
    )
    return CloudSettings(
        region=config.getoption("--durable-region"),
        endpoint_url=config.getoption("--durable-endpoint-url")
        or os.environ.get("PYTEST_DURABLE_ENDPOINT_URL"),
        profile=config.getoption("--durable-profile"),
        polling=polling,
        standin=standin,
    )


def _mask_account(config: pytest.Config) -> bool:
    flag = config.getoption("--durable-mask-account")
    return bool(flag) if flag is not None else bool(config.getini("durable_mask_account"))


def _passed(request: pytest.FixtureRequest) -> bool:
    report = request.node.stash.get(_CALL_REPORT, None)
    return report is not None and report.passed


def record_command(request: pytest.FixtureRequest) -> str:
    return f"pytest '{request.node.nodeid}' --durable-mode=cloud --durable-record-mode=once"


# ----------------------------------------------------------------- fixtures


def test_mode(request: pytest.FixtureRequest) -> str:
    """This test's mode: a ``durable_cloud(mode=...)`` marker's, else the session's."""
    marker = request.node.get_closest_marker("durable_cloud")
    mode = marker.kwargs.get("mode") if marker is not None else None
    if mode is None:
        return durable_mode_of(request.config)
    if mode not in MODES:
        raise pytest.UsageError(
            f"@pytest.mark.durable_cloud(mode=...) on {request.node.nodeid} must be one of "
            f"{', '.join(MODES)}, not {mode!r}"
        )
    return str(mode)


@pytest.fixture
def durable_cloud(
    request: pytest.FixtureRequest,
    durable_settings: DurableSettings,
    durable_record_mode: str,
    durable_cassette_path: Path,
) -> Iterator[DurableEnvironment | CloudEnvironment]:
    """A cloud-capable environment: ``run``, ``start``, ``on_callback``, ``client``, ``results``.

    Local mode (default): the fake service, like ``durable`` (with a record mode other than
    ``none``, the run is also saved as a ``source: local`` cassette, for determinism replays).
    Cloud mode: the deployed function through boto3, recorded to or replayed from this test's
    cassette according to the record mode. A test marked ``@pytest.mark.durable_cloud`` gets
    this very environment from the ``durable`` fixture.
    """
    __tracebackhide__ = True
    settings = with_markers(from_config(durable_settings, "durable_settings"), request.node)
    if test_mode(request) == "local":
        yield from _local(request, settings, durable_record_mode, durable_cassette_path)
    else:
        yield from _cloud(request, durable_record_mode, durable_cassette_path)


def _local(
    request: pytest.FixtureRequest, settings: DurableSettings, record_mode: str, path: Path
) -> Iterator[DurableEnvironment]:
    from pytest_durable.cassette.local import RecordingEnvironment, save_local  # noqa: PLC0415

    config = request.config
    with RecordingEnvironment(settings) as environment:
        yield environment
    if _passed(request):

        def scrub_local(document: dict[str, Any], path: Path) -> None:
            config.hook.pytest_durable_scrub_cassette(document=document, path=path, config=config)

        written = save_local(
            environment, path, record_mode, test=request.node.nodeid, scrub_hooks=[scrub_local]
        )
        if written is not None:
            config.stash[_WRITTEN].append(written)


def _cloud(
    request: pytest.FixtureRequest, record_mode: str, path: Path
) -> Iterator[CloudEnvironment]:
    __tracebackhide__ = True
    from pytest_durable.cassette.recording.recorder import CloudSession  # noqa: PLC0415 - loads vcrpy

    config = request.config
    matchers = [
        m
        for found in config.hook.pytest_durable_request_matchers(config=config) or []
        for m in (found or [])
    ]

    def scrub(document: dict[str, Any], path: Path) -> None:
        config.hook.pytest_durable_scrub_cassette(document=document, path=path, config=config)

    session = CloudSession(
        path,
        record_mode,
        test_id=request.node.nodeid,
        record_command=record_command(request),
        functions=_function_map(request),
        settings=_cloud_settings(config),
        mask_account=_mask_account(config),
        scrub_hooks=[scrub],
        matchers=matchers,
    )
    try:
        cloud = session.__enter__()
    except (CassetteMissingError, CassetteSourceError, CloudRunError) as error:
        # The message is the whole story (what is missing, the command that records it): no
        # traceback of this plugin's code before it.
        pytest.fail(str(error), pytrace=False)
    try:
        yield cloud
        session.finish(save=_passed(request))
    except BaseException:
        session.__exit__(*sys.exc_info())
        raise
    session.__exit__(None, None, None)
    config.stash[_WRITTEN].extend(session.written)


@pytest.fixture
def durable_replay(durable_cassette_dir: Path) -> ReplayChecker:
    """Replay the current handler against recorded executions:
    ``durable_replay.check(handler, "examples/test_orders/test_happy_path")``."""
    from pytest_durable.cassette.replay.checker import ReplayChecker  # noqa: PLC0415 - lazy

    return ReplayChecker(durable_cassette_dir)
