"""How an execution ends: the invocation output, or an EXECUTION SUCCEED/FAIL update for results
too large to return (docs/service-semantics.md#envelope; #checkpoints, token
threading case 2)."""

from service_helpers import (
    T0,
    Env,
    Running,
    assert_output,
    at,
    execution_fail,
    execution_succeed,
    step_start,
    step_succeed,
    wait_start,
)

BIG = '"' + "x" * 1000 + '"'
ERROR = {"ErrorType": "RuntimeError", "ErrorMessage": "too big to return"}


def _events(env: Env, arn: str) -> list[str]:
    return [e["EventType"] for e in env.history(arn)]


def test_execution_succeed_update_answer_has_no_token(run: Running):
    response = run.cp(step_start("s"), step_succeed("s"), execution_succeed(BIG))
    assert "CheckpointToken" not in response
    assert_output("CheckpointDurableExecution", response)
    assert list(run.ops(response)) == ["s"]


def test_execution_update_stores_no_operation(run: Running):
    update = execution_succeed(BIG, op_id="execution-result-1700000000123")
    run.cp(update)
    assert "execution-result-1700000000123" not in run.execution.operations


def test_result_empty_string_takes_the_result_from_the_update(run: Running):
    run.env.advance(seconds=1)
    run.cp(execution_succeed(BIG))
    end = run.env.service.end_invocation(run.arn, {"Status": "SUCCEEDED", "Result": ""})
    assert (end.status, end.execution_status.value) == ("SUCCEEDED", "SUCCEEDED")
    described = run.env.describe(run.arn)
    assert described["Status"] == "SUCCEEDED"
    assert described["Result"] == BIG
    assert described["EndTimestamp"] == at(T0 + 1_000)
    last = run.env.history(run.arn)[-1]
    assert last["EventType"] == "ExecutionSucceeded"
    assert last["ExecutionSucceededDetails"] == {"Result": {"Payload": BIG, "Truncated": False}}


def test_bare_failed_output_takes_the_error_from_the_update(run: Running):
    run.cp(execution_fail(ERROR))
    end = run.env.service.end_invocation(run.arn, {"Status": "FAILED"})
    assert end.execution_status.value == "FAILED"
    described = run.env.describe(run.arn)
    assert described["Error"] == ERROR
    assert "Result" not in described
    last = run.env.history(run.arn)[-1]
    assert last["EventType"] == "ExecutionFailed"
    assert last["ExecutionFailedDetails"] == {"Error": {"Payload": ERROR, "Truncated": False}}


def test_execution_update_does_not_end_the_execution_before_the_invocation_ends(run: Running):
    run.cp(execution_succeed(BIG))
    assert run.env.describe(run.arn)["Status"] == "RUNNING"
    assert _events(run.env, run.arn) == ["ExecutionStarted"]


def test_ordinary_success_output_is_the_result(env: Env):
    arn = env.start()
    token = env.invoke(arn)
    env.checkpoint(arn, token, [step_start("s"), step_succeed("s")])
    env.service.end_invocation(arn, {"Status": "SUCCEEDED", "Result": '{"total": 3}'})
    assert env.describe(arn)["Result"] == '{"total": 3}'
    root = env.service.execution(arn).operations[arn.rsplit("/", 1)[-1]]
    assert root.status.value == "SUCCEEDED"
    assert root.end_ms == T0


def test_null_result_is_kept_as_the_json_text(env: Env):
    # docs/service-semantics.md#envelope: a None return gives Result "null", not an absent result.
    arn = env.start()
    env.invoke(arn)
    env.service.end_invocation(arn, {"Status": "SUCCEEDED", "Result": "null"})
    assert env.describe(arn)["Result"] == "null"


def test_failed_output_with_error_fails_the_execution(env: Env):
    arn = env.start()
    env.invoke(arn)
    env.service.end_invocation(arn, {"Status": "FAILED", "Error": ERROR})
    assert env.describe(arn)["Status"] == "FAILED"
    assert env.describe(arn)["Error"] == ERROR


def test_pending_output_keeps_the_execution_running_and_reinvocable(run: Running):
    run.cp(wait_start("w"))
    end = run.env.service.end_invocation(run.arn, {"Status": "PENDING"})
    assert (end.status, end.execution_status.value) == ("PENDING", "RUNNING")
    run.env.invoke(run.arn)  # a new invocation may begin


def test_a_crashed_invocation_keeps_the_execution_running(env: Env):
    arn = env.start()
    env.invoke(arn)
    crash = {"ErrorType": "Runtime.ExitError", "ErrorMessage": "exit status 1"}
    end = env.service.end_invocation(arn, None, failure=crash)
    assert (end.status, end.execution_status.value) == ("INVOCATION_FAILED", "RUNNING")
    assert env.describe(arn)["Status"] == "RUNNING"
    env.invoke(arn)


def test_a_crash_after_an_execution_update_does_not_leak_its_result(env: Env):
    arn = env.start()
    token = env.invoke(arn)
    env.checkpoint(arn, token, [execution_succeed(BIG)])
    env.service.end_invocation(arn, None, failure={"ErrorType": "Boom", "ErrorMessage": "x"})
    env.invoke(arn)
    env.service.end_invocation(arn, {"Status": "SUCCEEDED", "Result": '"small"'})
    assert env.describe(arn)["Result"] == '"small"'


def test_execution_succeeded_comes_after_the_last_invocation_completed(run: Running):
    run.cp(step_start("s"), step_succeed("s"))
    run.cp(execution_succeed(BIG))
    run.env.service.end_invocation(run.arn, {"Status": "SUCCEEDED", "Result": ""})
    assert _events(run.env, run.arn)[-2:] == ["InvocationCompleted", "ExecutionSucceeded"]
