"""A checkpoint batch is applied all or nothing: one invalid update anywhere leaves operations,
history, token, timers, pending changes and the execution outcome exactly as they were
(docs/service-semantics.md#checkpoints: the SDK's local state changes only through the service's
answers, so a half applied batch would desynchronise them)."""

import pytest
from service_helpers import (
    Running,
    callback_start,
    context_start,
    context_succeed,
    execution_succeed,
    rejected,
    step_retry,
    step_start,
    step_succeed,
    wait_start,
)

INVALID = step_start("bad", ParentId="no-such-context")

# A batch that touches every kind of operation and would change a lot if it were applied.
VALID = [
    step_start("s-new", Name="fresh"),
    step_succeed("s-new", '"value"'),
    step_succeed("s-old", '"finished"'),  # completes an operation started before
    wait_start("w-new", seconds=30),
    callback_start("cb-new", timeout=60),
    context_start("c-new"),
    step_start("child", ParentId="c-new"),
    step_retry("s-retry", delay=3),
]


def _prepare(run: Running) -> None:
    run.cp(step_start("s-old"), step_start("s-retry"), context_start("c-old"))


@pytest.mark.parametrize("position", [0, 3, len(VALID)], ids=["first", "middle", "last"])
def test_one_invalid_update_anywhere_changes_nothing(run: Running, position: int):
    _prepare(run)
    batch = [*VALID[:position], INVALID, *VALID[position:]]
    before = run.env.snapshot(run.arn)
    history = run.env.history(run.arn)
    state = run.state()
    token = run.token

    error = rejected(lambda: run.env.checkpoint(run.arn, token, batch))

    assert error.message.startswith(f"Updates[{position}] ")
    assert run.env.snapshot(run.arn) == before  # every field of the execution record
    assert run.env.history(run.arn) == history
    assert run.state() == state
    assert run.env.service.next_timer_ms(run.arn) == before.timers[run.execution_id]


def test_the_token_survives_a_rejected_batch_and_the_corrected_batch_applies_once(run: Running):
    _prepare(run)
    token = run.token
    rejected(lambda: run.env.checkpoint(run.arn, token, [*VALID, INVALID]))
    response = run.env.checkpoint(run.arn, token, VALID)
    assert set(run.ops(response)) == {u["Id"] for u in VALID}
    started = [e for e in run.env.history(run.arn) if e["EventType"] == "StepStarted"]
    assert [e["Id"] for e in started].count("s-new") == 1


def test_a_rejected_batch_does_not_deliver_or_swallow_pending_changes(run: Running):
    # A callback answered mid-invocation must reach the handler in the next accepted answer,
    # not be used up by a response that was never sent.
    response = run.cp(callback_start("cb"))
    callback_id = run.ops(response)["cb"]["CallbackDetails"]["CallbackId"]
    run.env.service.send_durable_execution_callback_success(CallbackId=callback_id, Result=b'"y"')

    rejected(lambda: run.env.checkpoint(run.arn, run.token, [step_start("s"), INVALID]))

    delivered = run.ops(run.cp())
    assert delivered["cb"]["Status"] == "SUCCEEDED"
    assert delivered["cb"]["CallbackDetails"]["Result"] == '"y"'


def test_a_rejected_batch_leaves_a_due_wait_for_the_next_accepted_answer(run: Running):
    run.cp(wait_start("w", seconds=5))
    run.env.advance(seconds=5)
    before = run.env.snapshot(run.arn)

    rejected(lambda: run.env.checkpoint(run.arn, run.token, [INVALID]))

    assert run.env.snapshot(run.arn) == before
    assert run.ops(run.cp())["w"]["Status"] == "SUCCEEDED"


def test_a_rejected_batch_with_an_execution_update_does_not_complete_the_execution(
    run: Running,
):
    before = run.env.snapshot(run.arn)
    rejected(lambda: run.env.checkpoint(run.arn, run.token, [INVALID, execution_succeed('"x"')]))
    assert run.env.snapshot(run.arn) == before
    # The token was not withheld: the handler can still checkpoint.
    assert "CheckpointToken" in run.cp(step_start("s"))


def test_a_rejected_batch_reaches_no_checkpoint_listener(run: Running):
    calls = []
    run.env.service.add_checkpoint_listener(lambda *args: calls.append(args))
    rejected(lambda: run.env.checkpoint(run.arn, run.token, [context_succeed("c"), INVALID]))
    assert calls == []
    run.cp(step_start("s"))
    assert len(calls) == 1
