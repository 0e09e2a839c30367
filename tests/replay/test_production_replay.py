"""Replaying production executions: read through boto3 from our own HTTP service standing in
for AWS (by ARN, by function and status), and from saved history files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from production_handlers import BODIES, checkout, checkout_renamed, checkout_renamed_later

from pytest_durable.cassette.replay.bulk import replay_production
from pytest_durable.cassette.replay.production import (
    execution_arns,
    recorded_from_aws,
    recorded_from_file,
)
from pytest_durable.errors import HistoryFileError, NonDeterminismError

HERE = Path(__file__).parent


def test_an_execution_read_by_arn_replays_clean_without_running_a_step(production):
    recorded = recorded_from_aws(production.client(), production.running[0])
    assert recorded.status == "RUNNING"
    assert json.loads(recorded.input_payload) == {"order": 1}
    assert "reserve" in [op.get("Name") for op in recorded.operations if op["Type"] == "STEP"]
    summary = replay_production(checkout, arns=production.running, client=production.client())
    assert summary.ok, str(summary)
    assert summary.exit_status == 0
    assert BODIES == []


def test_a_renamed_step_is_a_divergence_for_every_execution_in_flight(production):
    summary = replay_production(checkout_renamed, function="checkout", client=production.client())
    assert [row.source for row in summary.rows] == list(reversed(production.running))
    assert [row.verdict for row in summary.rows] == ["DIVERGED", "DIVERGED"]
    assert summary.exit_status == 1
    assert "STEP 'reserve' (#1 at the top level) is now named 'hold'" in str(summary.diverged[0])
    with pytest.raises(NonDeterminismError, match="is now named 'hold'"):
        summary.raise_for_divergence()
    assert BODIES == []


def test_only_executions_past_a_change_diverge(production):
    """The RUNNING executions wait before 'charge': renaming it breaks none of them; the
    finished one ran it."""
    running = replay_production(
        checkout_renamed_later, function="checkout", client=production.client()
    )
    assert running.ok, str(running)
    everything = replay_production(
        checkout_renamed_later,
        function="checkout",
        statuses=["RUNNING", "SUCCEEDED"],
        client=production.client(),
    )
    verdicts = {row.source: row.verdict for row in everything.rows}
    assert verdicts[production.finished[0]] == "DIVERGED"
    assert [verdicts[arn] for arn in production.running] == ["clean", "clean"]


def _page_size(size):
    """A botocore hook giving every request of the operation pages of ``size`` items."""

    def small_pages(params, **_):
        params["MaxItems"] = size

    return small_pages


def test_listing_uses_every_page(production):
    client = production.client()
    client.meta.events.register(
        "provide-client-params.lambda.ListDurableExecutionsByFunction",
        _page_size(1),
    )
    arns = list(execution_arns(client, "checkout", ["RUNNING", "SUCCEEDED"]))
    assert sorted(arns) == sorted(production.running + production.finished)


def test_history_pages_are_all_read(production):
    client = production.client()
    client.meta.events.register(
        "provide-client-params.lambda.GetDurableExecutionHistory",
        _page_size(2),
    )
    recorded = recorded_from_aws(client, production.finished[0])
    assert recorded.status == "SUCCEEDED"
    assert recorded.history[-1]["EventType"] == "ExecutionSucceeded"
    assert len(recorded.history) > 2


def test_an_execution_that_cannot_be_read_is_a_row_not_the_end(production):
    missing = production.running[0].replace("durable-execution/", "durable-execution/x")
    summary = replay_production(
        checkout, arns=[missing, production.running[1]], client=production.client()
    )
    assert [row.verdict for row in summary.rows] == ["ERROR", "clean"]
    assert "ResourceNotFoundException" in (summary.rows[0].error or "")
    assert summary.exit_status == 2
    with pytest.raises(AssertionError, match="could not be replayed"):
        summary.raise_for_divergence()


# ----------------------------------------------------------------- saved files


def test_a_saved_history_file_replays_like_the_execution(production, tmp_path):
    saved = production.save_history(production.running[0], tmp_path / "history.json")
    recorded = recorded_from_file(saved)
    assert recorded.status == "RUNNING"
    assert json.loads(recorded.input_payload) == {"order": 1}
    assert replay_production(checkout, files=[saved]).ok
    renamed = replay_production(checkout_renamed, files=[saved])
    assert renamed.exit_status == 1
    assert BODIES == []


def test_a_saved_file_with_the_execution_merged_in_keeps_its_arn(production, tmp_path):
    saved = production.save_history(production.finished[0], tmp_path / "h.json", merged=True)
    recorded = recorded_from_file(saved)
    assert recorded.arn == production.finished[0]
    assert recorded.status == "SUCCEEDED"
    assert recorded.result is not None


def test_the_status_of_a_bare_history_comes_from_its_events(production, tmp_path):
    saved = production.save_history(production.finished[0], tmp_path / "h.json")
    recorded = recorded_from_file(saved)
    assert recorded.status == "SUCCEEDED"
    assert json.loads(recorded.result or "null")["charged"] == "charge-done"


def test_epoch_second_timestamps_are_read_too(production, tmp_path):
    saved = production.save_history(production.running[0], tmp_path / "h.json")
    document = json.loads(saved.read_text())
    for event in document["Events"]:
        event["EventTimestamp"] = _epoch(event["EventTimestamp"])
    saved.write_text(json.dumps(document))
    assert replay_production(checkout, files=[saved]).ok


def _epoch(text: str) -> float:
    import datetime as dt  # noqa: PLC0415

    return dt.datetime.fromisoformat(text).timestamp()


def test_a_state_file_gives_the_operations(production, tmp_path):
    operations = production.environment.service.execution(production.running[0]).operations
    state = {"Operations": [op.to_wire() for op in operations.values()]}
    saved = tmp_path / "state.json"
    saved.write_text(json.dumps(state, default=lambda value: value.isoformat()))
    assert replay_production(checkout, files=[saved]).ok
    assert not replay_production(checkout_renamed, files=[saved]).ok


def test_bad_files_are_rows_that_say_what_is_wrong(tmp_path):
    (tmp_path / "text.json").write_text("not json")
    (tmp_path / "other.json").write_text('{"Functions": []}')
    (tmp_path / "partial.json").write_text('{"Events": [{"EventType": "StepStarted"}]}')
    with pytest.raises(HistoryFileError, match="neither 'Events' nor 'Operations'"):
        recorded_from_file(tmp_path / "other.json")
    summary = replay_production(
        checkout,
        files=[tmp_path / name for name in ("text.json", "other.json", "partial.json", "no.json")],
    )
    errors = [row.error or "" for row in summary.rows]
    assert "is not JSON" in errors[0]
    assert "get-durable-execution-history" in errors[1]
    assert "no ExecutionStarted event" in errors[2]
    assert "No history file" in errors[3]
    assert summary.exit_status == 2


def test_a_truncated_payload_is_noted(production, tmp_path):
    saved = production.save_history(production.running[0], tmp_path / "h.json")
    document = json.loads(saved.read_text())
    for event in document["Events"]:
        if event["EventType"] == "StepSucceeded":
            event["StepSucceededDetails"]["Result"]["Truncated"] = True
    saved.write_text(json.dumps(document))
    [report] = replay_production(checkout, files=[saved]).reports
    assert any("cut short (Truncated): reserve (StepSucceeded)" in note for note in report.notes)


def test_the_committed_example_file_replays(tmp_path):
    """histories/checkout-running.json was saved from a run of ``checkout`` in this shape."""
    summary = replay_production(checkout, files=[HERE / "histories" / "checkout-running.json"])
    assert summary.ok, str(summary)
