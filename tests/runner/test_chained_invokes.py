"""``context.invoke`` through the real SDK: durable, plain and canned targets, failures, missing
targets and timeouts, each reaching the caller as the SDK expects."""

from __future__ import annotations

import datetime

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, InvokeConfig
from aws_durable_execution_sdk_python.exceptions import InvokeError


@durable_execution
def caller(event, context: DurableContext):
    config = InvokeConfig(tenant_id=event.get("tenant")) if event.get("tenant") else None
    return context.invoke(event["target"], event.get("payload"), name="call", config=config)


@durable_execution
def caller_that_catches(event, context: DurableContext):
    try:
        return {"ok": context.invoke(event["target"], event.get("payload"), name="call")}
    except InvokeError as error:
        return {"failed": str(error)}


@durable_execution
def pricing(event, context: DurableContext):
    base = context.step(lambda _: event["amount"] * 2, name="price")
    context.wait(Duration.from_hours(1), name="settle")
    return {"price": base}


def test_durable_target_runs_as_its_own_execution(durable):
    durable.register_durable_function("pricing", pricing)
    result = durable.run(caller, {"target": "pricing", "payload": {"amount": 21}})

    assert result.status == "SUCCEEDED"
    assert result.output == {"price": 42}
    call = result.operation("call")
    assert (call.type, call.sub_type, call.status) == (
        "CHAINED_INVOKE",
        "ChainedInvoke",
        "SUCCEEDED",
    )
    # The target waited an hour on the same virtual clock.
    assert call.end - call.start >= datetime.timedelta(hours=1)

    started = next(e for e in result.history if e["EventType"] == "ChainedInvokeStarted")
    details = started["ChainedInvokeStartedDetails"]
    assert details["FunctionName"] == "pricing"
    assert details["Input"]["Payload"] == '{"amount": 21}'
    assert details["ExecutedVersion"] == "$LATEST"
    child_arn = details["DurableExecutionArn"]
    child = durable.service.execution(child_arn)
    assert child.function_name == "pricing"
    assert [e["EventType"] for e in child.history][-1] == "ExecutionSucceeded"
    assert child.history is not durable.service.execution(result.arn).history


def test_plain_target_is_called_once_with_the_payload(durable):
    calls = []

    def tax(event, context):
        calls.append(event)
        return {"tax": event["amount"] // 10}

    durable.register_function("tax", tax)
    result = durable.run(caller, {"target": "tax", "payload": {"amount": 50}})
    assert result.output == {"tax": 5}
    assert calls == [{"amount": 50}]


def test_canned_result_and_function_arn_names(durable):
    durable.register_function("inventory", result={"in_stock": True})
    arn = "arn:aws:lambda:us-east-1:123456789012:function:inventory:$LATEST"
    assert durable.run(caller, {"target": arn}).output == {"in_stock": True}


def test_tenant_id_is_kept(durable):
    durable.register_function("inventory", result=1)
    result = durable.run(caller, {"target": "inventory", "tenant": "tenant-a"})
    started = next(e for e in result.history if e["EventType"] == "ChainedInvokeStarted")
    assert started["ChainedInvokeStartedDetails"]["TenantId"] == "tenant-a"


def test_target_failure_reaches_the_caller(durable):
    def broken(event, context):
        raise ValueError("no such sku")

    durable.register_function("inventory", broken)
    result = durable.run(caller_that_catches, {"target": "inventory"})
    assert result.status == "SUCCEEDED"
    assert "no such sku" in result.output["failed"]
    call = result.operation("call")
    assert call.status == "FAILED"
    assert call.error is not None and call.error.type == "ValueError"
    failed = next(e for e in result.history if e["EventType"] == "ChainedInvokeFailed")
    assert failed["ChainedInvokeFailedDetails"]["Error"]["Payload"]["ErrorType"] == "ValueError"


def test_failing_durable_target_fails_the_uncaught_caller(durable):
    @durable_execution
    def doomed(event, context: DurableContext):
        raise RuntimeError("target exploded")

    durable.register_durable_function("doomed", doomed)
    result = durable.run(caller, {"target": "doomed"})
    assert result.status == "FAILED"
    assert "target exploded" in str(result.error)


def test_unregistered_target_fails_with_how_to_register(durable):
    result = durable.run(caller_that_catches, {"target": "missing-fn"})
    assert result.status == "SUCCEEDED"
    call = result.operation("call")
    assert call.status == "FAILED"
    assert call.error is not None
    assert call.error.type == "ResourceNotFoundException"
    assert "register_durable_function('missing-fn'" in (call.error.message or "")


def test_target_timeout_reaches_the_caller_as_timed_out(durable):
    durable.register_durable_function("pricing", pricing, execution_timeout=600)
    result = durable.run(caller_that_catches, {"target": "pricing", "payload": {"amount": 1}})
    call = result.operation("call")
    assert call.status == "TIMED_OUT"
    assert call.error is not None and call.error.type == "ChainedInvoke.Timeout"
    assert "failed" in result.output
    timed_out = next(e for e in result.history if e["EventType"] == "ChainedInvokeTimedOut")
    assert timed_out["ChainedInvokeTimedOutDetails"]["Error"]["Payload"]["ErrorType"] == (
        "ChainedInvoke.Timeout"
    )


def test_register_function_needs_exactly_one_kind_of_target(durable):
    with pytest.raises(TypeError, match="exactly one"):
        durable.register_function("x")
    with pytest.raises(TypeError, match="exactly one"):
        durable.register_function("x", lambda e, c: 1, result=2)
