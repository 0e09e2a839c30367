"""A hung handler does not outlive its test: after ``HandlerTimeoutError`` its sandbox is dead
(nothing more of it reaches the service, its threads stop where Python can stop them) and the
pytest process exits at once. The error names the running operation and shows its stack."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution

from pytest_durable import DurableEnvironment, HandlerTimeoutError
from pytest_durable.errors import SandboxKilled
from pytest_durable.runner.sandbox import Sandbox, current_sandbox


def _real_wait(seconds: float) -> None:
    threading.Event().wait(seconds)  # real time, whatever freezegun does


def _sandbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if getattr(t, "_pytest_durable_sandbox", None)]


def _wait_for_no_sandbox_threads(limit: float = 5.0) -> list[threading.Thread]:
    deadline = time.perf_counter() + limit
    while _sandbox_threads() and time.perf_counter() < deadline:
        _real_wait(0.02)
    return _sandbox_threads()


def spin_forever(_: object) -> None:
    while True:  # an endless loop: only an asynchronous exception can stop it
        pass


@durable_execution
def endless(event, context: DurableContext):
    context.step(lambda _: "fine", name="first")
    return context.step(spin_forever, name="spin")


def test_the_error_names_the_operation_and_shows_the_stack():
    with DurableEnvironment(invocation_wall_timeout=0.3) as env:
        with pytest.raises(HandlerTimeoutError) as caught:
            env.run(endless)
        message = str(caught.value)
        assert "within 0.3 s" in message
        assert "It was running STEP 'spin'" in message
        assert "in spin_forever" in message  # the handler thread's stack, down to the loop
        assert "while True" in message
        assert env.results()[0].status == "RUNNING"
    # The loop was stopped: no thread of the sandbox is left running.
    assert _wait_for_no_sandbox_threads() == []


@durable_execution
def sleeps_then_steps(event, context: DurableContext):
    def nap(_: object) -> str:
        _real_wait(event["seconds"])
        return "woke"

    woke = context.step(nap, name="nap")
    return context.step(lambda _: woke + " and went on", name="after")


def test_nothing_of_the_abandoned_invocation_reaches_the_service(caplog):
    caplog.set_level(logging.DEBUG)
    with DurableEnvironment(invocation_wall_timeout=0.2) as env:
        with pytest.raises(HandlerTimeoutError, match="STEP 'nap'"):
            env.run(sleeps_then_steps, {"seconds": 0.6})
        execution = env.service.executions[0]
        history = list(execution.history)
        checkpoints = len(env.checkpoints.calls(execution.arn))
        caplog.clear()
        _real_wait(1.0)  # the nap ends meanwhile; its step would checkpoint now
        assert list(execution.history) == history
        assert len(env.checkpoints.calls(execution.arn)) == checkpoints
    assert _wait_for_no_sandbox_threads() == []
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == []


def test_a_killed_sandbox_request_never_reaches_the_service():
    # The fence itself: a thread of a killed sandbox calling the service through the SDK's
    # client raises SandboxKilled before anything is applied.
    with DurableEnvironment() as env:
        driver = env.start(endless)
        outcome: list[BaseException | None] = []
        sandbox = Sandbox("test")

        def call() -> None:
            sandbox.kill()
            try:
                env._sdk_client.get_durable_execution(DurableExecutionArn=driver.arn)
                outcome.append(None)
            except BaseException as error:
                outcome.append(error)

        sandbox.start(call).join(10)
        assert len(outcome) == 1 and isinstance(outcome[0], SandboxKilled)


HUNG_SUITE = """
import time

import pytest
from aws_durable_execution_sdk_python import durable_execution

from pytest_durable import HandlerTimeoutError


@durable_execution
def handler(event, context):
    return context.step(lambda _: time.sleep(600), name="stuck")


@pytest.mark.durable(invocation_wall_timeout=1)
def test_hung(durable):
    with pytest.raises(HandlerTimeoutError, match="STEP 'stuck'"):
        durable.run(handler)


def test_after(durable):
    assert durable.run(durable_execution(lambda e, c: "ok")).output == "ok"
"""


# When pytest is done (after its summary), the time, for the parent to compare with the exit.
DONE_STAMP = """
import pathlib
import time


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):  # the controller, not an xdist worker
        pathlib.Path("done-at").write_text(repr(time.time()))
"""


@pytest.mark.parametrize("workers", [None, "1"], ids=["plain", "xdist"])
def test_pytest_exits_right_after_a_hung_handler(pytester: pytest.Pytester, workers):
    # Regression: concurrent.futures joins every ThreadPoolExecutor worker at exit, so the SDK's
    # handler thread, asleep for 600 s, kept the finished pytest process alive until it woke.
    pytester.makepyfile(test_hung=HUNG_SUITE)
    pytester.makeconftest(DONE_STAMP)
    args = ["-p", "no:randomly", "-q"] + (["-n", workers] if workers else [])
    result = pytester.runpytest_subprocess(*args, timeout=120)
    exited = time.time()
    result.assert_outcomes(passed=2)
    done = float((pytester.path / "done-at").read_text())
    assert exited - done < 10, f"pytest exited {exited - done:.1f} s after it was done"
    assert "Checkpoint" not in result.stdout.str() + result.stderr.str()


def test_a_sandbox_that_dies_mid_invocation_is_invoked_again(durable):
    # Sandbox.kill() is any "the sandbox died here": the invocation ends as a crashed runtime
    # at once, nothing more of it reaches the service, and Lambda invokes the execution again.
    lives: list[str] = []

    def charge(_: object) -> str:
        lives.append("life")
        if len(lives) == 1:
            sandbox = current_sandbox()
            assert sandbox is not None
            sandbox.kill()
            return "never checkpointed"  # this thread goes on, but is not heard
        return "charged"

    @durable_execution
    def handler(event, context: DurableContext):
        return context.step(charge, name="charge")

    result = durable.run(handler)
    assert (result.status, result.output) == ("SUCCEEDED", "charged")
    assert len(lives) == 2
    completed = [e for e in result.history if e["EventType"] == "InvocationCompleted"]
    error = completed[0]["InvocationCompletedDetails"]["Error"]["Payload"]
    assert error["ErrorType"] == "Runtime.ExitError"
    assert "never checkpointed" not in str(result.history)
