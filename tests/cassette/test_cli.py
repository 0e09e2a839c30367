"""``pytest-durable replay``: the determinism check for CI jobs outside pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cassette_handlers import BODIES, orders

from pytest_durable.cassette.local import RecordingEnvironment, local_cassette
from pytest_durable.cassette.recording.format import write_cassette
from pytest_durable.cli import main

HERE = Path(__file__).parent


@pytest.fixture
def recorded(tmp_path):
    with RecordingEnvironment() as env:
        env.run(orders, {"order": 1})
    BODIES.clear()
    return write_cassette(local_cassette(env), tmp_path / "cassettes" / "orders.yaml")


def test_unchanged_code_exits_0(recorded, capsys, monkeypatch):
    monkeypatch.chdir(HERE)
    assert main(["replay", str(recorded), "--handler", "cassette_handlers:orders"]) == 0
    out = capsys.readouterr().out
    assert "no divergence; 3 recorded operations replayed" in out
    assert "1 recorded execution(s) in 1 cassette(s): all replay clean" in out
    assert BODIES == []


def test_the_handler_named_in_the_cassette_is_the_default(recorded, capsys, monkeypatch):
    monkeypatch.chdir(HERE)
    assert main(["replay", str(recorded.parent)]) == 0


def test_a_divergence_exits_1_with_the_report(recorded, capsys, monkeypatch):
    monkeypatch.chdir(HERE)
    status = main(["replay", str(recorded), "--handler", "cassette_handlers:orders_reordered"])
    out = capsys.readouterr().out
    assert status == 1
    assert "reordered STEP 'ship' and STEP 'charge' swapped places" in out
    assert "divergences found" in out


def test_errors_exit_2(recorded, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(HERE)
    assert main(["replay", str(tmp_path / "missing.yaml")]) == 2
    assert main(["replay", str(recorded), "--handler", "no_such_module:handler"]) == 2
    assert main(["replay", str(recorded), "--handler", "cassette_handlers"]) == 2
    assert main(["replay", str(recorded), "--execution", "nope"]) == 2
    err = capsys.readouterr().err
    assert "No cassette or directory" in err
    assert "cannot import no_such_module:handler" in err
    assert "no recorded execution matching --execution nope" in err


def test_nothing_to_replay_is_an_error_not_a_clean_pass(tmp_path, capsys):
    # Regression: an empty directory (a wrong path in CI) reported "all replay clean", exit 0.
    assert main(["replay", str(tmp_path)]) == 2
    assert "no recorded execution" in capsys.readouterr().err


def test_non_cassette_yaml_in_a_directory_is_skipped(recorded, tmp_path, monkeypatch):
    monkeypatch.chdir(HERE)
    (recorded.parent / "golden.history.yaml").write_text("ExpectedExecutionHistory: []\n")
    assert main(["replay", str(recorded.parent), "--handler", "cassette_handlers:orders"]) == 0


def test_the_command_runs_as_a_program(recorded):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_durable.cli",
            "replay",
            str(recorded),
            "--handler",
            "cassette_handlers:orders_renamed",
            "--path",
            str(HERE),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=recorded.parent,
    )
    assert completed.returncode == 1, completed.stderr
    assert "renamed   STEP 'charge' (#2 at the top level) is now named 'bill'" in completed.stdout
