"""Virtual time: one clock for the fake service, the runner and the handler's own code.

The clock runs at the real rate from a movable origin ("real time plus an offset", like the official
runner's skip clock), and the runner jumps it forward to the next durable timer whenever the
execution has nothing else to do. So a 7-day wait costs no wall time, while code that really runs (a
step doing work, a map branch still busy) sees time pass as it would in Lambda. That keeps the SDK's
in-process map/parallel resumes working: their real-time queue timeouts are computed from virtual
timestamps that advance as real time does (docs/service-semantics.md#timers), instead of a frozen
clock that never lets a resume wave come due.

:meth:`VirtualClock.freeze` makes the handler see the same time (through time-machine, see
:mod:`pytest_durable.time_patching`): ``datetime.now()`` and ``time.time()`` in a step after a
7-day wait are 7 days later.
"""

from __future__ import annotations

import datetime as _dt
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pytest_durable.parsing import Duration, to_seconds


def _real_monotonic() -> Callable[[], float]:
    """``time.monotonic`` as it really is. The engine (time-machine) leaves it alone, but a
    user's freezegun replaces module attributes; it keeps the original."""
    freezegun_api = sys.modules.get("freezegun.api")
    if freezegun_api is not None:
        original: Callable[[], float] = freezegun_api.real_monotonic
        return original
    return time.monotonic


class _Real:
    """The real monotonic clock, held as a class attribute: freezegun (if a user starts it)
    rewrites module-level references to it, but not attributes of classes."""

    monotonic: Callable[[], float] = _real_monotonic()


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


class VirtualClock:
    """Epoch time that ticks at the real rate and jumps forward on demand. Never goes back.

    Every read and every change happens under one lock, so the clock is monotonic whatever
    the threads: a reader can never combine half of a jump with the other half, and the value
    at each change of state (held, ticking, jumped) is continuous with the one just before.
    """

    def __init__(self, start: _dt.datetime | None = None) -> None:
        if start is None:
            # The time the process sees: the real time, or a user's time-machine travel or
            # freezegun freeze already running (which the clock then adopts, see freeze()).
            start_us = time.time_ns() // 1000
        else:
            if start.tzinfo is None:
                start = start.replace(tzinfo=_dt.UTC)
            start_us = (start - _EPOCH) // _dt.timedelta(microseconds=1)
        self._lock = threading.Lock()
        # (virtual epoch µs, real monotonic s) of the last change of state.
        self._origin_us = start_us
        self._origin_real = _Real.monotonic()
        # The latest value handed out: a floor, so that no reading is ever below an earlier one.
        self._last_us = self._origin_us
        # Open hold() and running() blocks. Each block undoes only its own count, so blocks
        # opened and closed on different threads in any order leave the clock consistent.
        self._holds = 0
        self._runs = 0
        self._ticking = True

    # ------------------------------------------------------------- reading

    def now_us(self) -> int:
        with self._lock:
            return self._now_locked(_Real.monotonic())

    def _now_locked(self, real: float) -> int:
        value = self._origin_us
        if self._ticking:
            value += int((real - self._origin_real) * 1_000_000)
        if value < self._last_us:
            return self._last_us
        self._last_us = value
        return value

    def now_ms(self) -> int:
        """Epoch milliseconds: the service's unit."""
        return self.now_us() // 1000

    def now(self) -> _dt.datetime:
        """The virtual time as an aware UTC datetime."""
        return _EPOCH + _dt.timedelta(microseconds=self.now_us())

    def time(self) -> float:
        """The virtual time as epoch seconds, like ``time.time()``."""
        return self.now_us() / 1_000_000

    @property
    def ticking(self) -> bool:
        """Whether time passes at the real rate now (False: it stands still between jumps)."""
        with self._lock:
            return self._ticking

    # ------------------------------------------------------------- moving

    def advance(self, duration: Duration) -> _dt.datetime:
        """Move forward by ``duration`` (seconds or a timedelta). Returns the new time."""
        seconds = to_seconds(duration)
        if seconds < 0:
            raise ValueError(f"the virtual clock only moves forward; got {duration!r}")
        with self._lock:
            real = _Real.monotonic()
            self._rebase(self._now_locked(real) + int(seconds * 1_000_000), real)
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
            real = _Real.monotonic()
            if target_us > self._now_locked(real):
                self._rebase(target_us, real)
        return self.now()

    @contextmanager
    def hold(self) -> Iterator[VirtualClock]:
        """Stop the clock for the duration, except for jumps, unless code is running.

        The runner holds it while it decides what happens next and nothing of a handler runs:
        timers fire and declared answers arrive at exactly their virtual times (a callback
        answered "after 5 hours" ends 5 hours after it started, not 5 hours and a millisecond).
        Re-entrant, and safe to open on several threads: the clock stands still while at
        least one hold is open and no :meth:`running` block is."""
        self._change(holds=1)
        try:
            yield self
        finally:
            self._change(holds=-1)

    @contextmanager
    def running(self) -> Iterator[VirtualClock]:
        """Tick at the real rate for the duration, even while held: code is running (an
        invocation of a handler), and time passes for everyone as it would in Lambda."""
        self._change(runs=1)
        try:
            yield self
        finally:
            self._change(runs=-1)

    def _change(self, *, holds: int = 0, runs: int = 0) -> None:
        with self._lock:
            self._holds += holds
            self._runs += runs
            ticking = self._runs > 0 or self._holds == 0
            if ticking != self._ticking:
                real = _Real.monotonic()
                current = self._now_locked(real)
                self._ticking = ticking
                self._rebase(current, real)

    def _rebase(self, origin_us: int, real: float) -> None:
        """Start counting from ``origin_us`` at real time ``real``; the caller holds the lock."""
        self._origin_us = origin_us
        self._origin_real = real
        self._last_us = max(self._last_us, origin_us)

    # ------------------------------------------------------------- the process's time

    @contextmanager
    def freeze(self) -> Iterator[VirtualClock]:
        """Make ``datetime``/``time`` everywhere in the process follow this clock, on every
        thread, held or ticking; a user's own time-machine travel or freezegun freeze inside the
        block moves this clock instead of splitting from it (:mod:`pytest_durable.time_patching`).
        ``time.monotonic``, ``time.perf_counter`` and ``time.sleep`` stay real."""
        from pytest_durable.time_patching import follow  # noqa: PLC0415 - loads time-machine

        with follow(self):
            yield self

    @property
    def is_frozen(self) -> bool:
        """Whether the process's ``datetime``/``time`` currently follow this clock."""
        from pytest_durable.time_patching import is_followed  # noqa: PLC0415

        return is_followed(self)

    def __repr__(self) -> str:
        return f"VirtualClock({self.now().isoformat()})"
