"""A SQLite file that keeps ``pytest-durable serve``'s state across restarts and ``kill -9``.

The service stays a pure in-memory model. This module saves its state as data
(:mod:`pytest_durable.service.snapshot`) and restores it at start-up:

- one row per execution (its operations, token, timers, callbacks, history, invocations and
  idempotency caches, as JSON), and the clock;
- stdlib ``sqlite3`` in WAL mode, one transaction per accepted request, committed *before* the
  answer is sent (:class:`StoringRouter`), and after every accepted checkpoint (the SDK of a
  ``--function`` handler checkpoints in-process, not over HTTP). What a client was told has
  happened is on disk. ``synchronous=NORMAL``: a committed transaction survives the process
  being killed (the WAL is written before the commit returns); a power cut may lose the last
  ones (use a ``FULL`` database if that matters);
- a commit looks only at the executions the service looked up since the last one (the only
  ones a request or a timer can have changed, :meth:`DurableService.take_touched`), writes
  those whose data changed, and deletes the rows of deleted executions, in one transaction.

At restart (:meth:`SqliteStore.restore`) the executions come back as they were; an invocation
that was running when the process died is ended as a failed invocation (a sandbox that died,
which Lambda retries), and the clock resumes at the saved time plus the downtime, so timers that
came due meanwhile fire at once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import time_machine

from pytest_durable.errors import ServiceException, StoreError
from pytest_durable.service.snapshot import (
    SNAPSHOT_VERSION,
    execution_from_json,
    execution_to_json,
)
from pytest_durable.transport.router import HttpResponse, Router, error_response

if TYPE_CHECKING:
    from pytest_durable.service import DurableService

#: A commit with nothing to save still refreshes the clock row this often (wall milliseconds).
CLOCK_EVERY_MS = 1000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (arn TEXT PRIMARY KEY, data TEXT NOT NULL);
"""


@dataclass(frozen=True)
class StoredClock:
    """The service's time at the last commit, and the wall-clock time it was taken."""

    service_ms: int
    wall_ms: int
    mode: str

    def resumed_ms(self, wall_now_ms: int | None = None) -> int:
        """Where the clock resumes: the saved time plus the downtime (never earlier)."""
        now = _wall_ms() if wall_now_ms is None else wall_now_ms
        return self.service_ms + max(0, now - self.wall_ms)


def _wall_ms() -> int:
    """The machine's real time, even while time-machine makes ``time.time`` virtual (a
    ``--function`` serve runs its handlers on the virtual clock): the downtime is wall time."""
    hatch = time_machine.escape_hatch
    nanoseconds = hatch.time.time_ns() if hatch.is_travelling() else time.time_ns()
    return nanoseconds // 1_000_000


class SqliteStore:
    """The store file. Thread-safe: commits are serialised, each one a transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            version = self._meta("version")
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"{self.path} cannot be used as a pytest-durable store: {error}. Give --store "
                f"a new file, or one written by pytest-durable serve --store."
            ) from None
        if version is None:
            self._db.execute(
                "INSERT INTO meta VALUES ('version', ?)", (json.dumps(SNAPSHOT_VERSION),)
            )
        elif json.loads(version) != SNAPSHOT_VERSION:
            raise StoreError(
                f"{self.path} was written by a pytest-durable with store version {version}; "
                f"this one reads version {SNAPSHOT_VERSION}. Start with a new file."
            )
        self._lock = threading.Lock()
        #: The JSON of every execution as last committed: a commit writes only what differs.
        self._saved: dict[str, str] = {}
        self._closed = False
        #: Wall time the clock row was last written (0: never by this process).
        self._clock_written_ms = 0

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # ------------------------------------------------------------------ reading

    @property
    def clock(self) -> StoredClock | None:
        """The clock as last committed, or None for a new store."""
        text = self._meta("clock")
        if text is None:
            return None
        saved = json.loads(text)
        return StoredClock(int(saved["service_ms"]), int(saved["wall_ms"]), str(saved["mode"]))

    def restore(self, service: DurableService) -> int:
        """Load every stored execution into ``service`` (an empty one), end the invocations the
        last process died in (the next commit saves that). Returns how many were restored."""
        with self._lock:
            rows = self._db.execute("SELECT arn, data FROM executions ORDER BY rowid").fetchall()
            executions = []
            for arn, text in rows:
                try:
                    executions.append(execution_from_json(str(text)))
                except (ValueError, KeyError, TypeError) as error:
                    raise StoreError(
                        f"{self.path}: the stored execution {arn} cannot be read ({error})"
                    ) from None
                self._saved[str(arn)] = str(text)
        service.load_executions(executions)
        service.end_interrupted_invocations(
            "Sandbox.Restarted",
            "pytest-durable serve stopped while this invocation ran; Lambda retries it",
        )
        return len(executions)

    # ------------------------------------------------------------------ writing

    def commit(self, service: DurableService, *, mode: str = "virtual") -> None:
        """Save what changed in ``service`` since the last commit, in one transaction.

        The service's lock is held throughout (taken before the store's own, the order every
        caller uses: a checkpoint listener commits while the service holds it), so the data
        written is one consistent view, and commits land in the order the changes were made."""
        with service.exclusive(), self._lock:
            if self._closed:
                return
            now_ms = service.now_ms()
            live = {execution.arn: execution for execution in service.executions}
            touched = service.take_touched()
            texts = {arn: execution_to_json(live[arn]) for arn in touched if arn in live}
            changed = {arn: text for arn, text in texts.items() if self._saved.get(arn) != text}
            gone = [arn for arn in self._saved if arn not in live]
            wall_ms = _wall_ms()
            if not changed and not gone and wall_ms - self._clock_written_ms < CLOCK_EVERY_MS:
                # Nothing to save (a read, or the second commit of a checkpoint that came over
                # HTTP): no transaction. The clock row stays a consistent (service, wall) pair
                # at most CLOCK_EVERY_MS old, which is all a restart needs of it.
                return
            clock = json.dumps({"service_ms": now_ms, "wall_ms": wall_ms, "mode": mode})
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO executions VALUES (?, ?) "
                    "ON CONFLICT(arn) DO UPDATE SET data = excluded.data",
                    changed.items(),
                )
                db.executemany("DELETE FROM executions WHERE arn = ?", [(arn,) for arn in gone])
                db.execute(
                    "INSERT INTO meta VALUES ('clock', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (clock,),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._clock_written_ms = wall_ms
            self._saved.update(changed)
            for arn in gone:
                del self._saved[arn]

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StoringRouter(Router):
    """A router that commits the store after every request, before the answer goes out. If
    the commit fails, the client is told (a 500 ``ServiceException``), not answered as if the
    request were safe."""

    def __init__(self, inner: Router, commit: Callable[[], None]) -> None:
        super().__init__(inner.service)
        self.inner = inner
        self._commit = commit

    def handle(
        self, method: str, url_path: str, headers: dict[str, str], body: bytes
    ) -> HttpResponse:
        answer = self.inner.handle(method, url_path, headers, body)
        try:
            self._commit()
        except (sqlite3.Error, OSError) as error:
            return error_response(
                ServiceException(
                    f"pytest-durable serve could not save this request to its store: {error}"
                )
            )
        return answer


def attach_store(
    store: SqliteStore, service: DurableService, router: Router, *, mode: str
) -> tuple[StoringRouter, Callable[[], None], int]:
    """Restore ``store`` into ``service`` and keep it saved from then on: after every request
    (the returned router) and every accepted checkpoint (the SDK of an in-process handler
    checkpoints without HTTP). Returns the router, the commit function (for the timer loop)
    and how many executions were restored."""
    restored = store.restore(service)

    def commit() -> None:
        store.commit(service, mode=mode)

    service.add_checkpoint_listener(lambda _arn, _request, _response: commit())
    commit()
    return StoringRouter(router, commit), commit, restored
