"""The runner's SDK patches change timing only, never what the SDK sends.

The idle-window skip (``pytest_durable.runner.sdk``) ends the SDK's 1 ms blocked-caller read
when nothing can join the batch. These tests run real ``@durable_execution`` handlers with the
skip on and off and compare every checkpoint call (type, action, Id and name of each update, per
call), and check the guard on the SDK's own ``ExecutionState``.
"""

from __future__ import annotations

import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python import state as sdk_state
from aws_durable_execution_sdk_python.config import (
    Duration,
    MapConfig,
    ParallelConfig,
    StepConfig,
    StepSemantics,
)
from aws_durable_execution_sdk_python.identifier import OperationIdentifier
from aws_durable_execution_sdk_python.lambda_service import OperationType, OperationUpdate
from aws_durable_execution_sdk_python.plugin import PluginExecutor
from aws_durable_execution_sdk_python.retries import (
    JitterStrategy,
    RetryStrategyConfig,
    create_retry_strategy,
)

from pytest_durable import DurableEnvironment
from pytest_durable.runner import sdk

RETRY = StepConfig(
    retry_strategy=create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=3,
            initial_delay=Duration.from_seconds(10),
            backoff_rate=1,
            jitter_strategy=JitterStrategy.NONE,
        )
    )
)
AT_MOST_ONCE = StepConfig(step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY)


class Attempts:
    """The retried step's attempt counter, reset before every run."""

    count = 0


def flaky(_: Any) -> str:
    Attempts.count += 1
    if Attempts.count < 3:
        raise RuntimeError(f"attempt {Attempts.count} fails")
    return "ok"


@durable_execution
def everything(event: Any, context: DurableContext) -> dict[str, Any]:
    first = context.step(lambda _: 1, name="first")
    once = context.step(lambda _: 2, name="at-most-once", config=AT_MOST_ONCE)
    context.wait(Duration.from_seconds(30), name="pause")
    retried = context.step(flaky, name="flaky", config=RETRY)
    child = context.run_in_child_context(
        lambda ctx: ctx.step(lambda _: 3, name="inner") + ctx.step(lambda _: 4, name="inner-2"),
        name="child",
    )
    mapped = context.map(
        [1, 2, 3],
        lambda ctx, item, _i, _items: ctx.step(lambda _: item * 10, name="times-ten"),
        name="items",
        config=MapConfig(max_concurrency=1),
    )
    branches = context.parallel(
        [
            lambda ctx: ctx.step(lambda _: "a", name="left"),
            lambda ctx: ctx.step(lambda _: "b", name="right"),
        ],
        name="both",
        config=ParallelConfig(max_concurrency=1),
    )
    last = context.step(lambda _: 5, name="after-all")
    return {
        "sum": first + once + child + last,
        "retried": retried,
        "mapped": mapped.get_results(),
        "branches": branches.get_results(),
    }


Shape = list[tuple[tuple[str, str, str, str | None], ...]]


def _calls(handler: Any, *, skip: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Shape, int]:
    monkeypatch.setattr(sdk, "SKIP_IDLE_BATCH_WINDOW", skip)
    Attempts.count = 0
    before = sdk.skipped_batch_windows()
    with DurableEnvironment() as env:
        assert env.idle_window_skip
        result = env.run(handler, {})
    assert result.status == "SUCCEEDED", result.error
    assert result.output == {
        "sum": 15,
        "retried": "ok",
        "mapped": [10, 20, 30],
        "branches": ["a", "b"],
    }
    shape = [
        tuple((u["Type"], u["Action"], u["Id"], u.get("Name")) for u in call.updates)
        for call in result.checkpoints
    ]
    return shape, sdk.skipped_batch_windows() - before


def test_checkpoint_calls_are_identical_with_and_without_the_skip(monkeypatch):
    # The SDK's own batching depends on thread timing (a batch whose first item is
    # asynchronous is read for up to 0.1 s), so a loaded machine can split a batch under either
    # setting. A difference the skip causes repeats; one caused by the scheduler does not.
    attempts = []
    for _ in range(3):
        kept, kept_skips = _calls(everything, skip=False, monkeypatch=monkeypatch)
        skipped, skips = _calls(everything, skip=True, monkeypatch=monkeypatch)
        assert kept_skips == 0
        assert skips > 0, "the skip never applied: the test would prove nothing"
        attempts.append((kept, skipped))
        if kept == skipped:
            break
    else:
        kept, skipped = attempts[-1]
        assert skipped == kept
    # Every kind of update took part (a small execution result is returned, not sent).
    kinds = {(kind, action) for call in kept for kind, action, _, _ in call}
    assert kinds >= {
        ("STEP", "START"),
        ("STEP", "SUCCEED"),
        ("STEP", "RETRY"),
        ("WAIT", "START"),
        ("CONTEXT", "START"),
        ("CONTEXT", "SUCCEED"),
    }
    assert any(len(call) > 1 for call in kept), "no batch held more than one update"


# ------------------------------------------------------------------ the guard, on the SDK's state


class _Unused:
    """A service client the state never calls here (no checkpoint thread runs)."""

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("not called")

    def get_execution_state(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("not called")


@pytest.fixture
def state():
    with sdk.skip_idle_batch_window() as on:
        assert on
        yield sdk_state.ExecutionState(
            durable_execution_arn="arn:aws:lambda:us-east-1:123456789012:function:f/durable-execution/n/i",
            initial_checkpoint_token="token",
            operations={},
            service_client=_Unused(),
            plugin_executor=PluginExecutor([]),
        )


def _async_step_start(state: Any, name: str) -> None:
    identifier = OperationIdentifier(
        operation_id=name, sub_type="Step", name=name, operation_type=OperationType.STEP
    )
    state.create_checkpoint(OperationUpdate.create_step_start(identifier), is_sync=False)


def _drain(state: Any) -> None:
    while not state._checkpoint_queue.empty():
        state._checkpoint_queue.get_nowait()


def test_guard_allows_the_skip_for_a_lone_checkpointing_thread(state):
    _async_step_start(state, "one")
    assert not sdk._nobody_else_can_add(state), "an item is queued: it must be read"
    _drain(state)
    assert sdk._nobody_else_can_add(state)


def test_guard_keeps_the_window_while_another_checkpointing_thread_lives(state):
    release = threading.Event()

    def sibling() -> None:
        _async_step_start(state, "sibling")
        release.wait(10)

    thread = threading.Thread(target=sibling)
    thread.start()
    try:
        _async_step_start(state, "main")
        while state._checkpoint_queue.qsize() < 2:
            time.sleep(0.001)
        _drain(state)
        assert not sdk._nobody_else_can_add(state)
    finally:
        release.set()
        thread.join(10)
    assert sdk._nobody_else_can_add(state)


def test_guard_keeps_the_window_while_a_branch_pool_may_run(state):
    release = threading.Event()
    pool = ThreadPoolExecutor(max_workers=2)
    state.register_branch_pool(pool)
    pool.submit(release.wait, 10)
    assert not sdk._nobody_else_can_add(state), "a running pool"
    pool.shutdown(wait=False)
    assert not sdk._nobody_else_can_add(state), "shut down, but its thread still runs a branch"
    release.set()
    pool.shutdown(wait=True)
    assert sdk._nobody_else_can_add(state)


def test_guard_keeps_the_window_while_a_refresh_is_pending(state):
    refresh = state.schedule_refresh(time.time() + 3600)
    _drain(state)  # its wake signal
    assert not sdk._nobody_else_can_add(state)
    refresh.cancel()


def test_an_sdk_without_the_structure_gets_a_warning_and_the_window(monkeypatch):
    # A future SDK whose read timeout takes another argument: the skip must not guess.
    original = sdk_state.ExecutionState._read_timeout

    def changed(self, batch, now, deadline, extra=None):
        return original(self, batch, now, deadline)

    monkeypatch.setattr(sdk_state.ExecutionState, "_read_timeout", changed)
    assert not sdk.batch_window_skip_supported()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with DurableEnvironment() as env:
            result = env.run(everything_small, {})
    assert not env.idle_window_skip
    assert result.status == "SUCCEEDED"
    assert any("1 ms" in str(w.message) for w in caught)


@durable_execution
def everything_small(event: Any, context: DurableContext) -> int:
    return context.step(lambda _: 1, name="one")


# ------------------------------------------------------------------ the checkpoint log's snapshot


def test_checkpoint_calls_are_snapshots_a_test_cannot_change_the_service_through():
    with DurableEnvironment() as env:
        result = env.run(everything_small, {})
        call = result.checkpoints[0]
        first = call.updates[0]
        assert call.updates[0] is first  # read back once, then kept
        assert first["Name"] == "one"
        first["Name"] = "changed by the test"
        for operation in call.response["NewExecutionState"]["Operations"]:
            operation.clear()
        fresh = env.results()[0]
    assert fresh.operation("one").name == "one"
    assert fresh.operation("one").result == 1
