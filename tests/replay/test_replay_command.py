"""``pytest-durable replay --arn/--function/--history`` and the ``durable_replay`` fixture, with
AWS played by our own HTTP service (found through ``AWS_ENDPOINT_URL_LAMBDA``, as boto3 does)."""

from __future__ import annotations

from pathlib import Path

import pytest
from production_handlers import BODIES, checkout, checkout_renamed

from pytest_durable.cli import main
from pytest_durable.errors import NonDeterminismError

HERE = Path(__file__).parent


@pytest.fixture
def aws(production, monkeypatch, tmp_path):
    """The user's usual AWS configuration, pointing at the stand-in (no profile files)."""
    monkeypatch.chdir(HERE)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name, value in production.env_vars().items():
        monkeypatch.setenv(name, value)
    return production


def test_every_running_execution_of_a_function_replays_clean(aws, capsys):
    arguments = ["replay", "--function", "checkout"]
    assert main([*arguments, "--handler", "production_handlers:checkout"]) == 0
    out = capsys.readouterr().out
    assert "execution" in out and "recorded" in out and "replay" in out  # the table's header
    assert out.count("RUNNING   clean") == 2
    assert "2 execution(s): 2 clean, 0 diverged, 0 could not be checked" in out
    assert BODIES == []


def test_a_divergence_prints_the_report_and_exits_1(aws, capsys):
    status = main(
        ["replay", "--function", "checkout", "--handler", "production_handlers:checkout_renamed"]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "STEP 'reserve' (#1 at the top level) is now named 'hold'" in out
    assert "would fail after a deploy with" in out
    assert "0 clean, 2 diverged" in out


def test_statuses_choose_the_executions(aws, capsys):
    arguments = ["replay", "--function", "checkout", "--status", "SUCCEEDED"]
    assert main([*arguments, "--handler", "production_handlers:checkout"]) == 0
    assert "1 execution(s): 1 clean" in capsys.readouterr().out


def test_no_execution_in_flight_is_clean_and_says_so(aws, capsys):
    arguments = ["replay", "--function", "checkout", "--status", "TIMED_OUT"]
    assert main([*arguments, "--handler", "production_handlers:checkout_renamed"]) == 0
    assert "no executions of checkout with status TIMED_OUT" in capsys.readouterr().out


def test_arns_and_files_together(aws, capsys, tmp_path):
    saved = aws.save_history(aws.running[1], tmp_path / "saved.json")
    arguments = ["replay", "--arn", aws.running[0], "--history", str(saved)]
    assert main([*arguments, "--handler", "production_handlers:checkout"]) == 0
    out = capsys.readouterr().out
    assert str(saved) in out
    assert "2 execution(s): 2 clean" in out


def test_an_unreadable_execution_exits_2(aws, capsys):
    missing = aws.running[0].replace("durable-execution/", "durable-execution/x")
    status = main(["replay", "--arn", missing, "--handler", "production_handlers:checkout"])
    assert status == 2
    assert "ERROR" in capsys.readouterr().out


def test_usage_errors_exit_2(aws, capsys):
    assert main(["replay", "--function", "checkout"]) == 2
    assert main(["replay", "--arn", aws.running[0], "--handler", "nope:handler"]) == 2
    assert main(["replay", "--status", "RUNNING", "--handler", "production_handlers:checkout"]) == 2
    assert main(["replay"]) == 2
    err = capsys.readouterr().err
    assert "pass --handler MODULE:FUNCTION" in err
    assert "cannot import nope:handler" in err
    assert "--status filters the executions of --function" in err
    assert "give cassettes, or production executions" in err


def test_without_credentials_the_error_says_so(production, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(HERE)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", production.url)
    status = main(
        [
            "replay",
            "--function",
            "checkout",
            "--region",
            "us-east-1",
            "--handler",
            "production_handlers:checkout",
        ]
    )
    assert status == 2
    assert "Unable to locate credentials" in capsys.readouterr().err


# ----------------------------------------------------------------- in pytest


def test_the_fixture_replays_production_executions(aws, durable_replay):
    summary = durable_replay.production(checkout, function="checkout", client=aws.client())
    assert len(summary.rows) == 2
    with pytest.raises(NonDeterminismError, match="now named 'hold'"):
        durable_replay.production(checkout_renamed, arns=aws.running, client=aws.client())


def test_the_fixture_uses_the_usual_aws_configuration(aws, durable_replay):
    by_arn = durable_replay.production(checkout, arns=aws.running[:1])
    from_file = durable_replay.production(
        checkout, files=[HERE / "histories" / "checkout-running.json"]
    )
    for summary in (by_arn, from_file):  # each one execution, read and replayed clean
        assert [row.report is not None and row.report.ok for row in summary.rows] == [True]
