"""The engine behind the ``durable_cloud`` fixture, on plain values.

The pytest layer (``pytest_durable/plugin/cloud_fixtures.py``) reads options, ini values,
markers and hooks and hands them here as strings, paths and callables; this module decides what
the test runs: local or cloud mode, which cassette, which deployed function each handler is,
how cloud mode reaches Lambda, and the command that records a missing cassette. It then runs the
local environment (saving it as a ``source: local`` cassette when the record mode asks) or the
cloud session. Bad configuration is a ``ValueError`` whose message the pytest layer shows as a
usage error.

Like the pytest layer, this module imports nothing heavy at the top: the runner, vcrpy and YAML
are imported by the function that needs them, when a test first asks for them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_durable.cassette.recording.modes import RecordMode

if TYPE_CHECKING:
    from pytest_durable.cassette.cloud.environment import CloudEnvironment
    from pytest_durable.cassette.cloud.functions import FunctionMap
    from pytest_durable.cassette.recording.recorder import CloudSession, CloudSettings
    from pytest_durable.runner.environment import DurableEnvironment
    from pytest_durable.runner.settings import DurableSettings

#: Where a cloud-capable test runs: the fake (default) or the deployed function / its cassette.
MODES = ("local", "cloud")

#: A vcrpy matcher, ``matcher(live_request, recorded_request)``, raising when they differ.
Matcher = Callable[[Any, Any], None]

#: Sees a cassette document (and its path) before it is written.
Scrub = Callable[[dict[str, Any], Path], None]

_UNSAFE = re.compile(r"[^\w.\-\[\]]+")


def session_mode(option: str | None, environ: str | None, ini: str) -> str:
    """The session's mode: the command line, else ``PYTEST_DURABLE_MODE``, else the ini value."""
    mode = option or environ or ini
    if mode not in MODES:
        raise ValueError(f"durable mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def mode_of_test(marker_mode: object, session: Callable[[], str], test_id: str) -> str:
    """A test's mode: its ``durable_cloud(mode=...)`` marker's, else the session's (asked only
    then, so a bad session value does not fail a test that fixes its own)."""
    if marker_mode is None:
        return session()
    if marker_mode not in MODES:
        raise ValueError(
            f"@pytest.mark.durable_cloud(mode=...) on {test_id} must be one of "
            f"{', '.join(MODES)}, not {marker_mode!r}"
        )
    return str(marker_mode)


def record_mode(value: str) -> str:
    """A record mode's name, checked (``none``, ``once``, ``new_episodes``, ``all``)."""
    try:
        return RecordMode(value).value
    except ValueError:
        raise ValueError(
            f"durable record mode must be one of {', '.join(m.value for m in RecordMode)}, "
            f"not {value!r}"
        ) from None


def cassette_path(
    directory: Path, *, named: str | None, module: Path, rootpath: Path, test_name: str
) -> Path:
    """A test's cassette: ``named`` (a ``durable_cassette`` marker's) under ``directory``, else
    ``<directory>/<test module path from the rootdir>/<test name>.yaml``."""
    if named:
        return directory / (named if named.endswith(".yaml") else f"{named}.yaml")
    try:
        relative = module.relative_to(rootpath).with_suffix("")
    except ValueError:
        relative = Path(module.stem)
    return directory / relative / f"{_UNSAFE.sub('_', test_name)}.yaml"


def function_map(
    lines: list[str],
    markers: Iterable[tuple[object, object]],
    hook: Callable[[Any, str], str | None] | None = None,
) -> FunctionMap:
    """Handlers to deployed functions: the ``durable_functions`` ini lines, then each
    ``durable_function(name, handler=...)`` marker as ``(name, handler)``, outermost first (no
    handler: every handler of the test); ``hook`` has the last word per handler."""
    from pytest_durable.cassette.cloud.functions import (  # noqa: PLC0415 - cloud mode only
        FunctionMap,
        handler_keys,
        parse_mapping_lines,
    )

    mapping = parse_mapping_lines(lines)
    for name, handler in markers:
        if not name:
            raise ValueError("@pytest.mark.durable_function needs the function name")
        if handler is None:
            mapping["*"] = str(name)
        else:
            mapping[handler if isinstance(handler, str) else handler_keys(handler)[0]] = str(name)
    return FunctionMap(mapping=mapping, hook=hook)


def cloud_settings(
    *,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
    poll_timeout: str,
    standin: bool,
) -> CloudSettings:
    """How cloud mode reaches Lambda. Against the in-process stand-in, polls are quick and a
    run may take at most a minute (it is local, so a longer wait is a hang, not a slow cloud)."""
    from pytest_durable.cassette.cloud.environment import Polling  # noqa: PLC0415 - cloud mode only
    from pytest_durable.cassette.recording.recorder import CloudSettings  # noqa: PLC0415

    try:
        timeout = float(poll_timeout)
    except ValueError:
        raise ValueError(
            f"durable_poll_timeout must be a number of seconds, not {poll_timeout!r}"
        ) from None
    polling = (
        Polling(initial_delay=0.02, factor=1.5, max_delay=0.2, timeout=min(timeout, 60.0))
        if standin
        else Polling(timeout=timeout)
    )
    return CloudSettings(
        region=region, endpoint_url=endpoint_url, profile=profile, polling=polling, standin=standin
    )


def record_command(test_id: str) -> str:
    """The command that records this test's cassette, for the message of a missing one."""
    return f"pytest '{test_id}' --durable-mode=cloud --durable-record-mode=once"


def run_local(
    settings: DurableSettings,
    mode: str,
    path: Path,
    *,
    test_id: str,
    passed: Callable[[], bool],
    scrub: Scrub,
    on_written: Callable[[Path], None],
) -> Iterator[DurableEnvironment]:
    """Local mode: the fake, yielded once; after a passed test, its run saved as a ``source:
    local`` cassette if the record mode asks (for determinism replays)."""
    from pytest_durable.cassette.local import RecordingEnvironment, save_local  # noqa: PLC0415

    with RecordingEnvironment(settings) as environment:
        yield environment
    if passed():
        written = save_local(environment, path, mode, test=test_id, scrub_hooks=[scrub])
        if written is not None:
            on_written(written)


def cloud_session(
    path: Path,
    mode: str,
    *,
    test_id: str,
    functions: FunctionMap,
    settings: CloudSettings,
    mask_account: bool,
    scrub: Scrub,
    matchers: Sequence[Matcher],
) -> CloudSession:
    """Cloud mode's session for this test's cassette (recording or replaying as ``mode`` says)."""
    from pytest_durable.cassette.recording.recorder import CloudSession  # noqa: PLC0415 - vcrpy

    return CloudSession(
        path,
        mode,
        test_id=test_id,
        record_command=record_command(test_id),
        functions=functions,
        settings=settings,
        mask_account=mask_account,
        scrub_hooks=[scrub],
        matchers=list(matchers),
    )


def run_cloud(
    session: CloudSession, *, passed: Callable[[], bool], on_written: Callable[[Path], None]
) -> Iterator[CloudEnvironment]:
    """Cloud mode: the session's environment, yielded once; then the cassette saved (after a
    passed test) and the session closed, whatever happens while saving. Entering raises
    ``CassetteMissingError``, ``CassetteSourceError`` or ``CloudRunError`` with the whole story
    in the message."""
    cloud = session.__enter__()
    try:
        yield cloud
        session.finish(save=passed())
    except BaseException:
        session.__exit__(*sys.exc_info())
        raise
    session.__exit__(None, None, None)
    for written in session.written:
        on_written(written)


def flat_matchers(answers: Iterable[Iterable[Matcher] | None] | None) -> list[Matcher]:
    """The request matchers every ``pytest_durable_request_matchers`` hook answered, in order."""
    return [matcher for found in answers or [] for matcher in (found or [])]
