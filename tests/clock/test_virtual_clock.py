"""The virtual clock: real rate from a movable origin, jumps, holds, and freezegun following it."""

from __future__ import annotations

import datetime
import threading
import time

import pytest

from pytest_durable.clock import VirtualClock

START = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


def _real_pause(seconds: float) -> None:
    threading.Event().wait(seconds)  # a real-time wait that freezegun cannot touch


def test_it_starts_where_asked_and_ticks_at_the_real_rate():
    clock = VirtualClock(START)
    first = clock.now()
    _real_pause(0.02)
    elapsed = clock.now() - first
    assert first - START < datetime.timedelta(seconds=1)
    assert datetime.timedelta(milliseconds=15) <= elapsed < datetime.timedelta(seconds=1)


def test_jumps_only_go_forward():
    clock = VirtualClock(START)
    clock.advance(datetime.timedelta(days=7))
    assert clock.now() - START >= datetime.timedelta(days=7)
    before = clock.now_ms()
    clock.advance_to(START)  # the past: no-op
    assert clock.now_ms() >= before
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)


def test_hold_stands_still_except_for_jumps_and_running_ticks_inside_it():
    clock = VirtualClock(START)
    with clock.hold():
        held = clock.now_us()
        _real_pause(0.02)
        assert clock.now_us() == held
        clock.advance(5)
        assert clock.now_us() == held + 5_000_000
        with clock.running():
            inner = clock.now_us()
            _real_pause(0.02)
            assert clock.now_us() - inner >= 15_000
        after_running = clock.now_us()
        _real_pause(0.02)
        assert clock.now_us() == after_running
    _real_pause(0.02)
    assert clock.now_us() > after_running


def test_freeze_makes_the_process_clock_follow_including_jumps_and_holds():
    clock = VirtualClock(START)
    with clock.freeze():
        assert clock.is_frozen
        assert abs(datetime.datetime.now(datetime.UTC) - clock.now()) < datetime.timedelta(
            seconds=1
        )
        clock.advance(datetime.timedelta(days=3))
        assert datetime.datetime.now(datetime.UTC).date() == datetime.date(2030, 1, 4)
        assert abs(time.time() - clock.time()) < 1
        with clock.hold():
            assert datetime.datetime.now(datetime.UTC) == clock.now()
    assert not clock.is_frozen
    assert datetime.datetime.now(datetime.UTC).year < 2030
