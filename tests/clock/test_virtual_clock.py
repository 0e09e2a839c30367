"""The virtual clock: real rate from a movable origin, jumps, holds, the process time following."""

from __future__ import annotations

import datetime
import threading
import time

import pytest

from pytest_durable.clock import VirtualClock

START = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


def _real_pause(seconds: float) -> None:
    threading.Event().wait(seconds)  # a real-time wait no time patching touches


def test_it_starts_where_asked_and_ticks_at_the_real_rate():
    clock = VirtualClock(START)
    first = clock.now()
    _real_pause(0.02)
    elapsed = clock.now() - first
    assert first - START < datetime.timedelta(seconds=1)
    # The upper bound only says it did not jump; a loaded machine may stretch the real pause.
    assert datetime.timedelta(milliseconds=15) <= elapsed < datetime.timedelta(seconds=30)


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


def test_holds_and_runs_on_different_threads_in_any_order_leave_it_consistent():
    # Regression: hold() and running() shared one counter, and running() saved and restored it,
    # so blocks closed out of order on different threads pushed it below zero (time stopped
    # for good) or left it held with nothing holding it.
    clock = VirtualClock(START)
    hold_a, hold_b, run_c = clock.hold(), clock.hold(), clock.running()
    hold_a.__enter__()
    run_c.__enter__()
    assert clock.ticking
    hold_b.__enter__()
    hold_a.__exit__(None, None, None)
    assert clock.ticking  # still running
    run_c.__exit__(None, None, None)
    assert not clock.ticking  # hold_b is still open
    held = clock.now_us()
    _real_pause(0.01)
    assert clock.now_us() == held
    hold_b.__exit__(None, None, None)
    assert clock.ticking
    _real_pause(0.01)
    assert clock.now_us() > held


def test_monotonic_under_threads_holding_running_and_jumping():
    clock = VirtualClock(START)
    stop = threading.Event()
    backward: list[tuple[int, int]] = []
    readings = [0]

    def read() -> None:
        last = clock.now_us()
        while not stop.is_set():
            value = clock.now_us()
            readings[0] += 1
            if value < last:
                backward.append((last, value))
            last = value

    def cycle(seed: int) -> None:
        for i in range(4000):
            if (i + seed) % 3 == 0:
                with clock.running(), clock.hold():
                    clock.now_us()
            else:
                with clock.hold(), clock.running():
                    if i % 500 == seed:
                        clock.advance(0.001)

    readers = [threading.Thread(target=read) for _ in range(3)]
    writers = [threading.Thread(target=cycle, args=(seed,)) for seed in range(4)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=60)
    stop.set()
    for thread in readers:
        thread.join(timeout=10)
    assert readings[0] > 1000
    assert backward == []
    assert clock.ticking  # every block closed: the clock ticks again
    before = clock.now_us()
    _real_pause(0.01)
    assert clock.now_us() > before
