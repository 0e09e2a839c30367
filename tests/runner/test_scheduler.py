"""One scheduler per environment: every execution on one virtual timeline.

Executions a test starts run together during its drives; time skips only when nothing runs,
and then to the earliest due item across all executions; an execution that only waits for the
outside world does not pull time to its callback's timeout; a chained target runs concurrently
with its caller and its callbacks are answered from the test through its own driver."""

from __future__ import annotations

import datetime
import threading

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration

from pytest_durable import DurableEnvironment, ExecutionBlockedError
from pytest_durable.clock import _Real

HOUR = datetime.timedelta(hours=1)


@durable_execution
def wait_an_hour(event, context: DurableContext):
    context.wait(Duration.from_hours(1), name="hour")
    return context.step(lambda _: event["n"], name="after")


@durable_execution
def waits_for_approval(event, context: DurableContext):
    config = CallbackConfig(timeout=Duration.from_hours(24))
    return context.create_callback(name="approval", config=config).result()


def _events(result, event_type):
    return [e for e in result.history if e["EventType"] == event_type]


def test_fifty_started_executions_share_one_timeline(durable):
    started = _Real.monotonic()
    idle = durable.start(waits_for_approval).run_until_blocked()
    drivers = [durable.start(wait_an_hour, {"n": n}) for n in range(50)]
    results = [driver.run() for driver in drivers]
    elapsed = _Real.monotonic() - started

    assert [r.status for r in results] == ["SUCCEEDED"] * 50
    assert [r.output for r in results] == list(range(50))
    for result in results:
        (wait_started,) = _events(result, "WaitStarted")
        (wait_done,) = _events(result, "WaitSucceeded")
        assert wait_done["EventTimestamp"] - wait_started["EventTimestamp"] == HOUR
    span = max(r.end for r in results) - min(r.start for r in results)
    assert span < 2 * HOUR, span  # each wait did not jump the shared clock on its own
    # The idle execution only waits for the test: its 24-hour timeout did not come.
    assert idle.result().status == "RUNNING"
    assert idle.callback("approval").id in {c.id for c in idle.callbacks}
    assert elapsed < 30, f"{elapsed:.1f} s"  # a few seconds on a quiet machine


def test_an_execution_driven_in_passing_does_not_race_to_its_callback_timeout(durable):
    idle = durable.start(waits_for_approval)
    busy = durable.start(wait_an_hour, {"n": 1})
    assert busy.run().output == 1
    # The idle execution was invoked during busy's drive (it was due), then only waited.
    assert idle.callbacks and idle.result().status == "RUNNING"
    # Driven to its end itself, its timeout is what moves it on.
    result = idle.run()
    assert result.operation("approval").status == "TIMED_OUT"


def test_a_timer_of_one_execution_fires_on_time_while_another_waits_longer(durable):
    @durable_execution
    def ten_minutes(event, context: DurableContext):
        context.wait(Duration.from_minutes(10), name="short")
        return context.step(lambda _: datetime.datetime.now(datetime.UTC).isoformat(), name="t")

    long = durable.start(wait_an_hour, {"n": 0})
    short = durable.start(ten_minutes)
    long.run()
    result = short.result()
    assert result.status == "SUCCEEDED"
    seen = datetime.datetime.fromisoformat(result.output)
    assert seen - result.start < datetime.timedelta(minutes=11)


# ------------------------------------------------------------------ chained targets


@durable_execution
def target(event, context: DurableContext):
    context.wait(Duration.from_hours(1), name="target-wait")
    return context.create_callback(name="target-approval").result()


@durable_execution
def caller(event, context: DurableContext):
    def timer_branch(child: DurableContext) -> str:
        child.wait(Duration.from_minutes(10), name="ten-minutes")
        return child.step(lambda _: datetime.datetime.now(datetime.UTC).isoformat(), name="stamp")

    def invoke_branch(child: DurableContext) -> str:
        return child.invoke("target", {}, name="call-target")

    return context.parallel([timer_branch, invoke_branch], name="both").get_results()


def test_a_parallel_branch_timer_fires_inside_a_chained_targets_wait(durable):
    durable.register_durable_function("target", target)
    driver = durable.start(caller).run_until_blocked()

    # Blocked on the target's callback, an hour in; the caller's branch went on at 10 minutes.
    stamp = driver.result().operation("stamp")
    assert stamp.status == "SUCCEEDED"
    history = driver.result().history
    (ten_started,) = [e for e in history if e["EventType"] == "WaitStarted"]
    (ten_done,) = [e for e in history if e["EventType"] == "WaitSucceeded"]
    assert ten_done["EventTimestamp"] - ten_started["EventTimestamp"] == datetime.timedelta(
        minutes=10
    )
    assert stamp.end - driver.result().start < datetime.timedelta(minutes=11)

    invoked = driver.invoked("call-target")
    target_history = invoked.result().history
    waited = [e for e in target_history if e["EventType"] in ("WaitStarted", "WaitSucceeded")]
    assert waited[1]["EventTimestamp"] - waited[0]["EventTimestamp"] == HOUR
    invoked.callback("target-approval").succeed("approved")

    result = driver.run()
    assert result.status == "SUCCEEDED"
    assert result.output[1] == "approved"
    assert invoked.result().status == "SUCCEEDED"


def test_a_blocked_target_names_the_driver_to_answer_it(durable):
    durable.register_durable_function("target", target)
    with pytest.raises(ExecutionBlockedError, match=r"driver.invoked\(invoke_name\)"):
        durable.start(caller).run()


def test_invoked_needs_a_started_durable_target(durable):
    durable.register_durable_function("target", target)
    driver = durable.start(caller)
    with pytest.raises(LookupError, match="started so far: none"):
        driver.invoked("call-target")


# ------------------------------------------------------------------ advance and threads


def test_advance_moves_every_started_execution_through_the_window(durable):
    first = durable.start(wait_an_hour, {"n": 1})
    second = durable.start(wait_an_hour, {"n": 2})
    first.advance(datetime.timedelta(minutes=30))
    assert first.result().status == second.result().status == "RUNNING"
    first.advance(datetime.timedelta(minutes=31))
    assert first.result().output == 1
    assert second.result().output == 2


def test_drives_from_two_threads_take_turns():
    with DurableEnvironment() as env:
        drivers = [env.start(wait_an_hour, {"n": n}) for n in range(4)]
        outputs: list[object] = []

        def run(index: int) -> None:
            outputs.append(drivers[index].run().output)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outputs) == [0, 1, 2, 3]  # type: ignore[type-var]
