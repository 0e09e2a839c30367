"""Every exception pytest-durable defines lives in ``pytest_durable/errors.py`` and derives from
``DurableTestError``, so a user catches any of them with one ``except`` and a reader finds them
all in one room."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import pytest_durable
from pytest_durable import DurableTestError, errors


def _package_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(pytest_durable.__path__, prefix="pytest_durable.")
    )


# Not errors but signals the package raises into the SDK, which must subclass the SDK's own class.
_SDK_SIGNALS = {"pytest_durable.cassette.replay.seams.StepBodyBlocked"}
# Signals that must get past every ``except Exception`` (the SDK's included): BaseExceptions on
# purpose, like SystemExit. They still live in the errors module.
_BASE_SIGNALS = {"SandboxKilled"}


def _exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _package_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__.startswith("pytest_durable")
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    for signal in _SDK_SIGNALS:
        assert found.pop(signal, None) is not None, f"{signal} is gone: drop it from _SDK_SIGNALS"
    return [found[key] for key in sorted(found)]


def test_every_exception_is_defined_in_the_errors_module() -> None:
    elsewhere = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _exception_classes()
        if cls.__module__ != "pytest_durable.errors"
    ]
    assert elsewhere == [], (
        "define exceptions in pytest_durable/errors.py (and import them where they are raised): "
        + ", ".join(elsewhere)
    )


def test_every_exception_derives_from_the_root() -> None:
    classes = _exception_classes()
    assert len(classes) > 30  # the walk really found the package's exceptions
    orphans = [
        cls.__qualname__
        for cls in classes
        if not issubclass(cls, DurableTestError) and cls.__qualname__ not in _BASE_SIGNALS
    ]
    assert orphans == [], f"derive these from DurableTestError: {orphans}"


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (errors.MismatchError, AssertionError),
        (errors.NonDeterminismError, AssertionError),
        (errors.CassetteMissingError, FileNotFoundError),
        (errors.CassetteFormatError, ValueError),
        (errors.NetworkBlockedError, OSError),
        (errors.HandlerTimeoutError, RuntimeError),
    ],
)
def test_errors_keep_the_builtin_base_callers_catch(
    error: type[BaseException], builtin: type[BaseException]
) -> None:
    assert issubclass(error, builtin)


def test_existing_import_paths_still_work() -> None:
    from pytest_durable import DurableRunError, HandlerProcessCrash  # noqa: PLC0415
    from pytest_durable.assertions import MismatchError  # noqa: PLC0415
    from pytest_durable.cassette import NonDeterminismError  # noqa: PLC0415
    from pytest_durable.service import InvalidParameterValueException  # noqa: PLC0415

    assert DurableRunError is errors.DurableRunError
    assert HandlerProcessCrash is errors.HandlerProcessCrash
    assert MismatchError is errors.MismatchError
    assert NonDeterminismError is errors.NonDeterminismError
    assert InvalidParameterValueException is errors.InvalidParameterValueException
