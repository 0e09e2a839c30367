"""Cloud mode through a real boto3 client: the stand-in answers Invoke as Lambda does, and the
cloud runner builds the same result a local run does, from the public API alone."""

from __future__ import annotations

import botocore.exceptions
import pytest
from cassette_handlers import declined, fulfilment, orders

from pytest_durable.cassette.cloud.environment import Polling
from pytest_durable.errors import CloudRunError, CloudTimeoutError
from pytest_durable.transport.inprocess import make_client


def test_invoke_answers_202_with_the_durable_execution_arn(standin):
    standin.lambda_.register("orders", orders)
    response = standin.client().invoke(FunctionName="orders", InvocationType="Event", Payload=b"{}")

    assert response["StatusCode"] == 202
    arn = response["DurableExecutionArn"]
    assert arn.startswith("arn:aws:lambda:eu-west-1:210987654321:function:orders:$LATEST/")
    assert "/durable-execution/" in arn


def test_invoke_through_the_in_process_client_reaches_the_stand_in(standin):
    # Regression: botocore keeps X-Amz-Invocation-Type as bytes; the in-process transport passed
    # it on as b'Event' and the stand-in refused every in-process Invoke.
    standin.lambda_.register("orders", orders)
    client = make_client(standin.lambda_, region="eu-west-1")
    response = client.invoke(FunctionName="orders", InvocationType="Event", Payload=b"{}")

    assert response["StatusCode"] == 202
    assert "/durable-execution/" in response["DurableExecutionArn"]


def test_invoke_of_an_unknown_function_is_resource_not_found(standin):
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        standin.client().invoke(FunctionName="nope", InvocationType="Event", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_named_execution_is_idempotent_for_the_same_payload(standin):
    standin.lambda_.register("orders", orders)
    client = standin.client()
    first = client.invoke(
        FunctionName="orders:$LATEST",
        InvocationType="Event",
        Payload=b'{"n": 1}',
        DurableExecutionName="order-1",
    )
    again = client.invoke(
        FunctionName="orders",
        InvocationType="Event",
        Payload=b'{"n": 1}',
        DurableExecutionName="order-1",
    )
    assert again["DurableExecutionArn"] == first["DurableExecutionArn"]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.invoke(
            FunctionName="orders",
            InvocationType="Event",
            Payload=b'{"n": 2}',
            DurableExecutionName="order-1",
        )
    assert caught.value.response["Error"]["Code"] == "DurableExecutionAlreadyStartedException"


def test_dry_run_and_synchronous_invokes(standin):
    standin.lambda_.register("orders", orders)
    client = standin.client()
    assert client.invoke(FunctionName="orders", InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(botocore.exceptions.ClientError, match="InvocationType=Event"):
        client.invoke(FunctionName="orders", Payload=b"{}")


def test_cloud_mode_builds_the_result_a_local_run_builds(standin, durable):
    cloud = standin.cloud()
    cloud.on_callback("approval").succeed({"ok": True})
    remote = cloud.run(fulfilment, {"items": ["a", "b"]})

    durable.on_callback("approval").succeed({"ok": True})
    local = durable.run(fulfilment, {"items": ["a", "b"]})

    assert remote.status == local.status == "SUCCEEDED"
    assert remote.output == local.output
    assert [(op.path, op.type, op.status) for op in remote.all_operations()] == [
        (op.path, op.type, op.status) for op in local.all_operations()
    ]
    assert remote.operation("cooling-off").duration.total_seconds() == 24 * 3600
    assert (
        remote.operation_at("shipping/pickup").result
        == local.operation_at("shipping/pickup").result
    )

    # When the callback's answer lands relative to the running invocation is real time in the
    # stand-in, as in Lambda: the number of invocations and where CallbackSucceeded falls among
    # the other events vary. The same events happen, each once.
    def operation_events(result):
        return sorted(
            (e["EventType"], e.get("Name"))
            for e in result.history
            # Execution events carry the (random) execution name; they are compared above.
            if e["EventType"] != "InvocationCompleted" and not e["EventType"].startswith("Exec")
        )

    assert operation_events(remote) == operation_events(local)
    assert 2 <= len(remote.invocations) <= 3
    assert remote.checkpoints == ()  # checkpoints happen inside Lambda, out of sight


def test_callbacks_are_answered_through_the_real_api(standin):
    cloud = standin.cloud()
    execution = cloud.start(fulfilment, {"items": []}).run_until_blocked()

    assert [cb.name for cb in execution.callbacks] == ["approval"]
    execution.callback("approval").succeed("approved")
    result = execution.run()

    assert result.output["approval"] == "approved"
    assert result.operation("approval").status == "SUCCEEDED"


def test_a_failed_execution_reads_back_failed(standin):
    result = standin.cloud().run(declined, {"order": "o-7"})
    assert result.status == "FAILED"
    assert result.error.type == "ValueError"
    assert result.error.message == "card declined for o-7"


def test_a_function_that_is_not_durable_is_named(standin):
    cloud = standin.cloud()
    cloud.client.meta.events.register(
        "after-call.lambda.Invoke",
        lambda parsed, **_: parsed.pop("DurableExecutionArn", None),
    )
    with pytest.raises(CloudRunError, match="not a durable function"):
        cloud.run(orders, {}, function_name="orders")


def test_a_run_that_never_ends_times_out_with_what_it_waits_for(standin):
    cloud = standin.cloud()
    cloud.polling = Polling(initial_delay=0.01, max_delay=0.02, timeout=0.3)
    with pytest.raises(CloudTimeoutError, match="'approval'"):
        cloud.run(fulfilment, {"items": []})


def test_function_names_come_from_the_environment_then_the_mapping(standin, monkeypatch):
    cloud = standin.cloud()
    invoked = []
    cloud.before_invoke = lambda name, handler: (
        invoked.append(name),
        standin.lambda_.register(name, handler),
    )
    cloud.functions.mapping = {"cassette_handlers:orders": "orders-from-ini", "*": "fallback"}
    monkeypatch.setenv("PYTEST_DURABLE_FUNCTION_ORDERS", "orders-from-env")

    cloud.run(orders, {})
    monkeypatch.delenv("PYTEST_DURABLE_FUNCTION_ORDERS")
    cloud.run(orders, {})
    cloud.run(declined, {"order": "x"})
    cloud.run(orders, {}, function_name="explicit")

    assert invoked == ["orders-from-env", "orders-from-ini", "fallback", "explicit"]
