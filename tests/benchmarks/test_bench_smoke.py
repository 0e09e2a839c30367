"""The benchmark script still runs (a smoke test: its numbers are not checked, only that every
runner completes and the floor answers like a service). The benchmark itself is not a test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(
            f"bench_smoke_{name}", BENCHMARKS / f"{name}.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_the_floor_runs_steps_waits_retries_and_callbacks():
    bench = _load("bench")
    for name in ("steps3_wait30s", "retry_2x_60s", "callback"):
        scenario = bench.BY_NAME[name]
        assert bench.floor_fresh(scenario) > 0


def test_bench_main_runs_one_scenario(capsys):
    bench = _load("bench")
    assert bench.main(["--only", "empty", "--quick", "--skip-official", "--no-costs"]) == 0
    out = capsys.readouterr().out
    assert "ours/floor" in out
    assert "empty" in out
