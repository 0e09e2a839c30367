"""ClientToken idempotency: botocore retries a checkpoint with the same (ClientToken,
CheckpointToken); the service must answer the retry exactly as the first attempt, even though the
token is spent (docs/service-semantics.md#checkpoints). The window
is 15 minutes (the model's documentation of CheckpointDurableExecution)."""

import copy

from service_helpers import (
    Running,
    assert_token_rejected,
    rejected,
    step_start,
    step_succeed,
    wait_start,
)

WINDOW_MS = 15 * 60 * 1000


def test_a_retry_with_the_same_client_and_checkpoint_token_gets_the_identical_answer(
    run: Running,
):
    used = run.token
    batch = [step_start("s1", Name="charge"), step_succeed("s1", '"paid"')]
    first = run.env.checkpoint(run.arn, used, batch, client_token="ct-1")
    saved = copy.deepcopy(first)
    events = len(run.env.history(run.arn))

    again = run.env.checkpoint(run.arn, used, copy.deepcopy(batch), client_token="ct-1")

    assert again == saved
    assert again["CheckpointToken"] == saved["CheckpointToken"]
    # Not applied twice: no new events, the step counted one attempt.
    assert len(run.env.history(run.arn)) == events
    assert run.execution.operations["s1"].attempt == 1


def test_the_replayed_token_is_still_the_live_one(run: Running):
    used = run.token
    first = run.env.checkpoint(run.arn, used, [wait_start("w1")], client_token="ct-1")
    again = run.env.checkpoint(run.arn, used, [wait_start("w1")], client_token="ct-1")
    # The SDK continues with the replayed token; it must work.
    response = run.env.checkpoint(run.arn, again["CheckpointToken"], [])
    assert response["CheckpointToken"] != first["CheckpointToken"]


def test_a_retry_is_answered_even_after_later_checkpoints(run: Running):
    used = run.token
    first = run.cp(wait_start("w1"), client_token="ct-1")
    run.cp(step_start("s1"))
    run.cp(step_succeed("s1"))
    again = run.env.checkpoint(run.arn, used, [wait_start("w1")], client_token="ct-1")
    assert again == first


def test_a_retry_within_the_window_is_answered_and_after_it_is_a_stale_token(run: Running):
    used = run.token
    first = run.cp(wait_start("w1", seconds=3600), client_token="ct-1")

    run.env.advance(ms=WINDOW_MS - 1)
    assert run.env.checkpoint(run.arn, used, [wait_start("w1", 3600)], "ct-1") == first

    run.env.advance(ms=2)
    error = rejected(lambda: run.env.checkpoint(run.arn, used, [wait_start("w1", 3600)], "ct-1"))
    assert_token_rejected(error)


def test_the_window_is_measured_on_the_injected_clock_from_the_first_attempt(run: Running):
    used = run.token
    run.cp(wait_start("w1", seconds=3600), client_token="ct-1")
    # A retry inside the window does not extend it.
    run.env.advance(ms=WINDOW_MS // 2)
    run.env.checkpoint(run.arn, used, [wait_start("w1", 3600)], "ct-1")
    run.env.advance(ms=WINDOW_MS // 2 + 1)
    assert_token_rejected(
        rejected(lambda: run.env.checkpoint(run.arn, used, [wait_start("w1", 3600)], "ct-1"))
    )


def test_the_same_pair_with_different_updates_is_rejected_and_changes_nothing(run: Running):
    used = run.token
    run.cp(step_start("s1"), client_token="ct-1")
    before = run.env.snapshot(run.arn)
    error = rejected(
        lambda: run.env.checkpoint(run.arn, used, [step_start("s2")], client_token="ct-1")
    )
    assert "ct-1" in error.message
    # Not a token problem: the SDK must not retry it as one (docs/service-semantics.md#errors).
    assert not error.message.startswith("Invalid checkpoint token")
    assert run.env.snapshot(run.arn) == before


def test_a_different_client_token_with_a_spent_checkpoint_token_is_stale(run: Running):
    used = run.token
    run.cp(wait_start("w1"), client_token="ct-1")
    error = rejected(lambda: run.env.checkpoint(run.arn, used, [wait_start("w1")], "ct-2"))
    assert_token_rejected(error)


def test_without_a_client_token_a_repeat_is_stale(run: Running):
    used = run.token
    run.cp(wait_start("w1"))
    assert_token_rejected(rejected(lambda: run.env.checkpoint(run.arn, used, [wait_start("w1")])))


def test_the_same_client_token_with_the_next_checkpoint_token_is_a_new_request(run: Running):
    run.cp(wait_start("w1"), client_token="ct-1")
    response = run.cp(step_start("s1"), client_token="ct-1")
    assert set(run.ops(response)) == {"s1"}
    assert run.execution.operations["s1"].status.value == "STARTED"


def test_a_rejected_batch_is_not_remembered_for_its_client_token(run: Running):
    used = run.token
    bad = [step_start("s1", ParentId="no-such-context")]
    rejected(lambda: run.env.checkpoint(run.arn, used, bad, client_token="ct-1"))
    # The corrected batch under the same pair is applied, not refused as a mismatch.
    response = run.env.checkpoint(run.arn, used, [step_start("s1")], client_token="ct-1")
    assert "s1" in run.ops(response)


def test_client_tokens_are_scoped_to_their_execution(run: Running):
    other = Running(run.env, run.env.start())
    first = run.cp(wait_start("w1"), client_token="shared")
    response = other.cp(step_start("s1"), client_token="shared")
    assert set(other.ops(response)) == {"s1"}
    assert response != first
