"""The fixtures of cassettes and cloud mode, each small and overridable, as pytest-recording's.

- ``durable_cloud``: a cloud-capable environment. By default (``--durable-mode=local``) it is the
  local fake, exactly like ``durable``; with ``--durable-mode=cloud`` it runs the same calls
  against the deployed function, or, with the cassette present and record mode ``none``, offline
  from the cassette.
- ``durable_replay``: checks the current code against recorded executions.
- ``durable_record_mode``, ``durable_cassette_dir``, ``durable_cassette_path``: the pieces of
  configuration, each a fixture a conftest can override.

These fixtures only read pytest's options, ini values, markers and hooks; what the test runs is
decided and run by :mod:`pytest_durable.cassette.engine` from those plain values.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from pytest_durable.cassette import engine
from pytest_durable.errors import CassetteMissingError, CassetteSourceError, CloudRunError
from pytest_durable.marker_settings import from_config, with_markers
from pytest_durable.plugin import CALL_REPORT, CASSETTES_WRITTEN
from pytest_durable.testnames import qualified_test_name

if TYPE_CHECKING:
    from pytest_durable.cassette.cloud.environment import CloudEnvironment
    from pytest_durable.cassette.cloud.functions import FunctionMap
    from pytest_durable.cassette.replay.checker import ReplayChecker
    from pytest_durable.runner.environment import DurableEnvironment
    from pytest_durable.runner.settings import DurableSettings

_T = TypeVar("_T")


def _checked(build: Callable[[], _T]) -> _T:
    """What ``build`` returns; its ``ValueError`` (bad configuration) as a usage error."""
    __tracebackhide__ = True
    try:
        return build()
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.fixture
def durable_record_mode(request: pytest.FixtureRequest) -> str:
    """The record mode of this test's cassette (``none`` unless asked)."""
    config = request.config
    mode = config.getoption("--durable-record-mode") or str(config.getini("durable_record_mode"))
    return _checked(lambda: engine.record_mode(mode))


@pytest.fixture
def durable_cassette_dir(request: pytest.FixtureRequest) -> Path:
    """Where cassettes live (``durable_cassette_dir`` ini option, from the rootdir)."""
    return request.config.rootpath / str(request.config.getini("durable_cassette_dir"))


@pytest.fixture
def durable_cassette_path(request: pytest.FixtureRequest, durable_cassette_dir: Path) -> Path:
    """This test's cassette: ``<cassette dir>/<test module path>/<test name>.yaml``."""
    marker = request.node.get_closest_marker("durable_cassette")
    return engine.cassette_path(
        durable_cassette_dir,
        named=str(marker.args[0]) if marker is not None and marker.args else None,
        module=Path(request.node.path),
        rootpath=request.config.rootpath,
        test_name=qualified_test_name(request.node),  # classes included: TestA.test_x
    )


def _mode(request: pytest.FixtureRequest) -> str:
    config = request.config
    marker = request.node.get_closest_marker("durable_cloud")
    return _checked(
        lambda: engine.mode_of_test(
            marker.kwargs.get("mode") if marker is not None else None,
            lambda: engine.session_mode(
                config.getoption("--durable-mode"),
                os.environ.get("PYTEST_DURABLE_MODE"),
                str(config.getini("durable_mode")),
            ),
            request.node.nodeid,
        )
    )


def _function_map(request: pytest.FixtureRequest) -> FunctionMap:
    config = request.config
    node = request.node
    markers = [
        (marker.args[0] if marker.args else marker.kwargs.get("name"), marker.kwargs.get("handler"))
        for marker in reversed(list(node.iter_markers("durable_function")))
    ]

    def hook(handler: Any, default: str) -> str | None:
        answer: str | None = config.hook.pytest_durable_function_name(
            handler=handler, default=default, item=node
        )
        return answer

    lines = list(config.getini("durable_functions"))
    return _checked(lambda: engine.function_map(lines, markers, hook))


def _mask_account(config: pytest.Config) -> bool:
    flag = config.getoption("--durable-mask-account")
    return bool(flag) if flag is not None else bool(config.getini("durable_mask_account"))


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
    config = request.config
    test_id = request.node.nodeid

    def passed() -> bool:
        report = request.node.stash.get(CALL_REPORT, None)
        return report is not None and report.passed

    def scrub(document: dict[str, Any], path: Path) -> None:
        config.hook.pytest_durable_scrub_cassette(document=document, path=path, config=config)

    written = config.stash[CASSETTES_WRITTEN].append
    if _mode(request) == "local":
        settings = with_markers(from_config(durable_settings, "durable_settings"), request.node)
        yield from engine.run_local(
            settings,
            durable_record_mode,
            durable_cassette_path,
            test_id=test_id,
            passed=passed,
            scrub=scrub,
            on_written=written,
        )
        return
    standin = bool(config.getoption("--durable-standin"))
    session = engine.cloud_session(
        durable_cassette_path,
        durable_record_mode,
        test_id=test_id,
        functions=_function_map(request),
        settings=_checked(
            lambda: engine.cloud_settings(
                region=config.getoption("--durable-region"),
                endpoint_url=config.getoption("--durable-endpoint-url")
                or os.environ.get("PYTEST_DURABLE_ENDPOINT_URL"),
                profile=config.getoption("--durable-profile"),
                poll_timeout=str(config.getini("durable_poll_timeout")),
                standin=standin,
            )
        ),
        mask_account=_mask_account(config),
        scrub=scrub,
        matchers=engine.flat_matchers(config.hook.pytest_durable_request_matchers(config=config)),
    )
    run = engine.run_cloud(session, passed=passed, on_written=written)
    try:
        cloud = next(run)
    except (CassetteMissingError, CassetteSourceError, CloudRunError) as error:
        # The message is the whole story (what is missing, the command that records it): no
        # traceback of this plugin's code before it.
        pytest.fail(str(error), pytrace=False)
    yield cloud
    next(run, None)


@pytest.fixture
def durable_replay(durable_cassette_dir: Path) -> ReplayChecker:
    """Replay the current handler against recorded executions:
    ``durable_replay.check(handler, "examples/test_orders/test_happy_path")``."""
    from pytest_durable.cassette.replay.checker import ReplayChecker  # noqa: PLC0415 - lazy

    return ReplayChecker(durable_cassette_dir)
