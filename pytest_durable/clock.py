"""Virtual time: one clock for the fake service, the runner and the handler's own code.

The clock runs at the real rate from a movable origin ("real time plus an offset", like the
official runner's skip clock), and the runner jumps it forward to the next durable timer whenever
the execution has nothing else to do. So a 7-day wait costs no wall time, while code that really
runs (a step doing work, a map branch still busy) sees time pass as it would in Lambda. That
keeps the SDK's in-process map/parallel resumes working: their real-time queue timeouts are
computed from virtual timestamps that advance as real time does (protocol.md §5), instead of a
frozen clock that never lets a resume wave come due.

:meth:`VirtualClock.freeze` makes the handler see the same time through freezegun:
``datetime.now()`` and ``time.time()`` in a step after a 7-day wait are 7 days later.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import freezegun
from freezegun import api as _freezegun_api


class _Real:
    """The real clock functions, held as class attributes: freezegun rewrites module-level
    references to them when it starts, but not attributes of classes. freezegun keeps the
    unpatched originals, so this works even if the module is imported while time is frozen."""

    monotonic: Callable[[], float] = _freezegun_api.real_monotonic
    datetime: type[_dt.datetime] = _freezegun_api.real_datetime


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
# Modules that keep real time under freeze(): pytest's durations and reports.
REAL_TIME_MODULES = ("_pytest.timing", "_pytest.terminal", "_pytest.runner")
Duration = float | int | _dt.timedelta


def _seconds(duration: Duration) -> float:
    if isinstance(duration, _dt.timedelta):
        return duration.total_seconds()
    return float(duration)


class VirtualClock:
    """Epoch time that ticks at the real rate and jumps forward on demand. Never goes back."""

    def __init__(self, start: _dt.datetime | None = None) -> None:
        if start is None:
            start = _Real.datetime.now(_dt.UTC)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=_dt.UTC)
        self._lock = threading.Lock()
        # (virtual epoch µs, real monotonic s) at the last jump; swapped as one tuple so that
        # readers on other threads never see half of a jump.
        self._origin = ((start - _EPOCH) // _dt.timedelta(microseconds=1), _Real.monotonic())
        # How many hold() blocks are open: while held, the clock stands still.
        self._held = 0
        self._frozen: Any = None
        self._is_frozen = False

    # ------------------------------------------------------------- reading

    def now_us(self) -> int:
        origin_us, origin_real = self._origin
        if self._held:
            return origin_us
        return origin_us + int((_Real.monotonic() - origin_real) * 1_000_000)

    def now_ms(self) -> int:
        """Epoch milliseconds: the service's unit."""
        return self.now_us() // 1000

    def now(self) -> _dt.datetime:
        """The virtual time as an aware UTC datetime."""
        return _EPOCH + _dt.timedelta(microseconds=self.now_us())

    def time(self) -> float:
        """The virtual time as epoch seconds, like ``time.time()``."""
        return self.now_us() / 1_000_000

    # ------------------------------------------------------------- moving

    def advance(self, duration: Duration) -> _dt.datetime:
        """Move forward by ``duration`` (seconds or a timedelta). Returns the new time."""
        seconds = _seconds(duration)
        if seconds < 0:
            raise ValueError(f"the virtual clock only moves forward; got {duration!r}")
        with self._lock:
            self._rebase(self.now_us() + int(seconds * 1_000_000))
        return self.now()

    def advance_to(self, when: _dt.datetime | int) -> _dt.datetime:
        """Move forward to ``when`` (an aware datetime, or epoch milliseconds). Moving to a time
        already past is a no-op: virtual time never goes back."""
        if isinstance(when, _dt.datetime):
            target_us = (
                (when if when.tzinfo else when.replace(tzinfo=_dt.UTC)) - _EPOCH
            ) // _dt.timedelta(microseconds=1)
        else:
            target_us = int(when) * 1000
        with self._lock:
            if target_us > self.now_us():
                self._rebase(target_us)
        return self.now()

    @contextmanager
    def hold(self) -> Iterator[VirtualClock]:
        """Stop the clock for the duration, except for explicit jumps.

        The runner holds it between invocations, while nothing of the handler runs: timers fire
        and declared answers arrive at exactly their virtual times (a callback answered "after 5
        hours" ends 5 hours after it started, not 5 hours and a millisecond). Re-entrant."""
        with self._lock:
            if self._held == 0:
                self._origin = (self.now_us(), _Real.monotonic())
            self._held += 1
        try:
            yield self
        finally:
            with self._lock:
                self._held -= 1
                if self._held == 0:
                    self._origin = (self._origin[0], _Real.monotonic())

    @contextmanager
    def running(self) -> Iterator[VirtualClock]:
        """Tick at the real rate for the duration even inside :meth:`hold`: code is running
        (an invocation of a handler), and time passes for it as it would in Lambda."""
        with self._lock:
            current = self.now_us()  # held: the held time; ticking: the time now
            held, self._held = self._held, 0
            self._origin = (current, _Real.monotonic())
        try:
            yield self
        finally:
            with self._lock:
                self._origin = (self.now_us(), _Real.monotonic())
                self._held = held

    def _rebase(self, origin_us: int) -> None:
        self._origin = (origin_us, _Real.monotonic())
        if self._frozen is not None:
            self._frozen.move_to(self._naive_now())

    def _naive_now(self) -> _dt.datetime:
        return _Real.datetime(1970, 1, 1) + _dt.timedelta(microseconds=self.now_us())

    # ------------------------------------------------------------- freezegun

    @contextmanager
    def freeze(self) -> Iterator[VirtualClock]:
        """Make ``datetime``/``time`` everywhere in the process follow this clock.

        freezegun reads this clock directly: its active time factory is replaced by this
        clock's, so the handler, the service and the test see one time, held or ticking. Should a
        future freezegun keep its factories elsewhere, its ticking mode is moved along with every
        jump instead (the same times, give or take the instants the clock is held).
        """
        # freezegun's default ignore list makes a fake clock function return *real* time when
        # one of the caller's 5 nearest frames is in an ignored module, such as `threading` or
        # `queue`. Code a few frames below `threading.Thread.run` (the SDK's worker threads, or
        # our invocation thread) would then mix two clocks, e.g. `subprocess.run(timeout=60)`
        # timing out at once. One clock for everything; only pytest's own timing and reporting
        # keep real time.
        saved_ignore = list(freezegun.config.settings.default_ignore_list)
        freezegun.configure(default_ignore_list=list(REAL_TIME_MODULES))
        try:
            freezer = freezegun.freeze_time(self._naive_now(), tick=True)
        finally:
            freezegun.configure(default_ignore_list=saved_ignore)
        factory = freezer.start()
        factories = getattr(_freezegun_api, "freeze_factories", None)
        if isinstance(factories, list) and factories and factories[-1] is factory:
            factories[-1] = self._naive_now
        else:  # pragma: no cover - a freezegun without the factory stack
            self._frozen = factory
            factory.move_to(self._naive_now())
        self._is_frozen = True
        try:
            yield self
        finally:
            self._frozen = None
            self._is_frozen = False
            freezer.stop()

    @property
    def is_frozen(self) -> bool:
        """Whether the process's ``datetime``/``time`` currently follow this clock."""
        return self._is_frozen

    def __repr__(self) -> str:
        return f"VirtualClock({self.now().isoformat()})"
