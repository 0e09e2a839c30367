"""A user's own time-machine or freezegun inside a durable test moves the durable clock: the
handler, the service and the test see one time. What the durable clock cannot do (go back, tick
per read) fails at once, saying what to do. Through the real SDK."""

from __future__ import annotations

import datetime
import threading
import time

import freezegun
import pytest
import time_machine
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration

from pytest_durable import ClockPatchError, DurableEnvironment

UTC = datetime.UTC
MAY_5 = datetime.datetime(2035, 5, 5, tzinfo=UTC)


def _now_iso(_ctx) -> str:
    return datetime.datetime.now(UTC).isoformat()


@durable_execution
def a_day_apart(event, context: DurableContext):
    before = context.step(_now_iso, name="before")
    context.wait(Duration.from_days(1), name="a-day")
    after = context.step(_now_iso, name="after")
    return {"before": before, "after": after}


def _assert_one_day_apart_from(result, start: datetime.datetime) -> None:
    before = datetime.datetime.fromisoformat(result.output["before"])
    after = datetime.datetime.fromisoformat(result.output["after"])
    assert start <= before < start + datetime.timedelta(seconds=5)
    assert datetime.timedelta(days=1) <= after - before < datetime.timedelta(days=1, seconds=5)
    # The service's timestamps are the handler's.
    assert start <= result.start < start + datetime.timedelta(seconds=5)
    wait = result.operation("a-day")
    assert wait.end - wait.start == datetime.timedelta(days=1)
    assert abs(wait.end - after) < datetime.timedelta(seconds=5)


# ----------------------------------------------------------------- time-machine


def test_time_machine_travel_moves_the_durable_clock(durable):
    with time_machine.travel(MAY_5):
        result = durable.run(a_day_apart)
        assert result.status == "SUCCEEDED"
        _assert_one_day_apart_from(result, MAY_5)
        # The test sees what the handler and the service saw.
        assert abs(datetime.datetime.now(UTC) - durable.clock.now()) < datetime.timedelta(seconds=1)
    # Leaving the travel does not take the durable clock back.
    assert durable.clock.now() > MAY_5 + datetime.timedelta(days=1)
    assert datetime.datetime.now(UTC) > MAY_5 + datetime.timedelta(days=1)


def test_shift_and_move_to_on_the_traveller_move_the_durable_clock(durable):
    with time_machine.travel(MAY_5) as traveller:
        traveller.shift(datetime.timedelta(days=10))
        assert durable.clock.now().date() == datetime.date(2035, 5, 15)
        traveller.move_to(datetime.datetime(2036, 1, 1, tzinfo=UTC))
        result = durable.run(a_day_apart)
    _assert_one_day_apart_from(result, datetime.datetime(2036, 1, 1, tzinfo=UTC))


def test_the_time_machine_fixture_works_with_durable(durable, time_machine):
    time_machine.move_to(MAY_5)
    assert durable.clock.now().date() == MAY_5.date()
    time_machine.shift(datetime.timedelta(hours=1))
    result = durable.run(a_day_apart)
    _assert_one_day_apart_from(result, MAY_5 + datetime.timedelta(hours=1))


@pytest.mark.time_machine(MAY_5)
def test_a_travel_started_before_the_durable_fixture_is_where_the_clock_starts(durable):
    assert abs(durable.clock.now() - MAY_5) < datetime.timedelta(seconds=5)
    result = durable.run(a_day_apart)
    _assert_one_day_apart_from(result, MAY_5)


def test_a_frozen_travel_holds_the_durable_clock_outside_invocations(durable):
    with time_machine.travel(MAY_5, tick=False):
        assert datetime.datetime.now(UTC) == MAY_5
        threading.Event().wait(0.02)  # real time passes; the test's time does not
        assert datetime.datetime.now(UTC) == MAY_5
        result = durable.run(a_day_apart)
        _assert_one_day_apart_from(result, MAY_5)
        assert datetime.datetime.now(UTC) == durable.clock.now()


def test_travelling_back_fails_at_once_saying_what_to_do(durable):
    with (
        pytest.raises(ClockPatchError, match=r"never goes back.*mark\.durable\(start="),
        time_machine.travel(datetime.datetime(2001, 1, 1, tzinfo=UTC)),
    ):
        pass  # pragma: no cover - never entered
    with time_machine.travel(MAY_5) as traveller:
        with pytest.raises(ClockPatchError, match="shift"):
            traveller.shift(-60)
        assert durable.clock.now() >= MAY_5


@pytest.mark.durable(start="2001-01-01T00:00:00Z")
def test_a_start_in_the_past_then_travel_forward(durable):
    with time_machine.travel(datetime.datetime(2001, 6, 1, tzinfo=UTC)):
        result = durable.run(a_day_apart)
    _assert_one_day_apart_from(result, datetime.datetime(2001, 6, 1, tzinfo=UTC))


# ----------------------------------------------------------------- freezegun


def test_freezegun_ticking_around_a_run_moves_the_durable_clock(durable):
    with freezegun.freeze_time("2035-05-05", tick=True):
        result = durable.run(a_day_apart)
        assert datetime.datetime.now(UTC) - durable.clock.now() < datetime.timedelta(seconds=1)
    assert result.status == "SUCCEEDED"
    _assert_one_day_apart_from(result, MAY_5)


def test_freezegun_frozen_holds_the_clock_and_its_tick_moves_it(durable):
    with freezegun.freeze_time("2035-05-05") as frozen:
        assert datetime.datetime.now() == datetime.datetime(2035, 5, 5)
        frozen.tick(datetime.timedelta(hours=2))
        assert durable.clock.now() == MAY_5 + datetime.timedelta(hours=2)
        result = durable.run(a_day_apart)
        _assert_one_day_apart_from(result, MAY_5 + datetime.timedelta(hours=2))
        frozen.move_to("2035-06-01")
        assert durable.clock.now() == datetime.datetime(2035, 6, 1, tzinfo=UTC)
        with pytest.raises(ClockPatchError, match="never goes back"):
            frozen.move_to("2035-01-01")


def test_freezegun_started_before_the_environment_is_where_the_clock_starts():
    with freezegun.freeze_time("2035-05-05", tick=True), DurableEnvironment() as env:
        result = env.run(a_day_apart)
    _assert_one_day_apart_from(result, MAY_5)


def test_freezegun_auto_tick_is_refused_with_advice(durable):
    with (
        pytest.raises(ClockPatchError, match=r"tick=True.*durable\.clock\.advance"),
        freezegun.freeze_time("2035-05-05", auto_tick_seconds=1),
    ):
        durable.run(a_day_apart)


# ----------------------------------------------------------------- every thread, every reference


class _Captured:
    """References taken before the environment starts, where module scanning cannot see them."""

    now = staticmethod(time.time)
    today = staticmethod(datetime.date.today)


def _map_item(ctx, item, index, items) -> dict:
    return ctx.step(
        lambda _: {
            "time": time.time(),
            "captured": _Captured.now(),
            "thread": threading.get_ident(),
        },
        name=f"read-{index}",
    )


@durable_execution
def read_in_map_branches(event, context: DurableContext):
    context.wait(Duration.from_days(30), name="a-month")
    return context.map([1, 2, 3, 4], _map_item, name="branches").get_results()


@pytest.mark.durable(start="2030-01-01T00:00:00Z")
def test_map_branches_on_pool_threads_and_captured_references_see_the_clock(durable):
    result = durable.run(read_in_map_branches)
    assert result.status == "SUCCEEDED"
    month_later = datetime.datetime(2030, 1, 31, tzinfo=UTC).timestamp()
    for branch in result.output:
        assert month_later <= branch["time"] < month_later + 5
        assert month_later <= branch["captured"] < month_later + 5
    assert _Captured.today() >= datetime.date(2030, 1, 31)
    assert threading.get_ident() not in {branch["thread"] for branch in result.output}


def test_monotonic_and_real_waits_stay_real(durable):
    before = time.monotonic()
    durable.clock.advance(datetime.timedelta(days=365))
    assert time.monotonic() - before < 60
    started = time.perf_counter()
    assert not threading.Event().wait(0.05)  # a jump does not cut a real wait short
    assert time.perf_counter() - started >= 0.045


# ----------------------------------------------------------------- after the environment


def test_a_travel_outliving_the_environment_goes_on_from_the_durable_time():
    with time_machine.travel(MAY_5) as traveller:
        with DurableEnvironment() as env:
            env.run(a_day_apart)
            end = env.clock.now()
        assert datetime.datetime.now(UTC) >= end  # no jump back when the clock stops
        traveller.shift(datetime.timedelta(days=1))  # a plain traveller again
        assert datetime.datetime.now(UTC) >= end + datetime.timedelta(days=1)
    assert type(time_machine.traveller_stack) is list
    assert time_machine.traveller_stack == []
    assert datetime.datetime.now(UTC) < MAY_5  # real time, unpatched


def test_a_freeze_outliving_the_environment_goes_on_from_the_durable_time():
    with freezegun.freeze_time("2035-05-05") as frozen:
        with DurableEnvironment() as env:
            env.run(a_day_apart)
            end = env.clock.now()
        assert datetime.datetime.now(UTC) == end  # frozen where the durable clock stopped
        frozen.tick(60)
        assert datetime.datetime.now(UTC) == end + datetime.timedelta(seconds=60)
    assert type(freezegun.api.freeze_factories) is list
    assert freezegun.api.freeze_factories == []
    assert datetime.datetime.now(UTC) < MAY_5


def test_an_environment_refused_at_entry_leaves_both_stacks_as_they_were():
    with time_machine.travel(datetime.datetime(2001, 1, 1, tzinfo=UTC), tick=False):
        with (
            pytest.raises(ClockPatchError, match="never goes back"),
            DurableEnvironment(start=MAY_5),
        ):
            pass  # pragma: no cover - never entered
        assert type(time_machine.traveller_stack) is list
        assert datetime.datetime.now(UTC) == datetime.datetime(2001, 1, 1, tzinfo=UTC)
