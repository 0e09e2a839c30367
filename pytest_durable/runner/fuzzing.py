"""Re-invocation fuzzing: replay the handler after every checkpoint and compare with a clean run.

Lambda may end an invocation at any point and re-invoke; the handler then replays from its
checkpoints. :func:`fuzz` proves a handler survives that: it runs the execution once cleanly,
then again with the sandbox killed after every checkpoint (or every k-th, or at seeded random
points), so each invocation replays everything before it, and compares the two runs: final
status, output and error, the operation sequence (type, sub-type, name, parent, status and
result of every operation, in start order), and how often each at-most-once step body ran.

Two runs of the same handler must not differ by chance: while they run, ``uuid.uuid4()`` and
the functions of the ``random`` module, called from the code under test (not from the SDK,
botocore or pytest-durable), draw from one seeded stream, reset for each run. A deterministic
handler draws the same values in both runs, because replays run no step body; one that draws
outside a step draws again on every replay, shifts the stream, and the values it passes on
differ from the clean run's. Every draw made outside a step body is recorded with the line of
code that made it, which is what the divergence report names as the likely cause.

Step bodies are observed at ``StepOperationExecutor.execute`` (the SDK runs a ``context.step``
body there, with its ``StepConfig``), patched only while a fuzz runs, after checking it exists.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_durable.errors import ReplayDivergenceError
from pytest_durable.runner.operations import OperationView
from pytest_durable.runner.result import ExecutionResult

if TYPE_CHECKING:
    from pytest_durable.runner.environment import DurableEnvironment

# Modules whose own calls to uuid/random are not the handler's: they keep the real functions.
_INFRASTRUCTURE = ("pytest_durable", "aws_durable_execution_sdk_python", "botocore", "boto3")
_RANDOM_FUNCTIONS = (
    "random",
    "randint",
    "randrange",
    "choice",
    "choices",
    "shuffle",
    "sample",
    "uniform",
    "getrandbits",
    "gauss",
    "randbytes",
)
_INTERRUPTED_CAUSE = (
    "the sandbox died while this at-most-once step ran (its START was checkpointed, its end "
    "was not); the SDK never runs such a step again in the same attempt, so it fails unless "
    "its retry strategy allows another attempt: give it one, or use at-least-once semantics "
    "if its body may run twice"
)
_TYPICAL_CAUSES = (
    "typical causes: random or uuid values, datetime.now()/time.time(), environment or file "
    "reads, or iteration over a set, computed outside a step; move them into a step (its "
    "result is checkpointed and replayed) or derive them from the event"
)


@dataclass(frozen=True)
class Draw:
    """A call of ``uuid.uuid4()`` or a ``random`` function made by the code under test outside
    any step body: it runs again, with a new value, on every replay."""

    function: str
    location: str
    #: ``clean`` or ``fuzzed``: the run it was made in.
    run: str


@dataclass(frozen=True)
class Divergence:
    """The first difference between the clean run and the fuzzed one."""

    #: Position of the operation in start order (None: the runs differ only in their outcome).
    index: int | None
    #: The operation as the clean run and the fuzzed run have it (either may be missing).
    clean: OperationView | None
    fuzzed: OperationView | None
    #: What differs, in a sentence.
    what: str
    #: The likely cause, in a sentence.
    cause: str

    def __str__(self) -> str:
        return f"{self.what}. Likely cause: {self.cause}"


@dataclass(frozen=True)
class FuzzReport:
    """What a fuzz run found. ``passed`` if the fuzzed run equals the clean one."""

    clean: ExecutionResult
    fuzzed: ExecutionResult
    #: How many times the fuzzed run's sandbox was killed.
    kills: int
    divergence: Divergence | None
    #: At-most-once step bodies that ran more often in the fuzzed run: name -> (clean, fuzzed).
    repeated_bodies: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Draws of random/uuid values outside step bodies during the fuzzed run.
    draws: tuple[Draw, ...] = ()

    @property
    def passed(self) -> bool:
        return self.divergence is None and not self.repeated_bodies

    def __str__(self) -> str:
        head = (
            f"re-invocation fuzzing: {self.kills} sandbox deaths, "
            f"{len(self.fuzzed.invocations)} invocations (clean run: "
            f"{len(self.clean.invocations)})"
        )
        if self.passed:
            return f"{head}: the fuzzed run equals the clean run"
        lines = [f"{head}: the handler does not replay deterministically"]
        if self.divergence is not None:
            lines.append(f"first divergence: {self.divergence}")
        for name, (clean, fuzzed) in self.repeated_bodies.items():
            lines.append(
                f"the at-most-once step {name!r} ran {fuzzed} time(s), {clean} in the clean run"
            )
        return "\n".join(lines)

    def raise_if_failed(self) -> FuzzReport:
        if not self.passed:
            raise ReplayDivergenceError(str(self))
        return self


def fuzz(
    environment: DurableEnvironment,
    run: Callable[[], ExecutionResult],
    start: Callable[[ExecutionResult], Any],
    *,
    every: int = 1,
    probability: float | None = None,
    seed: int = 0,
    compare_results: bool = True,
) -> FuzzReport:
    """Run ``run()`` (a clean run), then ``start(clean_result)`` (a driver of the same
    execution) with sandbox deaths, in ``environment``, and compare them (module docstring)."""
    observer = _Observer(seed)
    with observer.installed():
        observer.reset("clean")
        clean = run()
        clean_runs = observer.bodies_of(clean.arn)
        observer.reset("fuzzed")
        driver = start(clean)
        rule = environment.faults.kill_sandbox(
            every=None if probability is not None else every,
            probability=probability,
            seed=seed,
            times=None,
            arn=driver.arn,
            predicate=_once_per_point(),
        )
        try:
            fuzzed = driver.run()
        finally:
            environment.faults.remove(rule)
        fuzzed_runs = observer.bodies_of(fuzzed.arn)
        draws = tuple(d for d in observer.draws if d.run == "fuzzed")
    kills = sum(1 for f in fuzzed.faults if f.kind == "kill_sandbox")
    repeated = {
        name: (clean_runs.get(name, 0), count)
        for name, count in fuzzed_runs.items()
        if name in observer.at_most_once and count > clean_runs.get(name, 0)
    }
    divergence = compare(clean, fuzzed, draws, compare_results=compare_results)
    return FuzzReport(clean, fuzzed, kills, divergence, repeated, draws)


def _once_per_point() -> Callable[[int, dict[str, Any]], bool]:
    """Kill after a checkpoint only if its batch records something not killed after before:
    each (operation Id, action) is a point to replay from once. Without this, an at-most-once
    step's every retry would die right after its START, and it could never finish."""
    seen: set[frozenset[tuple[str, str]]] = set()
    lock = threading.Lock()

    def new_point(call: int, params: dict[str, Any]) -> bool:
        updates = params.get("Updates") or ()
        key = frozenset(
            (str(u.get("Id")), str(u.get("Action"))) for u in updates if isinstance(u, dict)
        )
        with lock:
            if key in seen:
                return False
            seen.add(key)
            return True

    return new_point


# --------------------------------------------------------------------- comparing two runs


def _identity(view: OperationView, parents: dict[str, str]) -> tuple[Any, ...]:
    return (view.type, view.sub_type, view.name, parents.get(view.parent_id or ""))


def _describe(view: OperationView | None) -> str:
    if view is None:
        return "nothing"
    name = f" {view.name!r}" if view.name else ""
    return f"{view.type}{name} (Id {view.id}, {view.status})"


def compare(
    clean: ExecutionResult,
    fuzzed: ExecutionResult,
    draws: tuple[Draw, ...] = (),
    *,
    compare_results: bool = True,
) -> Divergence | None:
    """The first difference between two runs of one handler, or None."""
    cause = _cause(draws)
    clean_ops, fuzzed_ops = clean.all_operations(), fuzzed.all_operations()
    # Parents by position, so operations are compared by where they are, not by their Ids.
    clean_paths = {op.id: str(i) for i, op in enumerate(clean_ops)}
    fuzzed_paths = {op.id: str(i) for i, op in enumerate(fuzzed_ops)}
    for index in range(max(len(clean_ops), len(fuzzed_ops))):
        a = clean_ops[index] if index < len(clean_ops) else None
        b = fuzzed_ops[index] if index < len(fuzzed_ops) else None
        if a is None or b is None or _identity(a, clean_paths) != _identity(b, fuzzed_paths):
            return Divergence(
                index,
                a,
                b,
                f"operation #{index + 1}: the clean run has {_describe(a)}, the fuzzed run "
                f"{_describe(b)}",
                cause,
            )
        if a.status != b.status:
            interrupted = b.error is not None and "StepInterrupted" in str(b.error.type)
            return Divergence(
                index,
                a,
                b,
                f"operation #{index + 1} {_describe(a)} ended {b.status} in the fuzzed run"
                + (f" ({b.error.type}: {b.error.message})" if b.error is not None else ""),
                _INTERRUPTED_CAUSE if interrupted else cause,
            )
        if compare_results and a.result_payload != b.result_payload:
            return Divergence(
                index,
                a,
                b,
                f"operation #{index + 1} {_describe(a)} returned {_short(b.result_payload)} in "
                f"the fuzzed run and {_short(a.result_payload)} in the clean run",
                cause,
            )
    if clean.status != fuzzed.status:
        return Divergence(
            None,
            None,
            None,
            f"the execution ended {fuzzed.status} in the fuzzed run ({fuzzed.error}) and "
            f"{clean.status} in the clean run",
            cause,
        )
    if compare_results and clean.result_payload != fuzzed.result_payload:
        return Divergence(
            None,
            None,
            None,
            f"the execution returned {_short(fuzzed.result_payload)} in the fuzzed run and "
            f"{_short(clean.result_payload)} in the clean run",
            cause,
        )
    return None


def _cause(draws: tuple[Draw, ...]) -> str:
    if not draws:
        return _TYPICAL_CAUSES
    seen = list(dict.fromkeys((d.function, d.location) for d in draws))
    shown = "; ".join(f"{function} at {location}" for function, location in seen[:3])
    return (
        f"{shown} ran outside a step, so it drew a new value on every replay; move it into a "
        f"step (its result is checkpointed and replayed)"
    )


def _short(payload: str | None) -> str:
    if payload is None:
        return "nothing"
    try:
        text = json.dumps(json.loads(payload))
    except ValueError:
        text = payload
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------- watching the code


class _Observer:
    """Seeded uuid/random for the code under test, draws outside steps, step body runs."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._stream = random.Random(seed)
        self._local = threading.local()
        self._lock = threading.Lock()
        self.draws: list[Draw] = []
        self.phase = ""
        self.at_most_once: set[str] = set()
        self._bodies: dict[str, Counter[str]] = {}

    def reset(self, phase: str) -> None:
        """Start a run: the seeded stream from its start, draws labelled ``phase``."""
        self._stream.seed(self._seed)
        self.phase = phase

    def bodies_of(self, arn: str) -> dict[str, int]:
        with self._lock:
            return dict(self._bodies.get(arn, Counter()))

    @contextmanager
    def installed(self) -> Iterator[None]:
        from aws_durable_execution_sdk_python.operation import step as sdk_step  # noqa: PLC0415

        executor = getattr(sdk_step, "StepOperationExecutor", None)
        original_execute = getattr(executor, "execute", None)
        if executor is None or original_execute is None:  # pragma: no cover - another SDK
            raise RuntimeError(
                "re-invocation fuzzing needs the SDK's StepOperationExecutor.execute, which the "
                "installed aws-durable-execution-sdk-python lacks"
            )
        observer = self

        def execute(self: Any, checkpointed_result: Any) -> Any:
            identifier = self.operation_identifier
            key = identifier.name or identifier.operation_id
            semantics = getattr(getattr(self.config, "step_semantics", None), "name", "")
            with observer._lock:
                counts = observer._bodies.setdefault(self.state.durable_execution_arn, Counter())
                counts[key] += 1
                if semantics == "AT_MOST_ONCE_PER_RETRY":
                    observer.at_most_once.add(key)
            depth = getattr(observer._local, "in_step", 0)
            observer._local.in_step = depth + 1
            try:
                return original_execute(self, checkpointed_result)
            finally:
                observer._local.in_step = depth

        originals: dict[str, Any] = {name: getattr(random, name) for name in _RANDOM_FUNCTIONS}
        original_uuid4 = uuid.uuid4
        executor.execute = execute
        uuid.uuid4 = self._draw("uuid.uuid4()", original_uuid4, self._uuid4)
        for name, function in originals.items():
            seeded = getattr(self._stream, name)
            setattr(random, name, self._draw(f"random.{name}()", function, seeded))
        try:
            yield
        finally:
            executor.execute = original_execute
            uuid.uuid4 = original_uuid4
            for name, function in originals.items():
                setattr(random, name, function)

    def _uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=self._stream.getrandbits(128), version=4)

    def _draw(
        self, label: str, real: Callable[..., Any], seeded: Callable[..., Any]
    ) -> Callable[..., Any]:
        observer = self

        def draw(*args: Any, **kwargs: Any) -> Any:
            frame = sys._getframe(1)
            module = str(frame.f_globals.get("__name__", ""))
            if module.startswith(_INFRASTRUCTURE) or module in ("random", "uuid"):
                return real(*args, **kwargs)
            if not getattr(observer._local, "in_step", 0):
                where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
                with observer._lock:
                    observer.draws.append(Draw(label, where, observer.phase))
            with observer._lock:
                return seeded(*args, **kwargs)

        return draw
