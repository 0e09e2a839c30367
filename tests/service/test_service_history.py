"""GetDurableExecutionHistory events: the botocore ``Event`` shape
(docs/service-semantics.md#model-limits), and the histories real executions produce, from AWS's
conformance requirements (docs/conformance.md; matched with the published validator's rules,
docs/assertions.md#matching-rules). Each scenario drives the service with the updates the SDK
sends for the handler the requirement describes."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from service_helpers import (
    T0,
    Env,
    Running,
    assert_output,
    assert_shape,
    at,
    callback_start,
    context_start,
    context_succeed,
    step_fail,
    step_retry,
    step_start,
    step_succeed,
    wait_start,
)

REQUIREMENTS = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "requirements"


# --------------------------------------------------------------------------- event shapes


def test_execution_started_is_event_1_with_input_and_timeout(env: Env):
    arn = env.start(payload='{"a": 1}', execution_name="order-7", execution_timeout_seconds=900)
    (event,) = env.history(arn)
    assert_shape("Event", event)
    assert event == {
        "EventType": "ExecutionStarted",
        "EventId": 1,
        "Id": arn.rsplit("/", 1)[-1],
        "Name": "order-7",
        "EventTimestamp": at(T0),
        "ExecutionStartedDetails": {
            "Input": {"Payload": '{"a": 1}', "Truncated": False},
            "ExecutionTimeout": 900,
        },
    }


def test_event_ids_count_from_1_in_recording_order(run: Running):
    run.cp(step_start("a"), step_succeed("a"))
    run.cp(wait_start("w"))
    events = run.env.history(run.arn)
    assert [e["EventId"] for e in events] == list(range(1, len(events) + 1))
    assert [e["EventType"] for e in events] == [
        "ExecutionStarted",
        "StepStarted",
        "StepSucceeded",
        "WaitStarted",
    ]
    for event in events:
        assert_shape("Event", event)


def test_operation_events_carry_identity_fields(run: Running):
    run.cp(context_start("c", Name="batch", SubType="Map"))
    run.cp(step_start("s", ParentId="c", Name="item", SubType="Step"))
    started = run.env.history(run.arn)[-1]
    assert started == {
        "EventType": "StepStarted",
        "SubType": "Step",
        "EventId": 3,
        "Id": "s",
        "Name": "item",
        "EventTimestamp": at(T0),
        "ParentId": "c",
        "StepStartedDetails": {},
    }


def test_step_retry_is_a_step_failed_with_retry_details(run: Running):
    error = {"ErrorType": "ValueError", "ErrorMessage": "flaky"}
    run.cp(step_start("s"), step_retry("s", delay=4, Error=error))
    event = run.env.history(run.arn)[-1]
    assert_shape("Event", event)
    assert event["EventType"] == "StepFailed"
    assert event["StepFailedDetails"] == {
        "Error": {"Payload": error, "Truncated": False},
        "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 4},
    }


def test_retry_without_error_is_a_step_succeeded_with_the_state_and_retry_details(run: Running):
    # wait_for_condition/6-1.yaml and 6-5.yaml: a poll that asks for another attempt (RETRY with
    # the state as Payload, no Error) is recorded as StepSucceeded carrying that state and the
    # delay before the next poll; only a RETRY with an Error is a StepFailed.
    sub = {"SubType": "WaitForCondition"}
    run.cp(step_start("c", **sub), step_retry("c", delay=2, Payload="1", **sub))
    event = run.env.history(run.arn)[-1]
    assert_shape("Event", event)
    assert event["EventType"] == "StepSucceeded"
    assert event["StepSucceededDetails"] == {
        "Result": {"Payload": "1", "Truncated": False},
        "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 2},
    }
    assert run.state()["c"]["Status"] == "PENDING"  # the operation itself waits for its next poll


def test_final_step_failure_has_no_next_attempt_delay(run: Running):
    # step/1-12.yaml: the last StepFailed has CurrentAttempt only.
    run.cp(step_start("s"), step_fail("s"))
    details = run.env.history(run.arn)[-1]["StepFailedDetails"]
    assert details["RetryDetails"] == {"CurrentAttempt": 1}


def test_step_succeeded_carries_result_and_attempt(run: Running):
    run.cp(step_start("s"), step_succeed("s", '"v"'))
    event = run.env.history(run.arn)[-1]
    assert_shape("Event", event)
    assert event["StepSucceededDetails"] == {
        "Result": {"Payload": '"v"', "Truncated": False},
        "RetryDetails": {"CurrentAttempt": 1},
    }


def test_wait_started_carries_duration_and_scheduled_end(run: Running):
    run.env.advance(ms=5)
    run.cp(wait_start("w", seconds=12))
    event = run.env.history(run.arn)[-1]
    assert_shape("Event", event)
    assert event["WaitStartedDetails"] == {
        "Duration": 12,
        "ScheduledEndTimestamp": at(T0 + 5 + 12_000),
    }


def test_invocation_completed_records_the_lambda_request(env: Env):
    arn = env.start()
    env.invoke(arn)
    request_id = env.service.execution(arn).invocations[-1].request_id
    env.advance(ms=1_234)
    env.service.end_invocation(arn, {"Status": "PENDING"})
    event = env.history(arn)[-1]
    assert_shape("Event", event)
    assert event == {
        "EventType": "InvocationCompleted",
        "EventId": 2,
        "EventTimestamp": at(T0 + 1_234),
        "InvocationCompletedDetails": {
            "StartTimestamp": at(T0),
            "EndTimestamp": at(T0 + 1_234),
            "RequestId": request_id,
        },
    }


def test_a_crashed_invocation_completes_with_its_error(env: Env):
    arn = env.start()
    env.invoke(arn)
    crash = {"ErrorType": "Runtime.ExitError", "ErrorMessage": "RequestId: x Error: exit 1"}
    env.service.end_invocation(arn, None, failure=crash)
    details = env.history(arn)[-1]["InvocationCompletedDetails"]
    assert details["Error"] == {"Payload": crash, "Truncated": False}
    assert set(details) == {"StartTimestamp", "EndTimestamp", "RequestId", "Error"}


def test_each_invocation_has_its_own_request_id(env: Env):
    arn = env.start()
    for _ in range(3):
        env.invoke(arn)
        env.service.end_invocation(arn, {"Status": "PENDING"})
    ids = [
        e["InvocationCompletedDetails"]["RequestId"]
        for e in env.history(arn)
        if e["EventType"] == "InvocationCompleted"
    ]
    assert len(set(ids)) == 3


def test_history_without_execution_data_drops_payloads_only(run: Running):
    run.cp(step_start("s"), step_succeed("s", '"secret"'))
    answer = run.env.service.get_durable_execution_history(
        DurableExecutionArn=run.arn, IncludeExecutionData=False
    )
    assert_output("GetDurableExecutionHistory", answer)
    started, _, succeeded = answer["Events"]
    assert started["ExecutionStartedDetails"] == {
        "Input": {"Truncated": False},
        "ExecutionTimeout": 31_622_400,
    }
    assert succeeded["StepSucceededDetails"] == {
        "Result": {"Truncated": False},
        "RetryDetails": {"CurrentAttempt": 1},
    }
    # The stored history is untouched.
    assert run.env.history(run.arn)[2]["StepSucceededDetails"]["Result"] == {
        "Payload": '"secret"',
        "Truncated": False,
    }


def test_history_pages_and_reverse_order(run: Running):
    for index in range(4):
        run.cp(step_start(f"s{index}"))
    service = run.env.service
    forward = [e["EventId"] for e in run.env.history(run.arn)]
    assert forward == [1, 2, 3, 4, 5]

    first = service.get_durable_execution_history(DurableExecutionArn=run.arn, MaxItems=2)
    second = service.get_durable_execution_history(
        DurableExecutionArn=run.arn, MaxItems=2, Marker=first["NextMarker"]
    )
    third = service.get_durable_execution_history(
        DurableExecutionArn=run.arn, MaxItems=2, Marker=second["NextMarker"]
    )
    paged = [e["EventId"] for page in (first, second, third) for e in page["Events"]]
    assert paged == forward
    assert "NextMarker" not in third
    backward = service.get_durable_execution_history(DurableExecutionArn=run.arn, ReverseOrder=True)
    assert [e["EventId"] for e in backward["Events"]] == [5, 4, 3, 2, 1]


# ----------------------------------------------------------------- conformance comparison

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_REGEX = re.compile(r"\$\{/(.*)/\}")


def _match(expected: Any, actual: Any, bound: dict[str, Any], path: str) -> None:
    """The published validator's semantics (conformance README "Matching rules")."""
    if expected in ("*", {}):
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{path}.{key}: missing (actual keys {sorted(actual)})"
            _match(value, actual[key], bound, f"{path}.{key}")
        return
    if isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list"
        assert len(expected) == len(actual), f"{path}: length {len(actual)} != {len(expected)}"
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _match(e, a, bound, f"{path}[{index}]")
        return
    if isinstance(expected, str):
        regex = _REGEX.fullmatch(expected)
        if regex:
            assert isinstance(actual, str), f"{path}: expected a string"
            assert re.search(regex.group(1), actual), f"{path}: {actual!r} !~ {regex.group(1)}"
            return
        whole = _PLACEHOLDER.fullmatch(expected)
        if whole and whole.group(1) not in bound:
            bound[whole.group(1)] = actual
            return
        expected = _PLACEHOLDER.sub(lambda m: str(bound[m.group(1)]), expected)
    assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def _matches_requirement(name: str, events: list[dict[str, Any]], bound: dict[str, Any]) -> None:
    path = REQUIREMENTS / f"{name}.yaml"
    if not path.exists():
        pytest.skip(f"conformance requirement {path} not available")
    requirement = yaml.safe_load(path.read_text())
    by_id = {event["EventId"]: event for event in events}
    for expected in requirement["ExpectedExecutionHistory"]:
        event_id = expected["EventId"]
        assert event_id in by_id, f"{name}: no event {event_id} ({expected['EventType']})"
        _match(expected, by_id[event_id], bound, f"{name}#{event_id}")
    for event in events:
        assert_shape("Event", event)


def _finish(env: Env, arn: str, output: dict[str, Any]) -> list[dict[str, Any]]:
    env.service.end_invocation(arn, output)
    return env.history(arn)


def _resume(env: Env, arn: str) -> str:
    """End the invocation PENDING, move the clock to the next operation timer, re-invoke."""
    env.service.end_invocation(arn, {"Status": "PENDING"})
    execution = env.service.execution(arn)
    timers = [due for op_id, due in execution.timers.items() if op_id != execution.execution_id]
    env.now[0] = max(env.now[0], min(timers))
    env.service.fire_due_timers(arn)
    return env.invoke(arn)


def _cp(env: Env, arn: str, token: str, *updates: dict[str, Any]) -> str:
    return env.checkpoint(arn, token, list(updates))["CheckpointToken"]


def test_conformance_step_1_1_basic_step(env: Env):
    arn = env.start(payload='"World"')
    token = env.invoke(arn)
    _cp(env, arn, token, step_start("1c"), step_succeed("1c", '"Hello, World!"'))
    events = _finish(env, arn, {"Status": "SUCCEEDED", "Result": '"Hello, World!"'})
    _matches_requirement("step/1-1", events, {})
    assert events[-1]["EventType"] == "ExecutionSucceeded"
    assert events[-1]["EventId"] == 5


def test_conformance_step_1_12_retry_exhaustion(env: Env):
    arn = env.start(payload=None)
    token = env.invoke(arn)
    error = {"ErrorType": "Exception", "ErrorMessage": "always fails"}
    for _ in range(3):
        token = _cp(env, arn, token, step_start("s"), step_retry("s", delay=1, Error=error))
        token = _resume(env, arn)
    _cp(env, arn, token, step_start("s"), step_fail("s", Error=error))
    events = _finish(env, arn, {"Status": "FAILED", "Error": error})
    _matches_requirement("step/1-12", events, {})
    assert "NextAttemptDelaySeconds" not in events[11]["StepFailedDetails"]["RetryDetails"]
    assert events[13]["EventType"] == "ExecutionFailed"
    assert len(events) == 14


def test_conformance_step_1_17_crashed_invocation_then_failure(env: Env):
    arn = env.start(payload='"abcdefgh"')
    token = env.invoke(arn)
    _cp(env, arn, token, step_start("s", Name="at_most_once_flaky_step"))
    crash = {"ErrorType": "Runtime.ExitError", "ErrorMessage": "exit status 1"}
    env.service.end_invocation(arn, None, failure=crash)
    token = env.invoke(arn)
    interrupted = {"ErrorType": "StepInterruptedError", "ErrorMessage": "interrupted"}
    _cp(env, arn, token, step_fail("s", Name="at_most_once_flaky_step", Error=interrupted))
    events = _finish(env, arn, {"Status": "FAILED", "Error": interrupted})
    _matches_requirement("step/1-17", events, {})


def test_conformance_wait_2_1_basic_wait(env: Env):
    arn = env.start(payload=None)
    token = env.invoke(arn)
    _cp(env, arn, token, wait_start("w", seconds=2))
    token = _resume(env, arn)
    events = _finish(env, arn, {"Status": "SUCCEEDED", "Result": "null"})
    _matches_requirement("wait/2-1", events, {})
    assert events[3]["EventTimestamp"] == at(T0 + 2_000)


def test_conformance_callback_4_3_general_timeout(env: Env):
    name = "abcdefghij"
    arn = env.start(payload=json.dumps(name))
    token = env.invoke(arn)
    _cp(env, arn, token, callback_start("cb", timeout=5, Name=name))
    token = _resume(env, arn)
    error = {"ErrorType": "CallbackError", "ErrorMessage": "timed out"}
    events = _finish(env, arn, {"Status": "FAILED", "Error": error})
    _matches_requirement("callback/4-3", events, {"CB_NAME": name})


def test_conformance_wait_for_callback_7_2_static_name(env: Env):
    payload = "PAYLOAD12345"
    arn = env.start(payload="null")
    token = env.invoke(arn)
    ctx = {"SubType": "WaitForCallback", "Name": "approval"}
    response = env.checkpoint(
        arn,
        token,
        [
            context_start("ctx", **ctx),
            callback_start("cb", ParentId="ctx", Name="approval create callback id"),
        ],
    )
    token = response["CheckpointToken"]
    callback_id = next(
        op["CallbackDetails"]["CallbackId"]
        for op in response["NewExecutionState"]["Operations"]
        if op["Id"] == "cb"
    )
    token = _cp(
        env,
        arn,
        token,
        step_start("sub", ParentId="ctx", Name="approval submitter"),
        step_succeed("sub", None, ParentId="ctx", Name="approval submitter"),
    )
    env.service.end_invocation(arn, {"Status": "PENDING"})
    env.advance(seconds=1)
    env.service.send_durable_execution_callback_success(
        CallbackId=callback_id, Result=json.dumps(payload).encode()
    )
    token = env.invoke(arn)
    _cp(env, arn, token, context_succeed("ctx", json.dumps(payload), **ctx))
    events = _finish(env, arn, {"Status": "SUCCEEDED", "Result": json.dumps(payload)})
    _matches_requirement("wait_for_callback/7-2", events, {"CB_PAYLOAD": payload})


def test_the_conformance_matcher_can_fail(env: Env):
    # Guard against a matcher that accepts anything: a wrong history must not match.
    arn = env.start(payload=None)
    token = env.invoke(arn)
    _cp(env, arn, token, wait_start("w", seconds=3))  # 2-1 expects Duration 2
    token = _resume(env, arn)
    events = _finish(env, arn, {"Status": "SUCCEEDED", "Result": "null"})
    with pytest.raises(AssertionError, match="Duration"):
        _matches_requirement("wait/2-1", events, {})
    with pytest.raises(AssertionError):
        _match({"Id": "${X}", "ParentId": "${X}"}, {"Id": "a", "ParentId": "b"}, {}, "$")
    with pytest.raises(AssertionError):
        _match({"Details": {"Payload": {}}}, {"Details": {}}, {}, "$")


def test_a_completion_without_a_start_records_the_start_too(run: Running):
    # The official testing library accepts a STEP/CONTEXT completion with no recorded START;
    # the history still shows the operation starting before it ends.
    run.cp(step_succeed("s", '"v"'), context_succeed("c"))
    types = [(e["EventType"], e.get("Id")) for e in run.env.history(run.arn)[1:]]
    assert types == [
        ("StepStarted", "s"),
        ("StepSucceeded", "s"),
        ("ContextStarted", "c"),
        ("ContextSucceeded", "c"),
    ]
