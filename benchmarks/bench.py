"""Time the same durable handlers under the SDK's floor, pytest-durable and the official runner.

A standalone script, not a pytest test::

    python benchmarks/bench.py               # everything (the official runner needs minutes)
    python benchmarks/bench.py --quick       # fewer repetitions
    python benchmarks/bench.py --only steps_200 --only map_1000
    python benchmarks/bench.py --skip-official --no-costs

For each scenario it runs the handler under

* floor:    ``floor.run_floor(handler, event)``: the released SDK on the leanest in-process
  backend that works (see ``floor.py``); the cost of the SDK itself
* ours:     ``with DurableEnvironment() as env: env.run(handler, event)``
* official: ``with DurableFunctionTestRunner(handler=handler) as runner: runner.run(...)``
  (aws-durable-execution-sdk-python-testing, time skipping on, its default)

with a fresh environment/runner per run (what a test gets: set-up and tear-down are inside the
timing). Runs of the runners alternate so that drifting load hits all alike, and every run's
result is checked (SUCCEEDED, expected output): a broken run is not a data point.
``steps_10000`` runs each runner in a child process of its own, once per repetition, so that its
peak memory (``VmHWM`` after a reset, minus the resident size before the run) is its own.

Then the fixed costs: the ``durable`` fixture per test and once per session (pytest runs of 200
and 1000 one-line tests with and without it, in child processes), and what the installed plugin
adds to a pytest session that never uses it (``python -X importtime`` of
``pytest_durable.plugin``, modules imported, and whole sessions with and without
``-p no:durable``).

Wall time is read through ``_Real.perf_counter``, captured before any environment starts. The
engine (time-machine) leaves ``time.perf_counter`` alone and makes ``time.time`` follow the
virtual clock; ``check_timer`` proves both at start-up.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor import run_floor

from pytest_durable import DurableEnvironment


class _Real:
    """The real clock functions, captured before any environment starts (class attributes stay
    real even under a freezegun, which rewrites module attributes)."""

    perf_counter = time.perf_counter
    sleep = time.sleep


# Generous bound on one official run, in real seconds (its run() blocks up to this long).
OFFICIAL_EXECUTION_TIMEOUT = 900
# The official runner's callback lookup polls the history; its default is every second.
OFFICIAL_POLL_INTERVAL = 0.005
CHILD_TIMEOUT = 1800
HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------------------- handlers


@durable_execution
def empty(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    return {"echo": event["value"]}


@durable_execution
def three_steps_and_wait(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    a = context.step(lambda _: 1, name="one")
    b = context.step(lambda _: 2, name="two")
    context.wait(Duration.from_seconds(30), name="pause")
    c = context.step(lambda _: 3, name="three")
    return {"total": a + b + c}


@durable_execution
def many_steps(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    total = 0
    for i in range(event["steps"]):
        total += context.step(lambda _, i=i: i, name=f"step-{i}")
    return {"steps": event["steps"], "total": total}


@durable_execution
def map_items(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    doubled = context.map(
        list(range(event["items"])),
        lambda ctx, item, _index, _items: ctx.step(lambda _: item * 2, name="double"),
        name="doubles",
    )
    return {"total": sum(doubled.get_results())}


@durable_execution
def parallel_branches(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    branches = [
        lambda ctx, i=i: ctx.step(lambda _: i, name=f"branch-{i}") for i in range(event["branches"])
    ]
    results = context.parallel(branches, name="fan-out")
    return {"total": sum(results.get_results())}


@durable_execution
def approval(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    answer = context.wait_for_callback(lambda _callback_id, _ctx: None, name="approval")
    return {"approved": answer}


class Flaky:
    """Failure counter of the retry scenario: attempts 1 and 2 fail, attempt 3 succeeds.
    Process-wide, so reset before every run."""

    calls = 0
    failures = 2

    @classmethod
    def reset(cls) -> None:
        cls.calls = 0


def flaky_call(_: Any) -> str:
    Flaky.calls += 1
    if Flaky.calls <= Flaky.failures:
        raise RuntimeError(f"transient failure {Flaky.calls}")
    return "ok"


RETRY_60S = StepConfig(
    retry_strategy=create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=5,
            initial_delay=Duration.from_seconds(60),
            backoff_rate=2.0,  # 60 s, then 120 s
            jitter_strategy=JitterStrategy.NONE,  # identical delays under every runner
        )
    )
)


@durable_execution
def retry_twice(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    return {"result": context.step(flaky_call, name="flaky", config=RETRY_60S)}


# ---------------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    handler: Callable[..., Any]
    event: dict[str, Any]
    expected: Any
    reps: int  # full run
    quick_reps: int  # --quick
    steps: int = 0  # for the per-step cost
    callback: Any = None  # the answer to the execution's one callback, if it has one
    in_child: bool = False  # one run per child process (time and peak memory)
    reset: Callable[[], None] = lambda: None
    check: Callable[[], None] = lambda: None

    def repetitions(self, quick: bool) -> int:
        wanted = self.quick_reps if quick else self.reps
        return wanted if self.in_child else max(3, wanted)


def _require(condition: bool, message: str) -> None:
    """An assert that ``python -O`` cannot strip: a broken run must never become a data point."""
    if not condition:
        raise RuntimeError(f"benchmark run went wrong: {message}")


def _check_flaky() -> None:
    _require(Flaky.calls == Flaky.failures + 1, f"flaky step ran {Flaky.calls} times, expected 3")


def _steps(count: int, reps: int, quick_reps: int, *, in_child: bool = False) -> Scenario:
    return Scenario(
        f"steps_{count}",
        f"{count} steps",
        many_steps,
        {"steps": count},
        {"steps": count, "total": sum(range(count))},
        reps=reps,
        quick_reps=quick_reps,
        steps=count,
        in_child=in_child,
    )


SCENARIOS = [
    Scenario("empty", "no operations", empty, {"value": 7}, {"echo": 7}, reps=30, quick_reps=7),
    Scenario(
        "steps3_wait30s",
        "3 steps + 30 s wait",
        three_steps_and_wait,
        {},
        {"total": 6},
        reps=20,
        quick_reps=5,
    ),
    _steps(200, reps=9, quick_reps=3),
    _steps(2000, reps=4, quick_reps=3),
    _steps(10_000, reps=2, quick_reps=1, in_child=True),
    Scenario(
        "map_1000",
        "map over 1000 items",
        map_items,
        {"items": 1000},
        {"total": 2 * sum(range(1000))},
        reps=4,
        quick_reps=3,
    ),
    Scenario(
        "parallel_100",
        "parallel, 100 branches",
        parallel_branches,
        {"branches": 100},
        {"total": sum(range(100))},
        reps=9,
        quick_reps=3,
    ),
    Scenario(
        "callback",
        "wait_for_callback",
        approval,
        {},
        {"approved": json.dumps({"ok": True})},  # no serdes: the result text as sent
        reps=15,
        quick_reps=4,
        callback={"ok": True},
    ),
    Scenario(
        "retry_2x_60s",
        "step fails 2x, 60 s backoff",
        retry_twice,
        {},
        {"result": "ok"},
        reps=15,
        quick_reps=4,
        reset=Flaky.reset,
        check=_check_flaky,
    ),
]
BY_NAME = {s.name: s for s in SCENARIOS}
RUNNERS = ("floor", "ours", "official")


# ---------------------------------------------------------------------------------- runners


def _check(scenario: Scenario, runner: str, status: Any, output: Any, error: Any = None) -> None:
    _require(status == "SUCCEEDED", f"{scenario.name} ({runner}): {status} {error}")
    _require(output == scenario.expected, f"{scenario.name} ({runner}): {output!r}")
    scenario.check()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _LastRun:
    """CPU seconds the process spent in the last timed run (all its threads): unlike wall time,
    barely moved by other processes' load, so its ratios are the steadier ones on a busy
    machine. It does not see waiting, such as the SDK's batching window."""

    cpu = 0.0


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    cpu = _cpu_seconds()
    start = _Real.perf_counter()
    value = run()
    elapsed = _Real.perf_counter() - start
    _LastRun.cpu = _cpu_seconds() - cpu
    return elapsed, value


def floor_fresh(scenario: Scenario) -> float:
    scenario.reset()
    elapsed, result = _timed(
        lambda: run_floor(scenario.handler, scenario.event, callback_result=scenario.callback)
    )
    _check(scenario, "floor", result.status, result.output)
    return elapsed


def ours_fresh(scenario: Scenario) -> float:
    scenario.reset()

    def run() -> Any:
        with DurableEnvironment() as env:
            if scenario.callback is not None:
                env.on_callback().succeed(scenario.callback)
            return env.run(scenario.handler, scenario.event)

    elapsed, result = _timed(run)
    _check(scenario, "ours", result.status, result.output, result.error)
    return elapsed


def official_fresh(scenario: Scenario) -> float:
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

    scenario.reset()
    payload = json.dumps(scenario.event)

    def run() -> Any:
        with DurableFunctionTestRunner(
            handler=scenario.handler, skip_time=True, poll_interval=OFFICIAL_POLL_INTERVAL
        ) as runner:
            if scenario.callback is None:
                return runner.run(input=payload, execution_timeout=OFFICIAL_EXECUTION_TIMEOUT)
            # The official runner's way: start, find the callback in the history, answer it.
            arn = runner.run_async(input=payload, execution_timeout=OFFICIAL_EXECUTION_TIMEOUT)
            callback_id = runner.wait_for_callback(arn, timeout=60)
            runner.send_callback_success(callback_id, json.dumps(scenario.callback).encode())
            return runner.wait_for_result(arn, timeout=OFFICIAL_EXECUTION_TIMEOUT)

    elapsed, result = _timed(run)
    status = "SUCCEEDED" if result.status is InvocationStatus.SUCCEEDED else result.status
    _check(
        scenario, "official", status, json.loads(result.result) if result.result else None, result
    )
    return elapsed


FRESH = {"floor": floor_fresh, "ours": ours_fresh, "official": official_fresh}


# ---------------------------------------------------------------------------------- child runs


def _proc_status(key: str) -> int | None:
    """A ``/proc/self/status`` size in bytes (Linux), or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def child_main(scenario_name: str, runner: str) -> int:
    """One run in this (child) process: print its wall time and peak memory growth as JSON."""
    logging.getLogger("aws_durable_execution_sdk_python").setLevel(logging.CRITICAL)
    scenario = BY_NAME[scenario_name]
    FRESH[runner](BY_NAME["steps_200"])  # imports and first-call costs out of the numbers
    gc.collect()
    try:  # reset the peak (VmHWM) to the current resident size
        Path("/proc/self/clear_refs").write_text("5")
        peak_reset = True
    except OSError:
        peak_reset = False
    before = _proc_status("VmRSS")
    elapsed = FRESH[runner](scenario)
    peak = _proc_status("VmHWM")
    growth = peak - before if (peak_reset and peak is not None and before is not None) else None
    print(json.dumps({"seconds": elapsed, "cpu_seconds": _LastRun.cpu, "peak_bytes": growth}))
    return 0


def run_child(scenario: Scenario, runner: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", scenario.name, runner]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False
    )
    _require(done.returncode == 0, f"{scenario.name} ({runner}) child failed: {done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------------- measuring


@dataclass
class Measurement:
    scenario: Scenario
    times: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    peak_bytes: dict[str, list[int]] = field(default_factory=dict)

    def median(self, runner: str, *, cpu: bool = False) -> float | None:
        values = (self.cpu if cpu else self.times).get(runner)
        return statistics.median(values) if values else None


def measure(
    scenario: Scenario, reps: int, runners: tuple[str, ...], progress: Callable[[str], None]
) -> Measurement:
    measurement = Measurement(
        scenario, {r: [] for r in runners}, {r: [] for r in runners}, {r: [] for r in runners}
    )
    for _ in range(reps):  # interleaved, so drifting machine load hits every runner
        for runner in runners:
            if scenario.in_child:
                child = run_child(scenario, runner)
                measurement.times[runner].append(child["seconds"])
                measurement.cpu[runner].append(child["cpu_seconds"])
                if child["peak_bytes"] is not None:
                    measurement.peak_bytes[runner].append(child["peak_bytes"])
            else:
                measurement.times[runner].append(FRESH[runner](scenario))
                measurement.cpu[runner].append(_LastRun.cpu)
    progress(f"{scenario.name}: done")
    return measurement


def check_timer() -> float:
    """Prove the timer is real inside an environment (where time.time is virtual)."""
    with DurableEnvironment() as env:
        env.clock.advance(3600)  # the virtual clock jumps an hour: the real timer must not
        _require(abs(time.time() - env.clock.time()) < 1, "time.time() does not follow the clock")
        start = _Real.perf_counter()
        _Real.sleep(0.05)
        elapsed = _Real.perf_counter() - start
    _require(0.045 <= elapsed < 0.5, f"timer inside an environment read {elapsed:.4f} s for 0.05 s")
    return elapsed


def warm_up(runners: tuple[str, ...]) -> None:
    """Import-time and first-call costs (botocore models, SDK imports) out of the numbers."""
    for scenario in SCENARIOS[:2]:
        for runner in runners:
            FRESH[runner](scenario)


# ---------------------------------------------------------------------------------- fixed costs

#: Session sizes for the fixture's cost: the slope between them is the steady per-test cost, what
#: is left at the smaller size is the once-per-session cost (the lazy plugin's first imports of
#: botocore, boto3 and the runner, the client pool's first client).
_FIXTURE_TESTS = (200, 1000)


def _pytest_session(directory: Path, *extra: str) -> float:
    """Wall time of one child pytest session over ``directory`` (plugins as installed)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:xdist"]
    start = _Real.perf_counter()
    done = subprocess.run(
        [*command, *extra, str(directory)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=directory,
    )
    elapsed = _Real.perf_counter() - start
    _require(done.returncode == 0, f"pytest session failed: {done.stdout[-2000:]}{done.stderr}")
    return elapsed


def _fixture_sessions(root: Path, tests: int) -> tuple[Path, Path]:
    """Two session directories of ``tests`` tests each: with the fixture running an empty
    handler, and without it (the same module, the SDK imported in both)."""
    body = textwrap.dedent(
        f"""
        import pytest
        from aws_durable_execution_sdk_python import durable_execution

        @durable_execution
        def handler(event, context):
            return event

        @pytest.mark.parametrize("n", range({tests}))
        def test_it(n, {{fixture}}):
            {{body}}
        """
    )
    with_fixture, without = root / f"with_{tests}", root / f"without_{tests}"
    for directory, fixture, test_body in (
        (with_fixture, "durable", 'assert durable.run(handler, n).status == "SUCCEEDED"'),
        (without, "request", "assert handler is not None"),
    ):
        directory.mkdir()
        (directory / "test_it.py").write_text(body.format(fixture=fixture, body=test_body))
        (directory / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return with_fixture, without


def fixture_cost(reps: int) -> list[str]:
    """Cost of the ``durable`` fixture with an empty handler, in two parts: per test (the slope
    of the with-minus-without difference between a small and a large session) and once per
    session (the difference at the small size, less the small size's per-test share)."""
    small, large = _FIXTURE_TESTS
    extra: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for tests in (small, large):
            with_fixture, without = _fixture_sessions(root, tests)
            with_times, without_times = [], []
            for _ in range(reps):
                with_times.append(_pytest_session(with_fixture))
                without_times.append(_pytest_session(without))
            extra[tests] = statistics.median(with_times) - statistics.median(without_times)
    per_test = (extra[large] - extra[small]) / (large - small)
    once = extra[small] - per_test * small
    return [
        f"durable fixture, empty handler: {per_test * 1000:.2f} ms per test (slope between "
        f"sessions of {small} and {large} tests, median of {reps}) plus {once * 1000:.0f} ms "
        f"once per session; {extra[small] / small * 1000:.2f} ms per test averaged over a "
        f"{small}-test session"
    ]


_IMPORT_PROBE = textwrap.dedent(
    """
    import sys, time
    import pytest
    before = set(sys.modules)
    start = time.perf_counter()
    import pytest_durable.plugin
    elapsed = time.perf_counter() - start
    added = set(sys.modules) - before
    heavy = sorted(
        m for m in ("boto3", "botocore", "aws_durable_execution_sdk_python", "vcr", "yaml",
                    "freezegun", "time_machine") if m in added
    )
    print(len(added), elapsed, ",".join(heavy))
    """
)


def _importtime_total(module: str) -> float:
    """Cumulative microseconds of ``module`` in ``python -X importtime`` (pytest already in)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import pytest; import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return float(parts[1]) / 1e6
    raise RuntimeError(f"no importtime line for {module}")


def plugin_cost(reps: int) -> list[str]:
    """What the installed plugin adds to a pytest session that never uses it."""
    importtimes = [_importtime_total("pytest_durable.plugin") for _ in range(reps)]
    probe = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules, _, heavy = probe.stdout.split(" ", 2)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_plain.py").write_text("def test_plain():\n    assert True\n")
        (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
        with_plugin, without_plugin = [], []
        for _ in range(reps):
            with_plugin.append(_pytest_session(root))
            without_plugin.append(_pytest_session(root, "-p", "no:durable"))
    added = statistics.median(with_plugin) - statistics.median(without_plugin)
    return [
        f"plugin import (python -X importtime, cumulative, median of {reps}): "
        f"{statistics.median(importtimes) * 1000:.1f} ms; {modules} modules beyond pytest; "
        f"heavy modules imported: {heavy.strip() or 'none'}",
        f"pytest session with one plain test: {statistics.median(with_plugin) * 1000:.0f} ms "
        f"installed vs {statistics.median(without_plugin) * 1000:.0f} ms with -p no:durable "
        f"(adds {added * 1000:.0f} ms, median of {reps})",
    ]


# ---------------------------------------------------------------------------------- report


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1000:10.1f}" if seconds is not None else f"{'-':>10}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or not denominator:
        return f"{'-':>8}"
    return f"{numerator / denominator:7.2f}x"


def table(measurements: list[Measurement], *, cpu: bool = False) -> list[str]:
    title = (
        "CPU time of the process per run (user + system, all threads), median ms"
        if cpu
        else "Fresh environment/runner per run (what each test pays), wall time, median ms"
    )
    lines = [
        title,
        f"{'scenario':<15} {'what':<27} {'reps':>4} {'floor':>10} {'ours':>10} {'official':>10} "
        f"{'ours/floor':>10} {'official/ours':>13}",
    ]
    for m in measurements:
        floor, ours, official = (m.median(r, cpu=cpu) for r in RUNNERS)
        reps = max(len(v) for v in m.times.values())
        lines.append(
            f"{m.scenario.name:<15} {m.scenario.description:<27} {reps:>4} {_ms(floor)} "
            f"{_ms(ours)} {_ms(official)} {_ratio(ours, floor):>10} {_ratio(official, ours):>13}"
        )
    return lines


def per_step(measurements: list[Measurement]) -> list[str]:
    stepped = sorted((m for m in measurements if m.scenario.steps), key=lambda m: m.scenario.steps)
    if not stepped:
        return []
    lines = [
        "Per-step cost (median / steps), ms per step",
        f"{'scenario':<15} {'floor':>10} {'ours':>10} {'official':>10} {'ours/floor':>10} "
        f"{'official/ours':>13}",
    ]
    for m in stepped:
        floor, ours, official = (
            (v / m.scenario.steps if (v := m.median(r)) is not None else None) for r in RUNNERS
        )
        lines.append(
            f"{m.scenario.name:<15} {_ms(floor)} {_ms(ours)} {_ms(official)} "
            f"{_ratio(ours, floor):>10} {_ratio(official, ours):>13}"
        )
    return lines


def memory(measurements: list[Measurement]) -> list[str]:
    lines = []
    for m in measurements:
        if any(m.peak_bytes.values()):
            cells = ", ".join(
                f"{runner} {statistics.median(v) / 2**20:.1f} MiB"
                for runner, v in m.peak_bytes.items()
                if v
            )
            lines.append(f"Peak memory growth during one run of {m.scenario.name}: {cells}")
    return lines


def spread(measurements: list[Measurement]) -> list[str]:
    lines = ["Spread (min .. max ms)"]
    for m in measurements:
        cells = "   ".join(
            f"{runner} {min(v) * 1000:8.1f} .. {max(v) * 1000:8.1f}"
            for runner, v in m.times.items()
            if v
        )
        lines.append(f"{m.scenario.name:<15} {cells}")
    return lines


# ---------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--only", action="append", choices=list(BY_NAME), metavar="NAME", help="repeatable"
    )
    parser.add_argument("--skip-official", action="store_true", help="floor and ours only")
    parser.add_argument("--no-costs", action="store_true", help="skip fixture and plugin costs")
    parser.add_argument("--costs-only", action="store_true", help="only fixture and plugin costs")
    parser.add_argument("--child", nargs=2, metavar=("SCENARIO", "RUNNER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(*args.child)

    def progress(message: str) -> None:
        print(f"  [{_Real.perf_counter() - began:6.1f} s] {message}", file=sys.stderr, flush=True)

    # The SDK logs every failed step attempt with its traceback (retry scenario); keep the
    # report readable. Every runner runs the same SDK, so all skip the same work.
    logging.getLogger("aws_durable_execution_sdk_python").setLevel(logging.CRITICAL)
    runners = tuple(r for r in RUNNERS if not (args.skip_official and r == "official"))

    began = _Real.perf_counter()
    sections: list[list[str]] = []
    if not args.costs_only:
        slept = check_timer()
        print(f"timer check: a real 0.05 s sleep in a DurableEnvironment read {slept:.4f} s")
        warm_up(runners)
        progress("warm-up done")
        chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
        measurements = [
            measure(s, s.repetitions(args.quick), runners, progress=progress) for s in chosen
        ]
        sections += [
            table(measurements),
            table(measurements, cpu=True),
            per_step(measurements),
            memory(measurements),
        ]
        sections.append(spread(measurements))
    if not args.no_costs:
        reps = 3 if args.quick else 5
        sections.append(["Fixed costs", *fixture_cost(reps), *plugin_cost(reps)])
        progress("fixed costs done")
    sections.append(
        [
            "ours/floor < 1 means pytest-durable is cheaper than the SDK's own floor; "
            "official/ours > 1 means pytest-durable is faster than the official runner. "
            f"Total {_Real.perf_counter() - began:.1f} s; Python {sys.version.split()[0]}; "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end."
        ]
    )
    out = [line for section in sections if section for line in ["", *section]]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
