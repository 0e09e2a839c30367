"""Checkpoint tokens: each checkpoint consumes the current token and returns the next one; only the
latest token of the running invocation is accepted (docs/service-semantics.md#checkpoints)."""

import pytest
from service_helpers import (
    TOKEN_PATTERN,
    Env,
    Running,
    assert_token_rejected,
    execution_succeed,
    rejected,
    step_start,
    step_succeed,
    wait_start,
)

from pytest_durable.service import InvalidParameterValueException, ResourceConflictException


def test_envelope_token_matches_the_model_pattern_and_is_fresh_per_invocation(env: Env):
    arn = env.start()
    first = env.invoke(arn)
    env.service.end_invocation(arn, {"Status": "PENDING"})
    second = env.invoke(arn)
    for token in (first, second):
        assert TOKEN_PATTERN.fullmatch(token)  # botocore model: [A-Za-z0-9+/]+={0,2}
        assert 1 <= len(token) <= 2048
    assert first != second


def test_each_checkpoint_returns_a_new_token_in_the_model_alphabet(run: Running):
    seen = {run.token}
    for index in range(5):
        response = run.env.checkpoint(run.arn, run.token, [step_start(f"s{index}")])
        token = response["CheckpointToken"]
        assert TOKEN_PATTERN.fullmatch(token)
        assert token not in seen
        seen.add(token)
        run.token = token


def test_a_checkpoint_consumes_the_token_it_used(run: Running):
    used = run.token
    run.cp(step_start("s1"))
    error = rejected(lambda: run.env.checkpoint(run.arn, used, [step_start("s2")]))
    assert_token_rejected(error)
    assert "s2" not in run.execution.operations


def test_an_empty_refresh_also_consumes_the_token(run: Running):
    # docs/service-semantics.md#checkpoints: refreshes are sent as Updates: [] and thread the token
    # like any batch.
    used = run.token
    response = run.cp()
    assert response["CheckpointToken"] != used
    assert_token_rejected(rejected(lambda: run.env.checkpoint(run.arn, used, [])))


def test_the_returned_token_is_accepted_by_the_next_checkpoint(run: Running):
    run.cp(step_start("s1"))
    response = run.cp(step_succeed("s1"))
    assert run.ops(response)["s1"]["Status"] == "SUCCEEDED"


def test_a_stale_token_is_rejected_even_with_the_current_token_still_unused(run: Running):
    stale = run.token
    run.cp()
    current = run.token
    assert_token_rejected(rejected(lambda: run.env.checkpoint(run.arn, stale, [])))
    # The rejection did not consume the current token.
    response = run.env.checkpoint(run.arn, current, [step_start("s1")])
    assert "s1" in run.ops(response)


def test_a_foreign_token_from_another_execution_is_rejected(env: Env):
    ours = Running(env, env.start())
    theirs = Running(env, env.start())
    error = rejected(lambda: env.checkpoint(ours.arn, theirs.token, [step_start("s1")]))
    assert_token_rejected(error)
    assert "s1" not in ours.execution.operations
    # Both executions' own tokens still work afterwards.
    assert "s1" in ours.ops(ours.cp(step_start("s1")))
    assert "s9" in theirs.ops(theirs.cp(step_start("s9")))


def test_an_invented_token_is_rejected(run: Running):
    assert_token_rejected(rejected(lambda: run.env.checkpoint(run.arn, "AAAA", [])))


def test_a_new_invocation_invalidates_the_previous_invocations_tokens(env: Env):
    arn = env.start()
    envelope_token = env.invoke(arn)
    last = env.checkpoint(arn, envelope_token, [wait_start("w1")])["CheckpointToken"]
    env.service.end_invocation(arn, {"Status": "PENDING"})
    fresh = env.invoke(arn)
    for old in (envelope_token, last):
        assert_token_rejected(rejected(lambda old=old: env.checkpoint(arn, old, [])))
    assert "CheckpointToken" in env.checkpoint(arn, fresh, [])


def test_no_token_is_accepted_between_invocations(env: Env):
    arn = env.start()
    token = env.invoke(arn)
    last = env.checkpoint(arn, token, [wait_start("w1")])["CheckpointToken"]
    env.service.end_invocation(arn, {"Status": "PENDING"})
    assert_token_rejected(rejected(lambda: env.checkpoint(arn, last, [])))
    assert_token_rejected(
        rejected(
            lambda: env.service.get_durable_execution_state(
                DurableExecutionArn=arn, CheckpointToken=last
            )
        )
    )


def test_tokens_are_rejected_after_the_execution_succeeded(env: Env):
    arn = env.start()
    token = env.invoke(arn)
    last = env.checkpoint(arn, token, [step_start("s1"), step_succeed("s1")])["CheckpointToken"]
    env.service.end_invocation(arn, {"Status": "SUCCEEDED", "Result": '"done"'})
    error = rejected(lambda: env.checkpoint(arn, last, []))
    assert_token_rejected(error)
    assert "SUCCEEDED" in error.message


def test_the_token_before_an_execution_update_is_dead_once_it_is_accepted(run: Running):
    used = run.token
    response = run.cp(execution_succeed('"big"'))
    assert "CheckpointToken" not in response
    assert_token_rejected(rejected(lambda: run.env.checkpoint(run.arn, used, [])))


def test_tokens_are_rejected_after_the_execution_is_stopped(run: Running):
    run.env.service.stop_durable_execution(DurableExecutionArn=run.arn)
    assert_token_rejected(rejected(lambda: run.cp(step_start("s1"))))
    assert "s1" not in run.execution.operations


def test_reading_state_checks_the_token_but_does_not_consume_it(run: Running):
    stale = run.token
    run.cp(step_start("s1"))
    assert_token_rejected(
        rejected(
            lambda: run.env.service.get_durable_execution_state(
                DurableExecutionArn=run.arn, CheckpointToken=stale
            )
        )
    )
    before = run.token
    run.state()
    run.state()
    assert run.token == before
    assert "s2" in run.ops(run.cp(step_start("s2")))


def test_checkpoint_on_an_unknown_execution_is_an_invalid_parameter(env: Env):
    # CheckpointDurableExecution declares no ResourceNotFoundException in the botocore model.
    arn = env.start()
    token = env.invoke(arn)
    with pytest.raises(InvalidParameterValueException) as caught:
        env.checkpoint(arn.replace("/durable-execution/", "/durable-execution/x"), token, [])
    assert caught.value.code == "InvalidParameterValueException"


def test_only_one_invocation_at_a_time(env: Env):
    arn = env.start()
    env.invoke(arn)
    with pytest.raises(ResourceConflictException):
        env.service.begin_invocation(arn)
