"""Seeding an execution with operations recorded elsewhere: what the determinism replay starts
from. The service owns its copy, refuses while an invocation runs, and indexes callbacks."""

from __future__ import annotations

import pytest
from service_helpers import T0, Env

from pytest_durable.errors import ResourceConflictException
from pytest_durable.service.model import Operation, OperationStatus, OperationType


def _recorded() -> list[Operation]:
    return [
        Operation(
            id="s1",
            type=OperationType.STEP,
            status=OperationStatus.SUCCEEDED,
            start_ms=T0,
            name="charge",
            sub_type="Step",
            end_ms=T0 + 5,
            result='"ok"',
            attempt=1,
        ),
        Operation(
            id="c1",
            type=OperationType.CALLBACK,
            status=OperationStatus.STARTED,
            start_ms=T0 + 5,
            name="approval",
            sub_type="Callback",
            callback_id="cb-recorded",
        ),
    ]


def test_seeded_operations_are_the_state_the_next_invocation_is_handed(env: Env):
    arn = env.start()
    recorded = _recorded()
    env.service.seed_operations(arn, recorded)
    recorded[0].result = '"changed by the caller"'

    env.invoke(arn)
    handed = {op["Id"]: op for op in env.envelope["InitialExecutionState"]["Operations"]}
    assert handed["s1"]["StepDetails"]["Result"] == '"ok"'
    assert handed["c1"]["CallbackDetails"]["CallbackId"] == "cb-recorded"


def test_a_seeded_callback_can_be_answered_by_its_id(env: Env):
    arn = env.start()
    env.service.seed_operations(arn, _recorded())
    env.service.send_durable_execution_callback_success(CallbackId="cb-recorded", Result=b"1")
    assert env.service.execution(arn).operations["c1"].status is OperationStatus.SUCCEEDED


def test_seeding_while_an_invocation_runs_is_refused_and_changes_nothing(env: Env):
    arn = env.start()
    env.invoke(arn)
    before = dict(env.service.execution(arn).operations)
    with pytest.raises(ResourceConflictException, match="invocation"):
        env.service.seed_operations(arn, _recorded())
    assert env.service.execution(arn).operations == before
