"""Fetching the requirement files: cache hits stay offline, a failed download says what to run,
and only the requirement files (and the license) are unpacked."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import conformance_source
import pytest
from conformance_source import RequirementsUnavailable


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(conformance_source.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(conformance_source, "_outcome", None)
    return tmp_path / "cache"


def _wheel(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def test_the_cache_follows_the_environment_variable(cache):
    assert conformance_source.cache_root() == cache
    assert (
        conformance_source.package_dir() == cache / "aws-durable-execution-conformance-tests-1.0.0"
    )


def test_a_filled_cache_is_used_without_the_network(cache, monkeypatch):
    suite = conformance_source.package_dir() / "requirements" / "step"
    suite.mkdir(parents=True)
    (suite / "1-1.yaml").write_text("description: cached\n")

    def no_network(*args, **kwargs):
        raise AssertionError("pip was run although the cache is filled")

    monkeypatch.setattr(subprocess, "run", no_network)
    assert conformance_source.requirements_dir() == suite.parent


def test_a_failed_download_fails_with_the_command_and_is_remembered(cache, monkeypatch):
    calls = []

    def failing_pip(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution")

    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(RequirementsUnavailable) as caught:
        conformance_source.requirements_dir()
    message = str(caught.value)
    assert "could not be downloaded" in message
    assert "No matching distribution" in message
    assert "pip download aws-durable-execution-conformance-tests==1.0.0" in message
    assert "--python-version 3.14 --only-binary=:all: --no-deps" in message
    assert conformance_source.CACHE_ENV in message
    with pytest.raises(RequirementsUnavailable):
        conformance_source.requirements_dir()
    assert len(calls) == 1  # one attempt per process
    assert not conformance_source.package_dir().exists()  # nothing half-made is cached


def test_a_wheel_with_another_digest_is_refused(cache, monkeypatch):
    def fake_pip(command, **kwargs):
        destination = Path(command[command.index("-d") + 1])
        destination.mkdir(parents=True, exist_ok=True)
        _wheel(destination / conformance_source.WHEEL, {"x.txt": "not the real one"})
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    with pytest.raises(RequirementsUnavailable, match="not the pinned"):
        conformance_source.requirements_dir()


def test_only_requirement_files_and_the_license_are_unpacked(cache, tmp_path, monkeypatch):
    prefix = "aws_durable_execution_conformance_tests"
    built = _wheel(
        tmp_path / "built.whl",
        {
            f"{prefix}/test_requirements/step/1-1.yaml": "description: one\n",
            f"{prefix}/test_requirements/map/9-1.yaml": "description: nine\n",
            f"{prefix}/LICENSE": "Apache-2.0",
            f"{prefix}/NOTICE": "Amazon",
            f"{prefix}/validate.py": "print('never unpacked')",
            f"{prefix}/test_requirements/../../escape.yaml": "outside",
        },
    )
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    monkeypatch.setattr(conformance_source, "WHEEL_SHA256", digest)

    def fake_pip(command, **kwargs):
        destination = Path(command[command.index("-d") + 1])
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copy(built, destination / conformance_source.WHEEL)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    package = conformance_source.requirements_dir().parent
    found = sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file())
    assert found == [
        "LICENSE",
        "NOTICE",
        "SOURCE",
        "requirements/map/9-1.yaml",
        "requirements/step/1-1.yaml",
    ]
    assert not list(cache.rglob("escape.yaml"))
    assert not list(cache.glob(".download-*"))  # the scratch directory is gone
