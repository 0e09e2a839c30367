"""What a determinism replay found: divergences, each naming the operation, the record and now.

The code's operations and the recorded ones are compared context by context (the top level,
then inside each child context, map iteration and parallel branch), as sequences of
``(Type, SubType, Name)`` aligned with :mod:`difflib`. Because operation Ids are positions, one
change shows at every later position of its context; aligning the sequences instead of
comparing position by position reports the change itself:

========== ==================================================================================
renamed    same position, same type, another name (the next operations agree again)
type       same position and name, another type or subtype (a step that became a wait)
replaced   same position, another operation altogether
added      an operation the recording does not have
removed    a recorded operation the code no longer runs (reported only where the code ran
           the context to its end, so a replay that stops early does not claim removals)
reordered  a recorded operation the code now runs at another position
outcome    the recorded execution ended one way, the replay of the same history another
========== ==================================================================================
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

Key = tuple[str, str | None, str | None]

_PLAIN_SUBTYPES = {
    "STEP": "Step",
    "WAIT": "Wait",
    "CALLBACK": "Callback",
    "CONTEXT": "RunInChildContext",
    "CHAINED_INVOKE": "ChainedInvoke",
}

#: Exit statuses of ``pytest-durable replay``: every replay clean, a divergence, could not run.
EXIT_CLEAN, EXIT_DIVERGED, EXIT_ERROR = 0, 1, 2

KINDS = ("renamed", "type", "replaced", "added", "removed", "reordered", "outcome")


@dataclass(frozen=True)
class OperationRef:
    """One operation, recorded or current: who it is and where it sits."""

    id: str
    type: str
    sub_type: str | None
    name: str | None
    parent_id: str | None
    #: The SDK's counter in its context (1-based; 0-based for map iterations and branches).
    position: int | None
    #: Names from the top level down (``shipping/schedule_pickup``); ``[n]`` for unnamed ones.
    path: str

    @property
    def key(self) -> Key:
        return (self.type, self.sub_type or None, self.name or None)

    def describe(self) -> str:
        """``STEP 'charge'``; the SubType is shown when it is not the type's plain one
        (``CONTEXT/Map 'pack_items'``, ``STEP/WaitForCondition 'poll'``)."""
        label = repr(self.name) if self.name else "(unnamed)"
        plain = _PLAIN_SUBTYPES.get(self.type)
        kind = self.type if self.sub_type in (None, plain) else f"{self.type}/{self.sub_type}"
        return f"{kind} {label}"

    def where(self) -> str:
        parent = self.path.rsplit("/", 1)[0] if "/" in self.path else ""
        position = f"#{self.position}" if self.position is not None else "position unknown"
        return f"{position} in {parent!r}" if parent else f"{position} at the top level"


@dataclass(frozen=True)
class Divergence:
    """One difference between the recorded execution and what the current code does."""

    kind: str
    recorded: OperationRef | None
    current: OperationRef | None
    detail: str

    @property
    def operation(self) -> OperationRef:
        """The operation it is about (the recorded one when there is one)."""
        found = self.recorded or self.current
        assert found is not None
        return found

    def __str__(self) -> str:
        return f"{self.kind:<9} {self.detail}"


@dataclass
class ReplayReport:
    """The result of replaying the current code against one recorded execution."""

    source: str
    execution: str
    recorded_status: str
    #: How the replay's invocation ended: SUCCEEDED, FAILED, PENDING (it stopped where the
    #: record ends, or before a step body), or CRASHED.
    replayed_status: str
    divergences: list[Divergence] = field(default_factory=list)
    #: The first ``NonDeterministicExecutionError`` the SDK raised: what an in-flight execution
    #: would fail with after a deploy of this code.
    sdk_error: str | None = None
    #: Steps whose bodies the replay reached and did not run (where it stopped).
    steps_not_run: list[str] = field(default_factory=list)
    #: Operations of the recording the code replayed without a difference.
    replayed_operations: int = 0
    runs: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the code replays the recording without a divergence."""
        return not self.divergences

    def kinds(self) -> list[str]:
        return [divergence.kind for divergence in self.divergences]

    def __str__(self) -> str:
        head = (
            f"Determinism replay of {self.source} (execution {self.execution!r}, recorded "
            f"{self.recorded_status}): "
        )
        if self.ok:
            lines = [
                head + f"no divergence; {self.replayed_operations} recorded operations replayed, "
                f"the replay ended {self.replayed_status}."
            ]
        else:
            count = len(self.divergences)
            lines = [head + f"{count} divergence{'s' if count != 1 else ''}."]
            lines += [f"  {divergence}" for divergence in self.divergences]
            if self.sdk_error:
                lines.append(
                    "In-flight executions of this recording would fail after a deploy with: "
                    + self.sdk_error
                )
        if self.steps_not_run:
            lines.append(
                "The replay stopped before running the body of: " + ", ".join(self.steps_not_run)
            )
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)


# ----------------------------------------------------------------- alignment


def compare_context(
    recorded: Sequence[OperationRef],
    current: Sequence[OperationRef],
    *,
    finished: bool,
) -> list[Divergence]:
    """Divergences between one context's recorded and current operations (both in position
    order). ``finished``: the code ran this context to its end in the replay."""
    matcher = difflib.SequenceMatcher(
        a=[ref.key for ref in recorded], b=[ref.key for ref in current], autojunk=False
    )
    found: list[Divergence] = []
    removed: list[OperationRef] = []
    added: list[OperationRef] = []
    opcodes = matcher.get_opcodes()
    for number, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            continue
        rec, cur = list(recorded[i1:i2]), list(current[j1:j2])
        if tag == "replace":
            agrees_after = number + 1 < len(opcodes) or finished
            pairs = min(len(rec), len(cur))
            for r, c in zip(rec[:pairs], cur[:pairs], strict=True):
                found.append(_changed(r, c, agrees_after=agrees_after))
            rec, cur = rec[pairs:], cur[pairs:]
        removed += rec
        added += cur
    # A recorded operation that is gone from one place and new in another has moved.
    for ref in list(removed):
        twin = next((c for c in added if c.key == ref.key), None)
        if twin is None:
            continue
        removed.remove(ref)
        added.remove(twin)
        found.append(
            Divergence("reordered", ref, twin, _moved_detail(ref, twin, recorded, current))
        )
    last_reached = current[-1].position if current else None
    for ref in removed:
        if not finished and (last_reached is None or (ref.position or 0) > last_reached):
            continue  # the replay stopped before this point: not reached, not removed
        found.append(
            Divergence(
                "removed",
                ref,
                None,
                f"{ref.describe()} (recorded {ref.where()}) is no longer run by the code",
            )
        )
    for ref in added:
        found.append(
            Divergence(
                "added",
                None,
                ref,
                f"{ref.describe()} at {ref.where()} is new: the recording has no such operation",
            )
        )
    return sorted(found, key=_order)


def _moved_detail(
    ref: OperationRef,
    twin: OperationRef,
    recorded: Sequence[OperationRef],
    current: Sequence[OperationRef],
) -> str:
    """Say which operations traded places when two did (the usual reordering)."""
    displaced = next((r for r in recorded if r.position == twin.position), None)
    if displaced is not None and displaced.key != ref.key:
        now = next((c for c in current if c.key == displaced.key), None)
        if now is not None and now.position == ref.position:
            return (
                f"{ref.describe()} and {displaced.describe()} swapped places: recorded "
                f"{displaced.name!r} at #{displaced.position} then {ref.name!r} at "
                f"#{ref.position}, the code now runs {ref.name!r} first"
                + (f" (in {_context(ref)!r})" if _context(ref) else "")
            )
    return (
        f"{ref.describe()} (recorded {ref.where()}) now runs at #{twin.position}: the order "
        f"of operations changed"
    )


def _context(ref: OperationRef) -> str:
    return ref.path.rsplit("/", 1)[0] if "/" in ref.path else ""


def _changed(recorded: OperationRef, current: OperationRef, *, agrees_after: bool) -> Divergence:
    same_kind = (recorded.type, recorded.sub_type) == (current.type, current.sub_type)
    if same_kind and recorded.name != current.name and agrees_after:
        return Divergence(
            "renamed",
            recorded,
            current,
            f"{recorded.describe()} ({recorded.where()}) is now named {current.name!r}",
        )
    if not same_kind and recorded.name == current.name:
        return Divergence(
            "type",
            recorded,
            current,
            f"{recorded.describe()} ({recorded.where()}) is now a {current.describe()}",
        )
    return Divergence(
        "replaced",
        recorded,
        current,
        f"{recorded.describe()} ({recorded.where()}) is now {current.describe()}",
    )


def _order(divergence: Divergence) -> tuple[int, int]:
    ref = divergence.recorded or divergence.current
    assert ref is not None
    return (ref.position if ref.position is not None else 1 << 30, KINDS.index(divergence.kind))
