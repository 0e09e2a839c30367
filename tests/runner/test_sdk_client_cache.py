"""The SDK's process-wide client cache has one setter (runner.sdk.sdk_client), right for nested
environments and for a stand-in's overlapping invocations alike."""

from __future__ import annotations

from aws_durable_execution_sdk_python.lambda_service import LambdaClient

from pytest_durable.runner.sdk import sdk_client


def _cached() -> object:
    return LambdaClient._cached_boto_client


def test_nested_holders_restore_the_outer_client() -> None:
    before = _cached()
    outer, inner = object(), object()
    with sdk_client(outer):
        assert _cached() is outer
        with sdk_client(inner):
            assert _cached() is inner
        assert _cached() is outer
    assert _cached() is before


def test_overlapping_holders_keep_the_latest_still_inside() -> None:
    before = _cached()
    first, second = object(), object()
    enter_first, enter_second = sdk_client(first), sdk_client(second)
    enter_first.__enter__()
    enter_second.__enter__()
    enter_first.__exit__(None, None, None)  # the first leaves while the second still runs
    assert _cached() is second
    enter_second.__exit__(None, None, None)
    assert _cached() is before
