"""The service fuzz test at size: 10,000+ batches through a real botocore client, with fresh
randomness each run (the CI test, tests/service/test_service_fuzz.py, is derandomized and
sends ~2,700). Prints how many batches were sent and the CPU time taken.

    .venv/bin/python benchmarks/service_fuzz.py [--examples N] [--steps N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "service"))

from test_service_fuzz import run_service_fuzz


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=150)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--minimum", type=int, default=10_000)
    args = parser.parse_args()
    cpu, wall = resource.getrusage(resource.RUSAGE_SELF).ru_utime, time.perf_counter()
    batches = 0
    rounds = 0
    while batches < args.minimum:
        batches += run_service_fuzz(args.examples, args.steps, derandomize=False)
        rounds += 1
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu
    wall = time.perf_counter() - wall
    print(
        f"service fuzz: {batches} batches in {rounds} round(s), no invariant broken; "
        f"{cpu:.1f} s CPU, {wall:.1f} s wall ({1000 * cpu / batches:.2f} ms CPU per batch)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
