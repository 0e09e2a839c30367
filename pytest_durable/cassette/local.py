"""A local run (the fake service) saved as a cassette, to check later code against it.

A determinism replay needs only the recorded executions, so any run can serve: one recorded in
cloud mode, or one of the fake. Local cassettes say ``source: local`` and hold no HTTP (there is
none to replay); a cloud-mode test refuses them, and a local run never overwrites a cassette
recorded in cloud mode.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pytest_durable.cassette.cloud.functions import handler_reference
from pytest_durable.cassette.recording.format import (
    Cassette,
    RecordedExecution,
    dump_document,
    read_cassette,
    recorded_meta,
    write_cassette,
)
from pytest_durable.cassette.recording.modes import RecordMode
from pytest_durable.runner.driver import ExecutionDriver
from pytest_durable.runner.environment import DurableEnvironment


class RecordingEnvironment(DurableEnvironment):
    """A local environment that remembers which handler each execution ran, so its cassette
    can name it (``handler: module:function``) for ``pytest-durable replay``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handlers: dict[str, Any] = {}

    def start(self, handler: Any, event: Any = None, **kwargs: Any) -> ExecutionDriver:
        driver = super().start(handler, event, **kwargs)
        self.handlers[driver.arn] = handler
        return driver


def local_cassette(environment: DurableEnvironment, *, test: str = "") -> Cassette:
    """A cassette of every execution a local environment ran (no HTTP: ``source: local``)."""
    handlers: dict[str, Any] = getattr(environment, "handlers", {})
    executions = []
    for execution, result in zip(
        environment.service.executions, environment.results(), strict=True
    ):
        handler = handlers.get(execution.arn)
        executions.append(
            RecordedExecution.from_result(
                result,
                execution.operations.values(),
                function_name=execution.function_name,
                input_payload=execution.input_payload,
                handler=handler_reference(handler) if handler is not None else None,
            )
        )
    return Cassette(
        source="local",
        recorded=recorded_meta(test, environment.settings.region, "local"),
        executions=executions,
    )


def save_local(
    environment: DurableEnvironment,
    path: Path,
    mode: RecordMode | str,
    *,
    test: str = "",
    scrub_hooks: Sequence[Callable[[dict[str, Any], Path], None]] = (),
) -> Path | None:
    """Write the local run's cassette as the record mode allows: ``once`` only if missing,
    ``new_episodes``/``all`` always; never over a cassette recorded in cloud mode. The scrub
    hooks see the document before it is written, as for a cloud-mode cassette."""
    mode = RecordMode(mode)
    if mode is RecordMode.NONE or not environment.service.executions:
        return None
    if path.is_file():
        if mode is RecordMode.ONCE:
            return None
        if read_cassette(path).source == "cloud":
            warnings.warn(
                f"pytest-durable: not overwriting {path}, recorded in cloud mode, with a local "
                f"run; re-record it with --durable-mode=cloud",
                stacklevel=2,
            )
            return None
    if not scrub_hooks:
        return write_cassette(local_cassette(environment, test=test), path)
    document = local_cassette(environment, test=test).to_document()
    for scrub in scrub_hooks:
        scrub(document, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_document(document), encoding="utf-8")
    return path
