"""The example suite's cassettes (fixtures/cassettes/examples) replay offline in cloud mode, and
the current example code replays every recorded order without a divergence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_durable.cassette.recording.format import read_cassette

ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / "fixtures" / "cassettes" / "examples" / "test_order_workflow_cloud"


def test_the_example_suite_has_recorded_cassettes():
    cassettes = sorted(RECORDED.glob("*.yaml"))
    assert [path.stem for path in cassettes] == [
        "test_an_order_ships",
        "test_an_order_without_items_ships_nothing",
    ]
    for path in cassettes:
        cassette = read_cassette(path)
        assert cassette.source == "cloud"
        assert cassette.execution(0).handler == "order_workflow:handler"
        assert "000000000000" in cassette.execution(0).arn  # recorded with the account masked


def test_the_example_cloud_tests_replay_offline(pytester: pytest.Pytester) -> None:
    for name in ("order_workflow.py", "test_order_workflow_cloud.py"):
        (pytester.path / "examples").mkdir(exist_ok=True)
        shutil.copy(ROOT / "examples" / name, pytester.path / "examples" / name)
    shutil.copytree(ROOT / "fixtures", pytester.path / "fixtures")

    # A subprocess: the example modules may already be imported in this process.
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "examples/test_order_workflow_cloud.py",
        "--durable-mode=cloud",
        "-q",
    )
    result.assert_outcomes(passed=5)
    assert "recorded:" not in result.stdout.str()
