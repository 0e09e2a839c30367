"""Validation of checkpoint batches: the legal transitions of docs/service-semantics.md#operations
(the official testing library's checkpoint validators encode them too) and the botocore model's
value constraints that botocore does not enforce client-side
(docs/service-semantics.md#model-limits).

Every rejection is an InvalidParameterValueException (not a token error, so the SDK fails the
execution instead of retrying), names the offending update's index in the batch, its Id and the
rule, and changes nothing.
"""

import re
from typing import Any

import pytest
from service_helpers import (
    Running,
    callback_start,
    context_start,
    context_succeed,
    execution_fail,
    execution_succeed,
    invoke_start,
    rejected,
    step_fail,
    step_retry,
    step_start,
    step_succeed,
    update,
    wait_start,
)

ERR = {"ErrorType": "ValueError", "ErrorMessage": "no"}

# (case id, batches applied first, the rejected batch, index of the culprit, its Id, rule regex)
REJECTIONS: list[tuple[str, list[list[dict[str, Any]]], list[dict[str, Any]], int, str, str]] = [
    # --- STEP: START only from new or READY; SUCCEED/FAIL/RETRY only from STARTED or READY
    (
        "step-start-from-started",
        [[step_start("s")]],
        [step_start("s")],
        0,
        "s",
        r"STEP START.*STARTED",
    ),
    (
        "step-start-from-pending",
        [[step_start("s"), step_retry("s")]],
        [step_start("s")],
        0,
        "s",
        r"STEP START.*PENDING",
    ),
    (
        "step-start-from-succeeded",
        [[step_start("s"), step_succeed("s")]],
        [step_start("s")],
        0,
        "s",
        r"STEP START.*SUCCEEDED",
    ),
    (
        "step-start-from-failed",
        [[step_start("s"), step_fail("s")]],
        [step_start("s")],
        0,
        "s",
        r"STEP START.*FAILED",
    ),
    (
        "step-succeed-from-pending",
        [[step_start("s"), step_retry("s")]],
        [step_succeed("s")],
        0,
        "s",
        r"STEP SUCCEED.*PENDING",
    ),
    (
        "step-fail-from-pending",
        [[step_start("s"), step_retry("s")]],
        [step_fail("s")],
        0,
        "s",
        r"STEP FAIL.*PENDING",
    ),
    (
        "step-retry-from-pending",
        [[step_start("s"), step_retry("s")]],
        [step_retry("s")],
        0,
        "s",
        r"STEP RETRY.*PENDING",
    ),
    (
        "step-succeed-from-succeeded",
        [[step_start("s"), step_succeed("s")]],
        [step_succeed("s")],
        0,
        "s",
        r"STEP SUCCEED.*SUCCEEDED",
    ),
    (
        "step-fail-from-succeeded",
        [[step_start("s"), step_succeed("s")]],
        [step_fail("s")],
        0,
        "s",
        r"STEP FAIL.*SUCCEEDED",
    ),
    (
        "step-retry-from-failed",
        [[step_start("s"), step_fail("s")]],
        [step_retry("s")],
        0,
        "s",
        r"STEP RETRY.*FAILED",
    ),
    # --- CONTEXT / WAIT / CALLBACK / CHAINED_INVOKE START only when new
    (
        "context-start-twice",
        [[context_start("c")]],
        [context_start("c")],
        0,
        "c",
        r"CONTEXT.*started only once.*STARTED",
    ),
    (
        "context-start-after-success",
        [[context_start("c"), context_succeed("c")]],
        [context_start("c")],
        0,
        "c",
        r"CONTEXT.*started only once.*SUCCEEDED",
    ),
    (
        "wait-start-twice",
        [[wait_start("w")]],
        [wait_start("w")],
        0,
        "w",
        r"WAIT.*started only once",
    ),
    (
        "callback-start-twice",
        [[callback_start("cb")]],
        [callback_start("cb")],
        0,
        "cb",
        r"CALLBACK.*started only once",
    ),
    (
        "invoke-start-twice",
        [[invoke_start("i")]],
        [invoke_start("i")],
        0,
        "i",
        r"CHAINED_INVOKE.*started only once",
    ),
    # --- CONTEXT close only from STARTED
    (
        "context-succeed-twice",
        [[context_start("c"), context_succeed("c")]],
        [context_succeed("c")],
        0,
        "c",
        r"CONTEXT.*closed only while STARTED.*SUCCEEDED",
    ),
    (
        "context-fail-after-fail",
        [[context_start("c"), update("CONTEXT", "FAIL", "c", Error=ERR)]],
        [update("CONTEXT", "FAIL", "c", Error=ERR)],
        0,
        "c",
        r"CONTEXT.*closed only while STARTED.*FAILED",
    ),
    # --- FAIL carries no Payload, SUCCEED no Error; RETRY needs a delay and not both
    (
        "step-fail-with-payload",
        [],
        [step_fail("s", Payload='"x"')],
        0,
        "s",
        r"FAIL.*cannot carry a Payload",
    ),
    (
        "context-fail-with-payload",
        [[context_start("c")]],
        [update("CONTEXT", "FAIL", "c", Error=ERR, Payload='"x"')],
        0,
        "c",
        r"FAIL.*cannot carry a Payload",
    ),
    (
        "step-succeed-with-error",
        [],
        [step_succeed("s", Error=ERR)],
        0,
        "s",
        r"SUCCEED.*cannot carry an Error",
    ),
    (
        "context-succeed-with-error",
        [[context_start("c")]],
        [context_succeed("c", Error=ERR)],
        0,
        "c",
        r"SUCCEED.*cannot carry an Error",
    ),
    (
        "retry-without-step-options",
        [[step_start("s")]],
        [update("STEP", "RETRY", "s", Error=ERR)],
        0,
        "s",
        r"NextAttemptDelaySeconds",
    ),
    (
        "retry-with-empty-step-options",
        [[step_start("s")]],
        [update("STEP", "RETRY", "s", Error=ERR, StepOptions={})],
        0,
        "s",
        r"NextAttemptDelaySeconds",
    ),
    (
        "retry-with-zero-delay",
        [[step_start("s")]],
        [step_retry("s", delay=0)],
        0,
        "s",
        r"NextAttemptDelaySeconds",
    ),
    (
        "retry-with-delay-over-max",
        [[step_start("s")]],
        [step_retry("s", delay=31_622_401)],
        0,
        "s",
        r"NextAttemptDelaySeconds",
    ),
    (
        "retry-with-error-and-payload",
        [[step_start("s")]],
        [step_retry("s", Error=ERR, Payload='{"state": 1}')],
        0,
        "s",
        r"both an Error and a Payload",
    ),
    # --- at most one EXECUTION update, and it is the last of the batch
    (
        "execution-update-not-last",
        [],
        [execution_succeed('"r"'), step_start("s")],
        0,
        "execution-result-1700000000000",
        r"EXECUTION.*last",
    ),
    (
        "two-execution-updates",
        [],
        [execution_succeed('"r"', "execution-result-1"), execution_fail(ERR, "execution-result-2")],
        0,
        "execution-result-1",
        r"EXECUTION.*last",
    ),
    (
        "execution-update-in-the-middle",
        [],
        [step_start("s"), execution_succeed('"r"'), step_succeed("s")],
        1,
        "execution-result-1700000000000",
        r"EXECUTION.*last",
    ),
    # --- ParentId: an existing CONTEXT, or a CONTEXT STARTed earlier in this batch
    ("parent-missing", [], [step_start("s", ParentId="nowhere")], 0, "s", r"ParentId 'nowhere'"),
    (
        "parent-is-an-existing-step",
        [[step_start("p")]],
        [step_start("s", ParentId="p")],
        0,
        "s",
        r"ParentId 'p'.*STEP.*not a CONTEXT",
    ),
    (
        "parent-is-a-step-started-in-the-batch",
        [],
        [step_start("p"), step_start("s", ParentId="p")],
        1,
        "s",
        r"ParentId 'p'.*not a CONTEXT",
    ),
    (
        "parent-is-the-execution",
        [],
        [step_start("s", ParentId="$EXEC")],
        0,
        "s",
        r"ParentId.*EXECUTION.*not a CONTEXT",
    ),
    (
        "parent-started-later-in-the-batch",
        [],
        [step_start("s", ParentId="c"), context_start("c")],
        0,
        "s",
        r"ParentId 'c'",
    ),
    (
        "parent-only-completed-in-the-batch",
        [],
        [context_succeed("c"), step_start("s", ParentId="c")],
        1,
        "s",
        r"ParentId 'c'",
    ),
    # --- the same Id twice only as a STEP/CONTEXT START followed by its completion
    ("step-start-twice-in-batch", [], [step_start("s"), step_start("s")], 1, "s", r"same Id"),
    ("step-succeed-twice-in-batch", [], [step_succeed("s"), step_succeed("s")], 1, "s", r"same Id"),
    (
        "step-start-succeed-fail-in-batch",
        [],
        [step_start("s"), step_succeed("s"), step_fail("s")],
        2,
        "s",
        r"same Id",
    ),
    (
        "step-succeed-then-start-in-batch",
        [],
        [step_succeed("s"), step_start("s")],
        1,
        "s",
        r"same Id",
    ),
    (
        "context-start-succeed-succeed",
        [],
        [context_start("c"), context_succeed("c"), context_succeed("c")],
        2,
        "c",
        r"same Id",
    ),
    (
        "wait-start-twice-in-batch",
        [],
        [wait_start("w"), wait_start("w")],
        1,
        "w",
        r"same Id|only once",
    ),
    (
        "callback-start-twice-in-batch",
        [],
        [callback_start("cb"), callback_start("cb")],
        1,
        "cb",
        r"same Id|only once",
    ),
    # --- an update cannot change an operation's Type
    (
        "type-change-across-batches",
        [[step_start("x")]],
        [wait_start("x")],
        0,
        "x",
        r"Type STEP.*cannot change",
    ),
    (
        "type-change-within-batch",
        [],
        [step_start("x"), context_succeed("x")],
        1,
        "x",
        r"Type STEP.*cannot change",
    ),
    # --- botocore model constraints on OperationUpdate (docs/service-semantics.md#model-limits)
    ("id-empty", [], [step_start("")], 0, "", r"Id must be 1-64"),
    ("id-with-space", [], [step_start("a b")], 0, "a b", r"Id must be 1-64"),
    ("id-with-dot", [], [step_start("a.b")], 0, "a.b", r"Id must be 1-64"),
    ("id-65-chars", [], [step_start("i" * 65)], 0, "i" * 65, r"Id must be 1-64"),
    (
        "parent-id-bad-pattern",
        [],
        [step_start("s", ParentId="a/b")],
        0,
        "s",
        r"ParentId must be 1-64",
    ),
    ("name-empty", [], [step_start("s", Name="")], 0, "s", r"Name must be 1-256 printable"),
    (
        "name-257-chars",
        [],
        [step_start("s", Name="n" * 257)],
        0,
        "s",
        r"Name must be 1-256 printable",
    ),
    (
        "name-with-newline",
        [],
        [step_start("s", Name="a\nb")],
        0,
        "s",
        r"Name must be 1-256 printable",
    ),
    (
        "name-non-ascii",
        [],
        [step_start("s", Name="caf\u00e9")],
        0,
        "s",
        r"Name must be 1-256 printable",
    ),
    ("subtype-33-chars", [], [step_start("s", SubType="t" * 33)], 0, "s", r"SubType must be 1-32"),
    ("subtype-with-dot", [], [step_start("s", SubType="My.Step")], 0, "s", r"SubType must be 1-32"),
    ("subtype-empty", [], [step_start("s", SubType="")], 0, "s", r"SubType must be 1-32"),
    ("unknown-type", [], [update("TIMER", "START", "t")], 0, "t", r"Type must be one of"),
    ("unknown-action", [], [update("STEP", "PAUSE", "s")], 0, "s", r"Action must be one of"),
    (
        "wait-succeed",
        [[wait_start("w")]],
        [update("WAIT", "SUCCEED", "w")],
        0,
        "w",
        r"WAIT accepts only the actions CANCEL, START",
    ),
    (
        "callback-succeed",
        [],
        [update("CALLBACK", "SUCCEED", "cb")],
        0,
        "cb",
        r"CALLBACK accepts only the actions START",
    ),
    (
        "invoke-succeed",
        [],
        [update("CHAINED_INVOKE", "SUCCEED", "i")],
        0,
        "i",
        r"CHAINED_INVOKE accepts only",
    ),
    (
        "context-retry",
        [[context_start("c")]],
        [update("CONTEXT", "RETRY", "c", StepOptions={"NextAttemptDelaySeconds": 1})],
        0,
        "c",
        r"CONTEXT accepts only",
    ),
    (
        "step-cancel",
        [[step_start("s")]],
        [update("STEP", "CANCEL", "s")],
        0,
        "s",
        r"STEP accepts only",
    ),
    (
        "execution-start",
        [],
        [{"Id": "e", "Type": "EXECUTION", "Action": "START"}],
        0,
        "e",
        r"EXECUTION accepts only",
    ),
    (
        "wait-seconds-zero",
        [],
        [wait_start("w", seconds=0)],
        0,
        "w",
        r"WaitSeconds between 1 and 31622400",
    ),
    (
        "wait-seconds-over-max",
        [],
        [wait_start("w", seconds=31_622_401)],
        0,
        "w",
        r"WaitSeconds between 1 and 31622400",
    ),
    ("wait-seconds-missing", [], [update("WAIT", "START", "w")], 0, "w", r"WaitSeconds"),
    (
        "wait-seconds-not-an-int",
        [],
        [update("WAIT", "START", "w", WaitOptions={"WaitSeconds": "10"})],
        0,
        "w",
        r"WaitSeconds",
    ),
    (
        "callback-timeout-negative",
        [],
        [callback_start("cb", timeout=-1)],
        0,
        "cb",
        r"TimeoutSeconds",
    ),
    (
        "callback-heartbeat-over-max",
        [],
        [callback_start("cb", heartbeat=100_000_000)],
        0,
        "cb",
        r"HeartbeatTimeoutSeconds",
    ),
    (
        "invoke-without-function-name",
        [],
        [update("CHAINED_INVOKE", "START", "i", Payload="{}")],
        0,
        "i",
        r"FunctionName",
    ),
    (
        "payload-over-6-mib",
        [],
        [step_succeed("s", payload="x" * (6_291_456 + 1))],
        0,
        "s",
        r"Payload",
    ),
]

# Valid updates placed before the culprit: the index in the message must follow.
PREFIX = [step_start("pre-step", Name="prefix"), wait_start("pre-wait", seconds=30)]


def _resolve(run: Running, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**u, "ParentId": run.execution_id} if u.get("ParentId") == "$EXEC" else dict(u)
        for u in batch
    ]


@pytest.mark.parametrize("prefixed", [False, True], ids=["alone", "after-valid-updates"])
@pytest.mark.parametrize(
    ("setup", "batch", "index", "op_id", "rule"),
    [pytest.param(*case[1:], id=case[0]) for case in REJECTIONS],
)
def test_rejection_names_the_update_index_its_id_and_the_rule(
    run: Running, *, setup, batch, index, op_id, rule, prefixed
):
    for earlier in setup:
        run.cp(*earlier)
    sent = _resolve(run, (PREFIX if prefixed else []) + batch)
    culprit = index + (len(PREFIX) if prefixed else 0)
    before = run.env.snapshot(run.arn)

    error = rejected(lambda: run.env.checkpoint(run.arn, run.token, sent))

    message = error.message
    assert message.startswith(f"Updates[{culprit}] "), message
    assert f"Id {op_id!r}" in message, message
    assert re.search(rule, message, re.DOTALL), message
    # non-retryable: docs/service-semantics.md#errors
    assert not message.startswith("Invalid checkpoint token")
    assert run.env.snapshot(run.arn) == before


# Batches the rules allow (each also a boundary of one of the rejections above).
ACCEPTED: list[tuple[str, list[list[dict[str, Any]]], list[dict[str, Any]]]] = [
    ("step-start-then-succeed-in-one-batch", [], [step_start("s"), step_succeed("s")]),
    ("step-start-then-retry-in-one-batch", [], [step_start("s"), step_retry("s")]),
    ("step-start-then-fail-in-one-batch", [], [step_start("s"), step_fail("s")]),
    ("step-succeed-from-started", [[step_start("s")]], [step_succeed("s")]),
    ("step-fail-from-started", [[step_start("s")]], [step_fail("s")]),
    ("step-retry-from-started", [[step_start("s")]], [step_retry("s")]),
    # The official testing library lets a STEP or CONTEXT complete without a recorded START.
    ("step-succeed-when-new", [], [step_succeed("s")]),
    ("context-succeed-when-new", [], [context_succeed("c")]),
    ("context-start-then-succeed-in-one-batch", [], [context_start("c"), context_succeed("c")]),
    (
        "context-fail-without-payload",
        [[context_start("c")]],
        [update("CONTEXT", "FAIL", "c", Error=ERR)],
    ),
    ("retry-with-payload-only", [[step_start("s")]], [step_retry("s", Payload='{"state": 2}')]),
    ("retry-with-error-only", [[step_start("s")]], [step_retry("s", Error=ERR)]),
    ("retry-delay-1", [[step_start("s")]], [step_retry("s", delay=1)]),
    ("retry-delay-max", [[step_start("s")]], [step_retry("s", delay=31_622_400)]),
    ("parent-existing-context", [[context_start("c")]], [step_start("s", ParentId="c")]),
    (
        "parent-context-started-earlier-in-batch",
        [],
        [
            context_start("c"),
            step_start("s", ParentId="c"),
            step_succeed("s", ParentId="c"),
            context_succeed("c"),
        ],
    ),
    (
        "nested-contexts-in-one-batch",
        [],
        [context_start("c1"), context_start("c2", ParentId="c1"), wait_start("w", ParentId="c2")],
    ),
    ("execution-update-last", [], [step_start("s"), step_succeed("s"), execution_succeed('"r"')]),
    ("execution-fail-alone", [], [execution_fail(ERR)]),
    ("id-64-chars", [], [step_start("i" * 64)]),
    ("id-pattern-alphabet", [], [step_start("aZ09-_")]),
    ("name-256-printable", [], [step_start("s", Name=(" ~!" + "n" * 253))]),
    ("subtype-32-chars", [], [step_start("s", SubType="a-b_" * 8)]),
    ("custom-subtype", [], [step_start("s", SubType="MyCustomStep")]),
    ("no-subtype-no-name", [], [{"Id": "s", "Type": "STEP", "Action": "START"}]),
    ("wait-seconds-1", [], [wait_start("w", seconds=1)]),
    ("wait-seconds-max", [], [wait_start("w", seconds=31_622_400)]),
    ("callback-timeouts-zero", [], [callback_start("cb", timeout=0, heartbeat=0)]),
    ("callback-timeouts-max", [], [callback_start("cb", timeout=99_999_999, heartbeat=99_999_999)]),
    ("wait-cancel-from-started", [[wait_start("w")]], [update("WAIT", "CANCEL", "w")]),
    ("payload-6-mib", [], [step_succeed("s", payload="x" * 6_291_456)]),
]


@pytest.mark.parametrize(
    ("setup", "batch"), [pytest.param(*case[1:], id=case[0]) for case in ACCEPTED]
)
def test_legal_batch_is_accepted_and_echoes_every_touched_operation(run: Running, setup, batch):
    for earlier in setup:
        run.cp(*earlier)
    response = run.cp(*batch)
    touched = {u["Id"] for u in batch if u["Type"] != "EXECUTION"}
    assert set(run.ops(response)) == touched
