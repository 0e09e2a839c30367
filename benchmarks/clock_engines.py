"""freezegun or time-machine as the engine behind ``VirtualClock.freeze()``: measurements.

Both engines make ``time.time()``/``datetime.now()`` read a running :class:`VirtualClock`:

* ``freezegun``: what pytest-durable did up to issue 14, rebuilt here for the comparison:
  ``freeze_time(tick=True)`` with the ignore list cut to pytest's timing modules, its active
  time factory replaced by the clock's.
* ``time-machine``: ``VirtualClock.freeze()`` as it is now (``pytest_durable/time_patching.py``).

Measured in one process, the engines alternated, after a warm-up (boto3, botocore and the SDK
imported, as in a test session):

* start cost: entering and leaving the engine (median of N);
* cost per call of ``time.time()`` and ``datetime.now(UTC)``, on the main thread and on a worker
  thread a few frames below ``threading.Thread.run`` (where the SDK's pools call them);
* a fresh environment running 3 steps and a wait, the engine around it;
* correctness probes: a reference captured before the start (a class attribute), the exact type
  of ``datetime.now()``, ``time.monotonic()`` across a 1-day jump, a ``queue.get(timeout=0.2)``
  on another thread while the clock jumps a day.

    python benchmarks/clock_engines.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import queue
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aws_durable_execution_sdk_python  # noqa: F401 - a session's modules, for start costs
import boto3  # noqa: F401
import botocore.session  # noqa: F401
import freezegun
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from freezegun import api as freezegun_api

from pytest_durable import DurableEnvironment
from pytest_durable.clock import VirtualClock


class _Real:
    perf_counter = time.perf_counter
    monotonic = time.monotonic


class _Captured:
    now = staticmethod(time.time)


START = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
REAL_TIME_MODULES = ("_pytest.timing", "_pytest.terminal", "_pytest.runner")


@contextmanager
def freezegun_engine(clock: VirtualClock) -> Iterator[None]:
    """The pre-issue-14 engine: freezegun ticking, reading the clock through its factory."""

    def naive() -> datetime.datetime:
        return datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=clock.now_us())

    saved = list(freezegun.config.settings.default_ignore_list)
    freezegun.configure(default_ignore_list=list(REAL_TIME_MODULES))
    try:
        freezer = freezegun.freeze_time(naive(), tick=True)
    finally:
        freezegun.configure(default_ignore_list=saved)
    factory = freezer.start()
    factories = freezegun_api.freeze_factories
    assert factories[-1] is factory
    factories[-1] = naive
    try:
        yield
    finally:
        freezer.stop()


@contextmanager
def time_machine_engine(clock: VirtualClock) -> Iterator[None]:
    with clock.freeze():
        yield


ENGINES: dict[str, Callable[[VirtualClock], object]] = {
    "freezegun": freezegun_engine,
    "time-machine": time_machine_engine,
}


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def start_cost(engine: Callable[[VirtualClock], object], reps: int) -> list[float]:
    samples = []
    for _ in range(reps):
        clock = VirtualClock(START)
        gc.collect()
        began = _Real.perf_counter()
        with engine(clock):  # type: ignore[attr-defined]
            pass
        samples.append(_Real.perf_counter() - began)
    return samples


def _per_call(function: Callable[[], object], calls: int) -> float:
    began = _Real.perf_counter()
    for _ in range(calls):
        function()
    return (_Real.perf_counter() - began) / calls


def _deep(depth: int, function: Callable[[], float]) -> float:
    return function() if depth == 0 else _deep(depth - 1, function)


def call_costs(calls: int) -> dict[str, float]:
    now = lambda: datetime.datetime.now(datetime.UTC)  # noqa: E731
    costs = {
        "time.time() main thread": _per_call(time.time, calls),
        "datetime.now(UTC) main thread": _per_call(now, calls),
    }
    found: list[float] = []

    def worker() -> None:
        found.append(_deep(3, lambda: _per_call(time.time, calls)))
        found.append(_deep(3, lambda: _per_call(now, calls)))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    costs["time.time() worker thread"] = found[0]
    costs["datetime.now(UTC) worker thread"] = found[1]
    return costs


def probes(engine: Callable[[VirtualClock], object]) -> dict[str, str]:
    clock = VirtualClock(START)
    results: dict[str, str] = {}
    with engine(clock):  # type: ignore[attr-defined]
        results["captured time.time follows"] = str(abs(_Captured.now() - clock.time()) < 5)
        results["type(datetime.now()) is datetime"] = str(
            type(datetime.datetime.now()).__name__ == "datetime"
        )
        before = time.monotonic()
        clock.advance(86400)
        results["monotonic jumps with the clock"] = str(time.monotonic() - before > 3600)
        waited: list[float] = []
        box: queue.Queue[int] = queue.Queue()

        def wait() -> None:
            began = _Real.monotonic()
            try:
                box.get(timeout=0.2)
            except queue.Empty:
                waited.append(_Real.monotonic() - began)

        thread = threading.Thread(target=wait)
        thread.start()
        threading.Event().wait(0.05)
        clock.advance(86400)
        thread.join(5)
        results["queue.get(timeout=0.2) across a jump waited"] = f"{waited[0]:.3f} s"
    return results


@durable_execution
def three_steps(event, context: DurableContext):
    for index in range(3):
        context.step(lambda _: datetime.datetime.now(datetime.UTC).isoformat(), name=f"s{index}")
    context.wait(Duration.from_days(1))
    return "done"


def fresh_run(engine: Callable[[VirtualClock], object]) -> float:
    """A new environment per run (the `durable` fixture's cost), the engine entered around it."""
    gc.collect()
    began = _Real.perf_counter()
    with (
        DurableEnvironment(start=START, freeze_time=False) as env,
        engine(env.clock),  # type: ignore[attr-defined]
    ):
        result = env.run(three_steps)
    elapsed = _Real.perf_counter() - began
    assert result.status == "SUCCEEDED", result.error
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    reps, calls, rounds = (10, 20_000, 3) if args.quick else (30, 100_000, 5)

    baseline = call_costs(calls)
    starts: dict[str, list[float]] = {name: [] for name in ENGINES}
    costs: dict[str, dict[str, list[float]]] = {name: {} for name in ENGINES}
    runs: dict[str, list[float]] = {name: [] for name in ENGINES}
    for engine in ENGINES.values():  # warm-up
        start_cost(engine, 2)
        fresh_run(engine)
    for _ in range(rounds):
        for name, engine in ENGINES.items():
            starts[name].extend(start_cost(engine, reps // rounds or 1))
            clock = VirtualClock(START)
            with engine(clock):  # type: ignore[attr-defined]
                for key, value in call_costs(calls // rounds).items():
                    costs[name].setdefault(key, []).append(value)
            runs[name].extend(fresh_run(engine) for _ in range(reps // rounds or 1))

    print(f"Python {sys.version.split()[0]}, {len(sys.modules)} modules loaded")
    print("\nstart + stop (median, µs):")
    for name, samples in starts.items():
        print(f"  {name:13s} {_median_us(samples):10.1f}")
    ratio = statistics.median(starts["freezegun"]) / statistics.median(starts["time-machine"])
    print(f"  freezegun / time-machine: {ratio:.1f}x")
    print("\ncost per call (median over rounds, µs; unpatched in brackets):")
    for key in baseline:
        fg = _median_us(costs["freezegun"][key])
        tm = _median_us(costs["time-machine"][key])
        print(
            f"  {key:34s} freezegun {fg:7.3f}  time-machine {tm:7.3f}  "
            f"ratio {fg / tm:5.1f}x  [{baseline[key] * 1e6:.3f}]"
        )
    print("\na fresh environment running 3 steps and a 1-day wait (median, ms):")
    for name, samples in runs.items():
        print(f"  {name:13s} {statistics.median(samples) * 1e3:8.2f}")
    ratio = statistics.median(runs["freezegun"]) / statistics.median(runs["time-machine"])
    print(f"  freezegun / time-machine: {ratio:.2f}x")
    print("\ncorrectness probes:")
    for name, engine in ENGINES.items():
        for key, value in probes(engine).items():
            print(f"  {name:13s} {key:45s} {value}")


if __name__ == "__main__":
    main()
