"""The patching engine: make the process's ``time``/``datetime`` follow a virtual clock.

The engine is time-machine (see docs/architecture.md, "Choosing the time-patching engine", for
the measurements against freezegun). time-machine replaces the C implementations of
``time.time``, ``time.time_ns``, ``datetime.now`` and friends once, and from then on asks the
traveller on top of ``time_machine.traveller_stack`` for the time. :func:`follow` puts a
traveller there that reads a :class:`~pytest_durable.clock.VirtualClock`, so every reader in the
process, on every thread, with any kind of reference to those functions, sees the clock.
``time.monotonic``, ``time.perf_counter`` and ``time.sleep`` are left alone: timeouts and real
waits stay real.

A user's own time tool inside a durable test is *adopted*, so that the handler, the service and
the test keep seeing one time:

- ``time_machine.travel(dest)`` (and the ``time_machine`` fixture's ``move_to``/``shift``)
  moves the durable clock to ``dest``; ``shift``/``move_to`` on the traveller move it on;
- ``freezegun.freeze_time(dest)`` likewise, with ``tick()``/``move_to()`` on its factory;
- ``tick=False`` (freezegun's default) holds the durable clock: it stands still for the test
  and moves only with explicit jumps and while a handler invocation runs (the SDK's map and
  parallel need time to pass in an invocation, as in Lambda);
- the clock never goes back, so travelling to the past fails at once, saying what to do
  instead; leaving a travel block does not take the durable clock back either.

Adoption changes the class of the user's traveller or factory to a subclass whose methods act
on the durable clock, and back when the durable clock stops; the two stacks are swapped for
lists that notice pushes and pops while a clock is followed.
"""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import time_machine

from pytest_durable.errors import ClockPatchError

if TYPE_CHECKING:
    from pytest_durable.clock import VirtualClock

_NS_PER_US = 1000
# Travelling to "now" computes the destination a moment before it is pushed; a destination
# less than this far behind the durable clock is "now", not the past.
_NOW_TOLERANCE_US = 1_000_000


def _past_error(tool: str, target_us: int, now_us: int) -> ClockPatchError:
    target = _iso(target_us)
    return ClockPatchError(
        f"{tool} to {target} would move time back: the durable clock is already at "
        f"{_iso(now_us)} and never goes back (the service's timers and timestamps follow it). "
        f"Start the durable clock there instead, with @pytest.mark.durable(start="
        f"{target!r}) (or DurableEnvironment(start=...)), then travel forward from it."
    )


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def _iso(epoch_us: int) -> str:
    return (_EPOCH + _dt.timedelta(microseconds=epoch_us)).isoformat()


# ----------------------------------------------------------------- one followed clock


class _Session:
    """One :func:`follow` block: the clock, and what it adopted (with the holds it opened)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.traveller = _ClockTraveller(clock)
        self._holds: dict[int, ExitStack] = {}

    def move_to_us(self, tool: str, target_us: int) -> None:
        now_us = self.clock.now_us()
        if target_us < now_us - _NOW_TOLERANCE_US:
            raise _past_error(tool, target_us, now_us)
        if target_us > now_us:
            self.clock.advance_to(_EPOCH + _dt.timedelta(microseconds=target_us))

    def advance(self, tool: str, seconds: float) -> None:
        if seconds < 0:
            now_us = self.clock.now_us()
            raise _past_error(tool, now_us + int(seconds * 1_000_000), now_us)
        self.clock.advance(seconds)

    def adopt(self, adopted: object, tool: str, target_us: int, tick: bool) -> None:
        """Move to where the tool says time is, holding first if it does not tick (so the time
        is exactly its destination); nothing stays held if it cannot be done."""
        was_held = id(adopted) in self._holds
        self.set_ticking(adopted, tick)
        try:
            self.move_to_us(tool, target_us)
        except BaseException:
            if not was_held:
                self.release(adopted)
            raise

    def set_ticking(self, adopted: object, tick: bool) -> None:
        """``tick=False``: the clock stands still (held) until the tool is stopped or ticks."""
        key = id(adopted)
        if not tick and key not in self._holds:
            stack = ExitStack()
            stack.enter_context(self.clock.hold())
            self._holds[key] = stack
        elif tick and key in self._holds:
            self._holds.pop(key).close()

    def release(self, adopted: object) -> None:
        hold = self._holds.pop(id(adopted), None)
        if hold is not None:
            hold.close()

    def close(self) -> None:
        for hold in reversed(list(self._holds.values())):
            hold.close()
        self._holds.clear()


_sessions: list[_Session] = []
# True while the engine pushes its own traveller (time-machine's travel.start does the pushing).
_own_push = False


def _innermost() -> _Session | None:
    return _sessions[-1] if _sessions else None


# ----------------------------------------------------------------- time-machine


class _ClockTraveller(time_machine.Traveller):
    """The engine's own traveller: the time is the virtual clock's."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(destination_timestamp_ns=0, destination_tzname=None, tick=True)
        self._clock = clock

    def time_ns(self) -> int:
        return self._clock.now_us() * _NS_PER_US


class _AdoptedTraveller(time_machine.Traveller):
    """A user's traveller, adopted: it reads the durable clock and moves it."""

    _durable: _Session

    def time_ns(self) -> int:
        return self._durable.clock.now_us() * _NS_PER_US

    def shift(self, delta: _dt.timedelta | float) -> None:
        seconds = delta.total_seconds() if isinstance(delta, _dt.timedelta) else float(delta)
        self._durable.advance("time_machine shift", seconds)

    def move_to(self, destination: Any, tick: bool | None = None) -> None:
        timestamp_ns, tzname = time_machine.extract_timestamp_tzname(destination)
        target_us = (time_machine.SYSTEM_EPOCH_TIMESTAMP_NS + timestamp_ns) // _NS_PER_US
        if tick is not None:
            self._tick = tick
        self._durable.adopt(self, "time_machine move_to", target_us, self._tick)
        self._stop()
        self._destination_tzname = tzname
        self._start()


def _adopt_traveller(session: _Session, traveller: time_machine.Traveller) -> None:
    if isinstance(traveller, _AdoptedTraveller | _ClockTraveller):
        return
    target_us = (
        time_machine.SYSTEM_EPOCH_TIMESTAMP_NS + traveller._destination_timestamp_ns
    ) // _NS_PER_US
    if traveller._tick and traveller._requested:  # it has ticked since it started
        target_us = traveller.time_ns() // _NS_PER_US
    session.adopt(traveller, "time_machine travel", target_us, traveller._tick)
    traveller.__class__ = _AdoptedTraveller
    traveller._durable = session  # type: ignore[attr-defined]


def _release_traveller(traveller: time_machine.Traveller) -> None:
    """Back to a plain traveller that goes on from the durable clock's time, ticking as asked."""
    if not isinstance(traveller, _AdoptedTraveller):
        return
    session = traveller._durable
    now_ns = session.clock.now_us() * _NS_PER_US  # before its hold ends: where it stands
    session.release(traveller)
    del traveller._durable
    traveller.__class__ = time_machine.Traveller  # type: ignore[assignment]
    traveller._destination_timestamp_ns = now_ns - time_machine.SYSTEM_EPOCH_TIMESTAMP_NS
    traveller._requested = False


class _TravellerStack(list[time_machine.Traveller]):
    """``time_machine.traveller_stack`` while a clock is followed: adopts what users push."""

    def append(self, traveller: time_machine.Traveller) -> None:
        session = _innermost()
        if session is not None and not _own_push:
            _adopt_traveller(session, traveller)  # raises for the past: nothing is pushed
        super().append(traveller)

    def pop(self, index: Any = -1) -> time_machine.Traveller:
        traveller = super().pop(index)
        if isinstance(traveller, _AdoptedTraveller):
            traveller._durable.release(traveller)
        return traveller


@contextmanager
def _freezegun_out_of_the_way() -> Iterator[None]:
    """time-machine refuses to start while freezegun's ``FakeDatetime`` is installed; a user's
    freezegun started before the durable clock is adopted instead, so let time-machine start."""
    api = sys.modules.get("freezegun.api")
    if api is None or _dt.datetime.__name__ != "FakeDatetime":
        yield
        return
    fake = _dt.datetime
    _dt.datetime = api.real_datetime  # type: ignore[misc]
    try:
        yield
    finally:
        _dt.datetime = fake  # type: ignore[misc]


# ----------------------------------------------------------------- freezegun (the user's)


class _AdoptedFactory:
    """Mixed in front of a user's freezegun time factory: it reads the durable clock and moves
    it (``tick()``, ``move_to()``)."""

    _durable: _Session

    def __call__(self) -> _dt.datetime:
        api = sys.modules["freezegun.api"]
        naive_epoch: _dt.datetime = api.real_datetime(1970, 1, 1)
        return naive_epoch + _dt.timedelta(microseconds=self._durable.clock.now_us())

    def tick(self, delta: _dt.timedelta | float = _dt.timedelta(seconds=1)) -> _dt.datetime:
        seconds = delta.total_seconds() if isinstance(delta, _dt.timedelta) else float(delta)
        self._durable.advance("freezegun tick", seconds)
        return self()

    def move_to(self, target_datetime: Any) -> None:
        api = sys.modules["freezegun.api"]
        naive = api._parse_time_to_freeze(target_datetime)
        target_us = (naive - api.real_datetime(1970, 1, 1)) // _dt.timedelta(microseconds=1)
        self._durable.move_to_us("freezegun move_to", target_us)


_adopted_factory_classes: dict[type, type] = {}


def _adopt_factory(session: _Session, factory: Any) -> None:
    if isinstance(factory, _AdoptedFactory):
        return
    api = sys.modules["freezegun.api"]
    kind = type(factory)
    if kind is api.StepTickTimeFactory:
        raise ClockPatchError(
            "freeze_time(..., auto_tick_seconds=...) inside a durable test is not supported: "
            "time would move on every read, on every thread, including the SDK's. Use "
            "freeze_time(dest, tick=True), or move the durable clock yourself with "
            "durable.clock.advance(seconds)."
        )
    target_us = (factory() - api.real_datetime(1970, 1, 1)) // _dt.timedelta(microseconds=1)
    session.adopt(factory, "freezegun freeze_time", target_us, kind is api.TickingDateTimeFactory)
    adopted = _adopted_factory_classes.get(kind)
    if adopted is None:
        adopted = type(f"Durable{kind.__name__}", (_AdoptedFactory, kind), {})
        _adopted_factory_classes[kind] = adopted
    factory.__class__ = adopted
    factory._durable = session


def _release_factory(factory: Any) -> None:
    if not isinstance(factory, _AdoptedFactory):
        return
    api = sys.modules["freezegun.api"]
    session = factory._durable
    now = _AdoptedFactory.__call__(factory)  # before its hold ends: where it stands
    session.release(factory)
    factory.__class__ = type(factory).__mro__[2]
    del factory._durable
    factory.time_to_freeze = now  # type: ignore[attr-defined]
    if hasattr(factory, "start"):
        factory.start = api.real_datetime.now()


class _FactoryStack(list[Any]):
    """``freezegun.api.freeze_factories`` while a clock is followed: adopts what users push."""

    def append(self, factory: Any) -> None:
        session = _innermost()
        if session is not None:
            _adopt_factory(session, factory)
        super().append(factory)

    def pop(self, index: Any = -1) -> Any:
        factory = super().pop(index)
        if isinstance(factory, _AdoptedFactory):
            factory._durable.release(factory)
        return factory


def _hook_freezegun(session: _Session) -> None:
    """Adopt freezegun's factories, if freezegun is imported (it need not be installed)."""
    api = sys.modules.get("freezegun.api")
    if api is None:
        return
    factories = getattr(api, "freeze_factories", None)
    if not isinstance(factories, list):  # pragma: no cover - a freezegun we do not know
        return
    if not isinstance(factories, _FactoryStack):
        factories = _FactoryStack(factories)
        setattr(api, "freeze_factories", factories)  # noqa: B010 - a module we do not type
    for factory in list(factories):
        _adopt_factory(session, factory)


def _unhook_freezegun() -> None:
    api = sys.modules.get("freezegun.api")
    factories = getattr(api, "freeze_factories", None) if api is not None else None
    if isinstance(factories, _FactoryStack):
        for factory in factories:
            _release_factory(factory)
        setattr(api, "freeze_factories", list(factories))  # noqa: B010


# ----------------------------------------------------------------- the engine


def adopt_user_clocks() -> None:
    """Adopt a freezegun started (or first imported) since the clock began to be followed;
    called when a durable run starts, so a ``freeze_time`` around ``durable.run`` is seen."""
    session = _innermost()
    if session is not None:
        _hook_freezegun(session)
        for traveller in list(time_machine.traveller_stack):
            _adopt_traveller(session, traveller)


@contextmanager
def follow(clock: VirtualClock) -> Iterator[None]:
    """Make ``datetime``/``time`` everywhere in the process follow ``clock`` for the block."""
    session = _Session(clock)
    outermost = not _sessions
    if outermost and not isinstance(time_machine.traveller_stack, _TravellerStack):
        time_machine.traveller_stack = _TravellerStack(time_machine.traveller_stack)
    # Travels and freezes already running are adopted first (they were the process's time, so
    # a clock started without `start` is already there).
    _sessions.append(session)
    try:
        for traveller in list(time_machine.traveller_stack):
            _adopt_traveller(session, traveller)
        _hook_freezegun(session)
        _push_own(session.traveller)
    except BaseException:
        _sessions.remove(session)
        session.close()
        if outermost:
            _unhook_freezegun()
            time_machine.traveller_stack = list(time_machine.traveller_stack)
        raise
    try:
        yield
    finally:
        _stop(session)


def _push_own(traveller: _ClockTraveller) -> None:
    global _own_push  # noqa: PLW0603 - one flag for the one stack
    _own_push = True
    try:
        with _freezegun_out_of_the_way():
            time_machine.travel(0).start()  # patches the C functions (and uuid1) on first push
    finally:
        _own_push = False
    stack = time_machine.traveller_stack
    stack[len(stack) - 1] = traveller


def _stop(session: _Session) -> None:
    stack = time_machine.traveller_stack
    ours = session.traveller
    # A user's travel still open above ours (not stopped, or stopped after us) goes on as a
    # plain traveller from the durable clock's time.
    for traveller in list(stack):
        if isinstance(traveller, _AdoptedTraveller) and traveller._durable is session:
            _release_traveller(traveller)
    api = sys.modules.get("freezegun.api")
    if api is not None and isinstance(getattr(api, "freeze_factories", None), _FactoryStack):
        for factory in api.freeze_factories:
            if isinstance(factory, _AdoptedFactory) and factory._durable is session:
                _release_factory(factory)
    session.close()
    _sessions.remove(session)
    if stack and stack[-1] is ours:
        time_machine.travel(0).stop()  # pops ours; unpatches when the stack is empty
    else:
        list.remove(stack, ours)
    if not _sessions:
        _unhook_freezegun()
        if isinstance(time_machine.traveller_stack, _TravellerStack):
            time_machine.traveller_stack = list(time_machine.traveller_stack)
    else:
        _hook_freezegun(_sessions[-1])


def is_followed(clock: VirtualClock) -> bool:
    """Whether the process's time currently follows ``clock``."""
    return any(session.clock is clock for session in _sessions)
