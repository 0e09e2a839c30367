"""What a drive waits for, and what the scheduler keeps per execution.

A *goal* is what the test asked of one execution (``run``: its end; ``run_until_blocked``: the
point where only the test can move it on; ``advance``: a span of virtual time). A *tracked*
execution is the scheduler's record of one execution it may invoke: its handler, its invocation
budget and crash count, its declared answers still to come, and where its outcome goes when a
chained invoke started it.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_durable.runner.callbacks import _Step
    from pytest_durable.runner.invocation import RunningInvocation

Handler = Callable[[Any, Any], Any]
_sequence = itertools.count()


class GoalKind(enum.Enum):
    END = "end"  # run(): to the execution's end
    BLOCKED = "blocked"  # run_until_blocked(): until only the test can move it on
    UNTIL = "until"  # advance(d): until a virtual time


@dataclass
class Goal:
    kind: GoalKind
    arn: str
    until_ms: int | None = None
    ignored_ids: set[str] = field(default_factory=set)
    ignored_names: set[str] = field(default_factory=set)
    error: BaseException | None = None


@dataclass
class Tracked:
    """One execution the scheduler drives."""

    arn: str
    handler: Handler
    explicit_timeout: bool
    #: Driven without a test waiting on it (an ``Invoke`` served by the stand-in or ``serve``).
    autonomous: bool = False
    #: (caller ARN, CHAINED_INVOKE Id, the FunctionName it was invoked as), for a chained target.
    parent: tuple[str, str, str] | None = None
    children: list[str] = field(default_factory=list)
    invocations_made: int = 0
    consecutive_failures: int = 0
    #: The last invocation's sandbox was killed by an injected fault: Lambda re-invokes.
    sandbox_died: bool = False
    #: How many bugs of the fake were on record when the current invocation began.
    bugs_seen: int = 0
    last_crash: BaseException | None = None
    #: Why the scheduler stopped driving it (raised to whoever drives it next).
    error: BaseException | None = None
    running: RunningInvocation | None = None
    #: Callback Ids a declared responder answers; chained invokes already started.
    responded: set[str] = field(default_factory=set)
    started_invokes: set[str] = field(default_factory=set)
    #: Declared answers still to come: (due ms, sequence, callback id, step).
    answers: list[tuple[int, int, str, _Step]] = field(default_factory=list)
    reported: bool = False

    def schedule_answer(self, due_ms: int, callback_id: str, step: _Step) -> None:
        heapq.heappush(self.answers, (due_ms, next(_sequence), callback_id, step))

    def next_answer_ms(self) -> int | None:
        return self.answers[0][0] if self.answers else None
