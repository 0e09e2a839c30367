"""A handler in another process reaches the service through the loopback HTTP endpoint
(``AWS_ENDPOINT_URL_LAMBDA``), driven by the same runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_durable import InvocationFailedError
from pytest_durable.runner.lambda_process import SubprocessHandler

HERE = Path(__file__).parent


def test_handler_in_a_subprocess_runs_to_completion_with_its_wait(durable):
    # Regression: with freezegun as the engine (its default ignore list), subprocess.run with
    # a timeout on the invocation thread mixed real and virtual monotonic time, timing out.
    handler = SubprocessHandler(
        "subprocess_handlers:wait_and_step", endpoint_url=durable.http_endpoint().url, cwd=HERE
    )
    result = durable.run(handler, {"n": 20})
    assert result.status == "SUCCEEDED"
    assert result.output == 42
    assert len(result.invocations) == 2
    assert [op.name for op in result.operations] == ["first", "three-hours", "second"]
    wait = result.operation("three-hours")
    assert wait.end is not None and (wait.end - wait.start).total_seconds() == 3 * 3600


@pytest.mark.durable(max_failed_invocations=2)
def test_a_crashing_subprocess_is_a_failed_invocation(durable):
    handler = SubprocessHandler(
        "subprocess_handlers:crash", endpoint_url=durable.http_endpoint().url, cwd=HERE
    )
    with pytest.raises(InvocationFailedError):
        durable.run(handler)
    execution = durable.service.executions[0]
    assert [i.error["ErrorType"] for i in execution.invocations] == ["Runtime.ExitError"] * 2
