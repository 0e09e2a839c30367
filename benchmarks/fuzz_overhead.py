"""What re-invocation fuzzing costs: a 50-step handler fuzzed after every checkpoint against a
clean run of it, alternated in one process, fresh environment each run.

    .venv/bin/python benchmarks/fuzz_overhead.py [--steps 50] [--repeat 7]

``fuzz`` is the whole of ``durable.fuzz`` (its own clean run included); ``fuzzed only`` takes
the clean run's median away. The issue's target: the fuzzed run within 10x a clean run.
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import sys
import time

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from pytest_durable import DurableEnvironment

_perf_counter = time.perf_counter  # real time: the environment patches time.time only


def handler_with(steps: int):
    @durable_execution
    def handler(event, context: DurableContext) -> int:
        return sum(context.step(lambda _, i=i: i, name=f"s{i}") for i in range(steps))

    return handler


def clean(handler) -> float:
    gc.collect()
    started = _perf_counter()
    with DurableEnvironment() as env:
        result = env.run(handler, {})
    elapsed = _perf_counter() - started
    assert result.status == "SUCCEEDED"
    return elapsed


def fuzzed(handler, steps: int) -> tuple[float, int]:
    gc.collect()
    started = _perf_counter()
    with DurableEnvironment() as env:
        report = env.fuzz(handler, {})
    elapsed = _perf_counter() - started
    assert report.passed and report.kills >= steps, str(report)
    return elapsed, len(report.fuzzed.invocations)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    # The dead sandboxes' SDK threads log their failed checkpoint; not part of the cost.
    logging.getLogger("aws_durable_execution_sdk_python").setLevel(logging.CRITICAL)
    handler = handler_with(args.steps)
    clean(handler)
    fuzzed(handler, args.steps)  # warm-up
    clean_times, fuzz_times = [], []
    invocations = 0
    for _ in range(args.repeat):
        clean_times.append(clean(handler))
        elapsed, invocations = fuzzed(handler, args.steps)
        fuzz_times.append(elapsed)
    clean_median = statistics.median(clean_times)
    fuzz_median = statistics.median(fuzz_times)
    only = fuzz_median - clean_median
    print(f"{args.steps}-step handler, {args.repeat} alternated runs (medians, min..max):")
    print(
        f"  clean run      {clean_median * 1000:8.1f} ms  "
        f"({min(clean_times) * 1000:.1f} .. {max(clean_times) * 1000:.1f})"
    )
    print(
        f"  durable.fuzz   {fuzz_median * 1000:8.1f} ms  "
        f"({min(fuzz_times) * 1000:.1f} .. {max(fuzz_times) * 1000:.1f}), "
        f"{invocations} invocations in the fuzzed run"
    )
    print(f"  fuzzed only    {only * 1000:8.1f} ms  = {only / clean_median:.1f}x a clean run")
    print(f"  whole fuzz     {fuzz_median / clean_median:.1f}x a clean run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
