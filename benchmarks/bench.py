"""Time the same durable handlers under pytest-durable and under the official testing library.

A standalone script, not a pytest test::

    python benchmarks/bench.py              # everything, about 2 minutes on 2 cores
    python benchmarks/bench.py --quick      # fewer repetitions
    python benchmarks/bench.py --only steps_200
    python benchmarks/bench.py --fresh-only  # skip the reused-environment pass

For each scenario it runs the handler under

* ours:     ``with DurableEnvironment() as env: env.run(handler, event)``
* official: ``with DurableFunctionTestRunner(handler=handler) as runner: runner.run(...)``
  (aws-durable-execution-sdk-python-testing, time skipping on, its default)

twice over: with a fresh environment/runner per run (what a test gets, the primary number, the
setup and teardown are inside the timing) and with one environment/runner reused for every run
(``run`` alone is timed). Runs of the two runners are interleaved so that noise hits both alike.
Every run's result is checked (SUCCEEDED, expected output): a broken run is not a data point.

Wall time is read through ``_Real.perf_counter``, captured before any environment starts. The
engine (time-machine) leaves ``time.perf_counter`` alone and makes ``time.time`` follow the
virtual clock; ``check_timer`` proves both at start-up.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

from pytest_durable import DurableEnvironment


class _Real:
    """The real clock functions, captured before any environment starts (class attributes stay
    real even under a freezegun, which rewrites module attributes)."""

    perf_counter = time.perf_counter
    sleep = time.sleep


# Generous bound on one official run, in real seconds (its run() blocks up to this long).
OFFICIAL_EXECUTION_TIMEOUT = 300


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
            jitter_strategy=JitterStrategy.NONE,  # identical delays under both runners
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
    reset: Callable[[], None] = lambda: None
    check: Callable[[], None] = lambda: None

    def repetitions(self, quick: bool) -> int:
        return max(3, self.quick_reps if quick else self.reps)


def _require(condition: bool, message: str) -> None:
    """An assert that ``python -O`` cannot strip: a broken run must never become a data point."""
    if not condition:
        raise RuntimeError(f"benchmark run went wrong: {message}")


def _check_flaky() -> None:
    _require(Flaky.calls == Flaky.failures + 1, f"flaky step ran {Flaky.calls} times, expected 3")


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
    Scenario(
        "steps_200",
        "200 steps",
        many_steps,
        {"steps": 200},
        {"steps": 200, "total": sum(range(200))},
        reps=9,
        quick_reps=3,
        steps=200,
    ),
    Scenario(
        "steps_2000",
        "2000 steps",
        many_steps,
        {"steps": 2000},
        {"steps": 2000, "total": sum(range(2000))},
        reps=4,
        quick_reps=3,
        steps=2000,
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
SCENARIO_NAMES = [s.name for s in SCENARIOS]


# ---------------------------------------------------------------------------------- runners


def _check_ours(scenario: Scenario, result: Any) -> None:
    _require(
        result.status == "SUCCEEDED", f"{scenario.name} (ours): {result.status} {result.error}"
    )
    _require(result.output == scenario.expected, f"{scenario.name} (ours): {result.output!r}")
    scenario.check()


def _check_official(scenario: Scenario, result: Any) -> None:
    _require(
        result.status is InvocationStatus.SUCCEEDED,
        f"{scenario.name} (official): {result.status} {result.error}",
    )
    output = json.loads(result.result) if result.result else None
    _require(output == scenario.expected, f"{scenario.name} (official): {result.result!r}")
    scenario.check()


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = _Real.perf_counter()
    value = run()
    return _Real.perf_counter() - start, value


def ours_fresh(scenario: Scenario) -> float:
    scenario.reset()

    def run() -> Any:
        with DurableEnvironment() as env:
            return env.run(scenario.handler, scenario.event)

    elapsed, result = _timed(run)
    _check_ours(scenario, result)
    return elapsed


def official_fresh(scenario: Scenario) -> float:
    scenario.reset()
    payload = json.dumps(scenario.event)

    def run() -> Any:
        with DurableFunctionTestRunner(handler=scenario.handler, skip_time=True) as runner:
            return runner.run(input=payload, execution_timeout=OFFICIAL_EXECUTION_TIMEOUT)

    elapsed, result = _timed(run)
    _check_official(scenario, result)
    return elapsed


def ours_reused(scenario: Scenario, reps: int) -> list[float]:
    times = []
    with DurableEnvironment() as env:
        for _ in range(reps):
            scenario.reset()
            elapsed, result = _timed(lambda: env.run(scenario.handler, scenario.event))
            _check_ours(scenario, result)
            times.append(elapsed)
    return times


def official_reused(scenario: Scenario, reps: int) -> list[float]:
    times = []
    payload = json.dumps(scenario.event)
    with DurableFunctionTestRunner(handler=scenario.handler, skip_time=True) as runner:
        for i in range(reps):
            scenario.reset()
            elapsed, result = _timed(
                lambda i=i: runner.run(
                    input=payload,
                    execution_timeout=OFFICIAL_EXECUTION_TIMEOUT,
                    execution_name=f"bench-{i}",
                )
            )
            _check_official(scenario, result)
            times.append(elapsed)
    return times


# ---------------------------------------------------------------------------------- measuring


@dataclass
class Measurement:
    scenario: Scenario
    ours: list[float]
    official: list[float]
    ours_reused: list[float]
    official_reused: list[float]


def measure(
    scenario: Scenario, reps: int, *, reused: bool, progress: Callable[[str], None]
) -> Measurement:
    ours: list[float] = []
    official: list[float] = []
    for _ in range(reps):  # interleaved, so drifting machine load hits both runners
        ours.append(ours_fresh(scenario))
        official.append(official_fresh(scenario))
    progress(f"{scenario.name}: fresh done")
    if not reused:
        return Measurement(scenario, ours, official, [], [])
    reused_ours = ours_reused(scenario, reps)
    reused_official = official_reused(scenario, reps)
    progress(f"{scenario.name}: reused done")
    return Measurement(scenario, ours, official, reused_ours, reused_official)


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


def warm_up() -> None:
    """Import-time and first-call costs (botocore models, SDK imports) out of the numbers."""
    for scenario in SCENARIOS[:2]:
        ours_fresh(scenario)
        official_fresh(scenario)


# ---------------------------------------------------------------------------------- report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f}"


def _ratio(official: float, ours: float) -> str:
    return f"{official / ours:7.2f}x" if ours > 0 else "      -"


def table(
    measurements: list[Measurement], title: str, ours_of: Callable, official_of: Callable
) -> list[str]:
    lines = [
        title,
        f"{'scenario':<16} {'what':<28} {'reps':>4} {'ours ms':>9} {'official ms':>11} "
        f"{'official/ours':>13}",
    ]
    for m in measurements:
        ours = statistics.median(ours_of(m))
        official = statistics.median(official_of(m))
        lines.append(
            f"{m.scenario.name:<16} {m.scenario.description:<28} {len(ours_of(m)):>4} "
            f"{_ms(ours)} {_ms(official):>11} {_ratio(official, ours):>13}"
        )
    return lines


def per_step(measurements: list[Measurement]) -> list[str]:
    by_steps = {m.scenario.steps: m for m in measurements if m.scenario.steps}
    if not by_steps:
        return []
    lines = [
        "Per-step cost, fresh environment/runner (median / steps; marginal = difference between "
        "the two step counts / difference in steps)",
        f"{'scenario':<16} {'ours ms/step':>13} {'official ms/step':>17}",
    ]
    for steps, m in sorted(by_steps.items()):
        ours = statistics.median(m.ours) / steps
        official = statistics.median(m.official) / steps
        lines.append(f"{m.scenario.name:<16} {ours * 1000:13.3f} {official * 1000:17.3f}")
    if len(by_steps) >= 2:
        (low, m_low), (high, m_high) = min(by_steps.items()), max(by_steps.items())
        span = high - low
        ours = (statistics.median(m_high.ours) - statistics.median(m_low.ours)) / span
        official = (statistics.median(m_high.official) - statistics.median(m_low.official)) / span
        lines.append(f"{'marginal':<16} {ours * 1000:13.3f} {official * 1000:17.3f}")
    return lines


def spread(measurements: list[Measurement]) -> list[str]:
    lines = ["Spread, fresh (min .. max ms)"]
    for m in measurements:
        lines.append(
            f"{m.scenario.name:<16} ours {min(m.ours) * 1000:8.1f} .. {max(m.ours) * 1000:8.1f}"
            f"   official {min(m.official) * 1000:8.1f} .. {max(m.official) * 1000:8.1f}"
        )
    return lines


# ---------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (3-7 each)")
    parser.add_argument(
        "--only", choices=SCENARIO_NAMES, metavar="NAME", help=f"one of {', '.join(SCENARIO_NAMES)}"
    )
    parser.add_argument(
        "--fresh-only",
        action="store_true",
        help="skip the pass with one environment/runner reused for all runs",
    )
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        print(f"  [{_Real.perf_counter() - began:6.1f} s] {message}", file=sys.stderr, flush=True)

    # The SDK logs every failed step attempt with its traceback (retry scenario); keep the
    # report readable. Both runners run the same SDK, so both skip the same work.
    logging.getLogger("aws_durable_execution_sdk_python").setLevel(logging.CRITICAL)

    began = _Real.perf_counter()
    slept = check_timer()
    print(f"timer check: a real 0.05 s sleep inside a DurableEnvironment measured {slept:.4f} s")
    warm_up()
    progress("warm-up done")

    chosen = [s for s in SCENARIOS if args.only in (None, s.name)]
    measurements = [
        measure(s, s.repetitions(args.quick), reused=not args.fresh_only, progress=progress)
        for s in chosen
    ]
    sections = [
        table(
            measurements,
            "Fresh environment/runner per run (what each test pays; primary)",
            lambda m: m.ours,
            lambda m: m.official,
        ),
        []
        if args.fresh_only
        else table(
            measurements,
            "One environment/runner reused for all runs (run() alone)",
            lambda m: m.ours_reused,
            lambda m: m.official_reused,
        ),
        per_step(measurements),
        spread(measurements),
        [
            "official/ours > 1 means pytest-durable is faster. "
            f"Total {_Real.perf_counter() - began:.1f} s; Python {sys.version.split()[0]}."
        ],
    ]
    out = [line for section in sections if section for line in ["", *section]]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
