"""Environments lease the SDK's botocore client one after another instead of building one each.

A reused client must be as good as new: its requests reach only the environment that holds it,
and a client whose retry quota may have been drawn down (a lease that saw an error answer) is
not reused.
"""

from __future__ import annotations

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.lambda_service import LambdaClient
from botocore.exceptions import ClientError

from pytest_durable import DurableEnvironment


@durable_execution
def one_step(event, context: DurableContext):
    return context.step(lambda _: event["n"] * 2, name="double")


def _sdk_client():
    return LambdaClient._cached_boto_client


def test_consecutive_environments_reuse_one_client_each_with_its_own_service():
    with DurableEnvironment() as first:
        client = _sdk_client()
        assert first.run(one_step, {"n": 1}).output == 2
    with DurableEnvironment() as second:
        assert _sdk_client() is client
        result = second.run(one_step, {"n": 2})
        assert result.output == 4
        assert len(second.service.executions) == 1  # nothing of the first environment
        assert len(result.checkpoints) >= 1


def test_open_environments_never_share_a_client():
    with DurableEnvironment() as outer:
        outer_client = _sdk_client()
        with DurableEnvironment() as inner:
            assert _sdk_client() is not outer_client
            assert inner.run(one_step, {"n": 3}).output == 6
        assert _sdk_client() is outer_client
        assert outer.run(one_step, {"n": 4}).output == 8


def test_a_lease_that_saw_an_error_answer_retires_its_client():
    with DurableEnvironment():
        client = _sdk_client()
        with pytest.raises(ClientError) as raised:
            client.get_durable_execution(DurableExecutionArn="arn:aws:lambda:us-east-1:1:nope")
        assert raised.value.response["Error"]["Code"]
    with DurableEnvironment():
        assert _sdk_client() is not client  # its retry quota is not known to be full


def test_a_returned_client_answers_nobody():
    with DurableEnvironment():
        client = _sdk_client()
    with pytest.raises(RuntimeError, match="has already closed"):
        client.list_durable_executions_by_function(FunctionName="one_step")
