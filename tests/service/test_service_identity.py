"""An operation keeps the Name, SubType and ParentId it was created with
(docs/service-semantics.md#operations: the SDK replays by comparing exactly these; the official
validators reject an inconsistent update)."""

from __future__ import annotations

import pytest
from service_helpers import context_start, rejected, step_start, step_succeed


@pytest.mark.parametrize(
    ("field", "value"),
    [("Name", "renamed"), ("SubType", "Other"), ("ParentId", "ctx2")],
)
def test_a_later_update_cannot_change_the_identity(run, field, value):
    run.cp(context_start("ctx", Name="c"), context_start("ctx2", Name="c2"))
    run.cp(step_start("s", Name="charge", SubType="Step", ParentId="ctx"))
    before = run.env.snapshot(run.arn)
    error = rejected(lambda: run.cp(step_succeed("s", **{field: value})))
    assert "Updates[0] (STEP SUCCEED, Id 's')" in error.message
    assert f"created with {field}" in error.message and repr(value) in error.message
    assert run.env.snapshot(run.arn) == before


def test_the_same_identity_or_none_is_accepted_also_within_one_batch(run):
    run.cp(
        step_start("a", Name="x", SubType="Step"),
        step_succeed("a", Name="x", SubType="Step"),
        step_start("b", Name="y"),
        step_succeed("b"),
    )
    assert run.execution.operations["a"].status.value == "SUCCEEDED"
    error = rejected(lambda: run.cp(step_start("c", Name="z"), step_succeed("c", Name="zz")))
    assert "Updates[1]" in error.message
