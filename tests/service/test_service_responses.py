"""Checkpoint answers: NewExecutionState.Operations holds complete Operation objects for every
operation the batch touched and every operation that changed since the handler last saw state
(docs/service-semantics.md#checkpoints and #operations).
The SDK replaces its local copy with what is returned, so every field must be there."""

import re

from service_helpers import (
    T0,
    Env,
    Running,
    assert_shape,
    at,
    callback_start,
    context_start,
    context_succeed,
    invoke_start,
    step_fail,
    step_retry,
    step_start,
    step_succeed,
    update,
    wait_start,
)


def test_step_start_echo_is_the_complete_operation(run: Running):
    run.cp(context_start("ctx", Name="outer", SubType="Map"))
    run.env.advance(ms=250)
    response = run.cp(step_start("s1", ParentId="ctx", Name="charge card", SubType="MyStep"))
    op = run.ops(response)["s1"]
    assert_shape("Operation", op)
    assert op == {
        "Id": "s1",
        "ParentId": "ctx",
        "Name": "charge card",
        "Type": "STEP",
        "SubType": "MyStep",
        "StartTimestamp": at(T0 + 250),
        "Status": "STARTED",
        "StepDetails": {"Attempt": 0},
    }


def test_completion_echo_keeps_identity_fields_from_the_start(run: Running):
    run.cp(context_start("ctx"))
    run.cp(step_start("s1", ParentId="ctx", Name="charge", SubType="Step"))
    run.env.advance(seconds=2)
    # A completion that repeats nothing but Id/Type/Action still echoes the full operation.
    op = run.ops(run.cp({"Id": "s1", "Type": "STEP", "Action": "SUCCEED", "Payload": "42"}))["s1"]
    assert (op["ParentId"], op["Name"], op["SubType"]) == ("ctx", "charge", "Step")
    assert op["StartTimestamp"] == at(T0)
    assert op["EndTimestamp"] == at(T0 + 2000)
    assert op["StepDetails"] == {"Attempt": 1, "Result": "42"}


def test_step_succeed_and_fail_count_the_attempt_and_set_the_outcome(run: Running):
    error = {"ErrorType": "ValueError", "ErrorMessage": "bad", "StackTrace": ["a", "b"]}
    ops = run.ops(run.cp(step_start("ok"), step_succeed("ok", '"v"'), step_start("ko")))
    assert ops["ok"]["Status"] == "SUCCEEDED"
    assert ops["ok"]["StepDetails"] == {"Attempt": 1, "Result": '"v"'}
    assert ops["ok"]["EndTimestamp"] == at(T0)
    assert "EndTimestamp" not in ops["ko"]
    ops = run.ops(run.cp(step_fail("ko", Error=error)))
    assert ops["ko"]["Status"] == "FAILED"
    assert ops["ko"]["StepDetails"] == {"Attempt": 1, "Error": error}
    assert_shape("Operation", ops["ko"])


def test_step_succeed_without_payload_has_no_result(run: Running):
    op = run.ops(run.cp(step_start("s"), step_succeed("s", payload=None)))["s"]
    assert op["StepDetails"] == {"Attempt": 1}


def test_context_outcomes_land_in_context_details(run: Running):
    run.cp(context_start("c1"), context_start("c2"))
    options = {"ContextOptions": {"ReplayChildren": True}}
    ops = run.ops(
        run.cp(
            context_succeed("c1", payload="summary", **options),
            update("CONTEXT", "FAIL", "c2", Error={"ErrorType": "E", "ErrorMessage": "m"}),
        )
    )
    assert ops["c1"]["Status"] == "SUCCEEDED"
    assert ops["c1"]["ContextDetails"] == {"ReplayChildren": True, "Result": "summary"}
    assert ops["c2"]["Status"] == "FAILED"
    assert ops["c2"]["ContextDetails"] == {"Error": {"ErrorType": "E", "ErrorMessage": "m"}}
    for op in ops.values():
        assert_shape("Operation", op)


def test_wait_start_echo_has_the_scheduled_end(run: Running):
    run.env.advance(ms=7)
    op = run.ops(run.cp(wait_start("w", seconds=90, Name="cool down")))["w"]
    assert_shape("Operation", op)
    assert op["Status"] == "STARTED"
    assert op["Name"] == "cool down"
    assert op["SubType"] == "Wait"
    assert op["WaitDetails"] == {"ScheduledEndTimestamp": at(T0 + 7 + 90_000)}


def test_callback_start_echo_carries_a_fresh_callback_id(run: Running):
    ops = run.ops(run.cp(callback_start("a", timeout=10), callback_start("b")))
    ids = [ops[k]["CallbackDetails"]["CallbackId"] for k in ("a", "b")]
    for callback_id in ids:
        # docs/service-semantics.md#operations: [A-Za-z0-9+/]+={0,2}, at most 1024 characters.
        assert re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", callback_id)
        assert len(callback_id) <= 1024
    assert ids[0] != ids[1]
    assert ops["a"]["Status"] == "STARTED"
    assert_shape("Operation", ops["a"])


def test_chained_invoke_start_echo(run: Running):
    op = run.ops(run.cp(invoke_start("i", function_name="billing", Name="bill")))["i"]
    assert_shape("Operation", op)
    assert op["Status"] == "STARTED"
    assert op["Type"] == "CHAINED_INVOKE"
    assert op["Name"] == "bill"


def test_only_changed_operations_are_returned(run: Running):
    run.cp(step_start("a"))
    response = run.cp(step_start("b"))
    assert list(run.ops(response)) == ["b"]
    assert run.cp()["NewExecutionState"]["Operations"] == []


def test_an_operation_touched_twice_is_returned_once_in_its_final_state(run: Running):
    operations = run.cp(step_start("s"), step_succeed("s"))["NewExecutionState"]["Operations"]
    assert [op["Id"] for op in operations] == ["s"]
    assert operations[0]["Status"] == "SUCCEEDED"


def test_the_execution_operation_is_not_echoed_for_ordinary_batches(run: Running):
    ops = run.ops(run.cp(step_start("s")))
    assert run.execution_id not in ops


def test_a_fired_wait_is_delivered_to_an_empty_refresh(run: Running):
    # docs/service-semantics.md#timers: map/parallel resume in-process by sending Updates: [] when
    # a wait is due.
    run.cp(wait_start("w", seconds=5), step_start("other"))
    run.env.advance(ms=4_999)
    assert run.cp()["NewExecutionState"]["Operations"] == []
    run.env.advance(ms=1)
    ops = run.ops(run.cp())
    assert list(ops) == ["w"]
    assert ops["w"]["Status"] == "SUCCEEDED"
    assert ops["w"]["EndTimestamp"] == at(T0 + 5_000)
    assert ops["w"]["WaitDetails"] == {"ScheduledEndTimestamp": at(T0 + 5_000)}
    # Delivered once.
    assert run.cp()["NewExecutionState"]["Operations"] == []


def test_a_due_retry_turns_ready_and_is_delivered_to_an_empty_refresh(run: Running):
    error = {"ErrorType": "ValueError", "ErrorMessage": "flaky"}
    run.env.advance(ms=100)
    pending = run.ops(run.cp(step_start("s", Name="flaky"), step_retry("s", 3, Error=error)))["s"]
    assert pending["Status"] == "PENDING"
    assert pending["StepDetails"] == {
        "Attempt": 1,
        "NextAttemptTimestamp": at(T0 + 100 + 3_000),
        "Error": error,
    }
    assert "EndTimestamp" not in pending

    run.env.advance(seconds=3)
    ready = run.ops(run.cp())["s"]
    assert ready["Status"] == "READY"
    # READY clears the timestamp; the attempt count and last error stay
    # (docs/service-semantics.md#operations).
    assert ready["StepDetails"] == {"Attempt": 1, "Error": error}
    assert ready["Name"] == "flaky"
    assert_shape("Operation", ready)

    started = run.ops(run.cp(step_start("s", Name="flaky")))["s"]
    assert started["Status"] == "STARTED"
    assert started["StepDetails"]["Attempt"] == 1
    done = run.ops(run.cp(step_succeed("s", '"at last"', Name="flaky")))["s"]
    assert done["StepDetails"] == {"Attempt": 2, "Result": '"at last"'}


def test_wait_for_condition_retry_payload_is_kept_as_the_result(run: Running):
    # docs/service-semantics.md#operations: RETRY's Payload (no Error) is the state the SDK reads
    # back as Result.
    sub = {"SubType": "WaitForCondition"}
    ops = run.ops(run.cp(step_start("c", **sub), step_retry("c", 2, Payload='{"n": 1}', **sub)))
    assert ops["c"]["StepDetails"]["Result"] == '{"n": 1}'
    assert "Error" not in ops["c"]["StepDetails"]
    run.env.advance(seconds=2)
    assert run.ops(run.cp())["c"]["StepDetails"]["Result"] == '{"n": 1}'


def test_a_timer_due_while_a_batch_arrives_is_delivered_with_that_batch(run: Running):
    run.cp(wait_start("w", seconds=1))
    run.env.advance(seconds=1)
    ops = run.ops(run.cp(step_start("s")))
    assert set(ops) == {"w", "s"}
    assert ops["w"]["Status"] == "SUCCEEDED"


def test_a_callback_answered_mid_invocation_is_delivered_to_the_next_checkpoint(run: Running):
    ops = run.ops(run.cp(callback_start("cb")))
    callback_id = ops["cb"]["CallbackDetails"]["CallbackId"]
    run.env.advance(seconds=4)
    run.env.service.send_durable_execution_callback_success(
        CallbackId=callback_id, Result=b'{"ok": true}'
    )
    delivered = run.ops(run.cp())["cb"]
    assert delivered["Status"] == "SUCCEEDED"
    assert delivered["CallbackDetails"] == {"CallbackId": callback_id, "Result": '{"ok": true}'}
    assert delivered["EndTimestamp"] == at(T0 + 4_000)


def test_changes_made_between_invocations_go_in_the_envelope_not_the_first_answer(env: Env):
    arn = env.start()
    token = env.invoke(arn)
    env.checkpoint(arn, token, [wait_start("w", seconds=10)])
    env.service.end_invocation(arn, {"Status": "PENDING"})
    env.advance(seconds=10)
    assert env.service.fire_due_timers(arn) == ["w"]

    token = env.invoke(arn)
    assert env.envelope["UpdatedOperationIds"] == ["w"]
    operations = env.envelope["InitialExecutionState"]["Operations"]
    wait = next(op for op in operations if op["Id"] == "w")
    # The envelope uses epoch milliseconds, not datetimes (docs/service-semantics.md#envelope).
    assert wait["Status"] == "SUCCEEDED"
    assert wait["EndTimestamp"] == T0 + 10_000
    assert wait["WaitDetails"] == {"ScheduledEndTimestamp": T0 + 10_000}
    assert env.checkpoint(arn, token, [])["NewExecutionState"]["Operations"] == []


def test_envelope_holds_the_execution_operation_with_the_input(env: Env):
    arn = env.start(payload='{"order": 7}')
    env.invoke(arn)
    envelope = env.envelope
    assert set(envelope) == {"DurableExecutionArn", "CheckpointToken", "InitialExecutionState"}
    assert envelope["DurableExecutionArn"] == arn
    (root,) = envelope["InitialExecutionState"]["Operations"]
    assert root == {
        # Id is the ARN's last segment (docs/service-semantics.md#envelope)
        "Id": arn.rsplit("/", 1)[-1],
        "Type": "EXECUTION",
        "StartTimestamp": T0,
        "Status": "STARTED",
        "ExecutionDetails": {"InputPayload": '{"order": 7}'},
    }
    assert envelope["InitialExecutionState"]["NextMarker"] == ""
