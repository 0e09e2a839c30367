"""A Lambda sandbox in-process: the threads one invocation runs on, and how to kill them.

Lambda runs an invocation in an execution environment it can destroy: when it gives up on a
hung handler (the function timeout) or the environment dies, every thread of it stops at once
and nothing more it would have sent reaches the service. In one Python process the nearest
thing is the family of threads an invocation starts: the thread that calls the handler (the
*supervisor*) and every thread started from a thread of the family (the SDK's handler and
checkpoint threads, map/parallel branch pools, the user's own threads). While any
environment is open, :func:`follow_threads` wraps ``threading.Thread.start`` so that a new
thread joins the family of the thread that starts it.

:meth:`Sandbox.kill` is the sandbox's death. It is reusable for any "the sandbox died here"
(the runner uses it for a handler past ``invocation_wall_timeout``, and after an injected
``kill_sandbox`` fault, :func:`kill_for_fault`, it re-invokes as Lambda does):

- **fenced**: a request any thread of the sandbox makes to the service afterwards is refused
  before it reaches the service, by raising :class:`SandboxKilled` in that thread (see
  :class:`SandboxGate`). Nothing is applied, and nothing is logged: the SDK's checkpoint loop
  catches ``Exception``, and :class:`SandboxKilled` is a ``BaseException``, like the
  ``SystemExit`` it stands for. A request already inside the service when the sandbox dies is
  finished (a batch is applied whole or not at all) and its answer is never seen.
- **stopped**: :class:`SandboxKilled` is raised asynchronously in every other live thread of
  the family (CPython's ``PyThreadState_SetAsyncExc``), except the supervisor, which only
  waits for the handler. Python code stops at its next instruction (an endless loop ends); a
  thread blocked in C (``time.sleep(600)``) stops when the call returns, if the process still
  runs then.
- **released**: the interpreter's exit no longer waits for the family. ``concurrent.futures``
  joins every ``ThreadPoolExecutor`` worker at exit (it registers a ``threading`` exit hook),
  which kept pytest alive until a hung step returned; a killed sandbox's workers are taken off
  that list (and off the list of non-daemon threads the interpreter joins), so the process
  exits as soon as pytest is done.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import traceback
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import thread as _futures_thread
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any

from pytest_durable.errors import SandboxDied, SandboxKilled
from pytest_durable.transport.faults import InjectedFault
from pytest_durable.transport.router import HttpResponse, Router

_ATTRIBUTE = "_pytest_durable_sandbox"


def current_sandbox() -> Sandbox | None:
    """The sandbox the calling thread belongs to, if any."""
    sandbox: Sandbox | None = getattr(threading.current_thread(), _ATTRIBUTE, None)
    return sandbox


class Sandbox:
    """The threads of one invocation. :meth:`start` runs a function on its supervisor thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self._inside_service: set[int] = set()
        self._killed = False
        self.supervisor: threading.Thread | None = None
        #: Called (from the killing thread) once the sandbox is dead: its owner settles the
        #: invocation as a crash and re-invokes, as Lambda does after a sandbox dies.
        self.on_killed: Callable[[], None] = lambda: None
        #: The injected fault that killed it (``kill_sandbox``, :func:`kill_for_fault`).
        self.death: InjectedFault | None = None

    @property
    def killed(self) -> bool:
        return self._killed

    def start(self, target: Callable[[], None]) -> threading.Thread:
        """Run ``target`` on a new daemon thread, the supervisor of this sandbox."""

        def supervise() -> None:
            with suppress(SandboxKilled):
                target()

        thread = threading.Thread(target=supervise, name=f"lambda-{self.name}", daemon=True)
        self.adopt(thread)
        self.supervisor = thread
        thread.start()
        return thread

    def adopt(self, thread: threading.Thread) -> None:
        """Make ``thread`` (not started yet) part of this sandbox."""
        setattr(thread, _ATTRIBUTE, self)
        with self._lock:
            if self._killed:
                raise SandboxKilled(f"the sandbox of {self.name} was killed")
            self._threads.add(thread)

    def threads(self) -> list[threading.Thread]:
        """The live threads of the sandbox (the supervisor first)."""
        with self._lock:
            alive = [t for t in self._threads if t.is_alive()]
        return sorted(alive, key=lambda t: t is not self.supervisor)

    # ------------------------------------------------------------------ death

    def kill(self) -> None:
        """The sandbox dies: fence its requests, stop its threads, release them from the
        interpreter's exit (see the module docstring). Idempotent; safe from any thread,
        including one of the sandbox (that one is not interrupted: it raises on its own)."""
        me = threading.current_thread()
        with self._lock:
            first = not self._killed
            self._killed = True
            threads = [t for t in self._threads if t.is_alive()]
            inside = set(self._inside_service)
            for thread in threads:
                _release_from_exit(thread)
                if thread is me or thread is self.supervisor or thread.ident in inside:
                    continue
                _raise_in(thread)
        if first:
            self.on_killed()

    @contextmanager
    def in_service(self) -> Iterator[None]:
        """A request of this sandbox's thread to the service: refused once the sandbox is
        dead; a thread inside is not interrupted, and learns of the death when it leaves."""
        ident = threading.get_ident()
        with self._lock:
            if self._killed:
                raise SandboxKilled(f"the sandbox of {self.name} was killed")
            self._inside_service.add(ident)
        try:
            yield
        finally:
            with self._lock:
                self._inside_service.discard(ident)
                killed = self._killed
            if killed:
                raise SandboxKilled(f"the sandbox of {self.name} was killed")

    # ------------------------------------------------------------------ what it was doing

    def describe(self) -> str:
        """What the sandbox was doing: the operation a step or check was running (from the
        SDK's frames) and the stacks of its threads that run user code (all, if none does)."""
        frames = sys._current_frames()
        threads = [t for t in self.threads() if t is not self.supervisor and t.ident in frames]
        stacks = {t: frames[t.ident] for t in threads if t.ident is not None}
        user = [t for t, frame in stacks.items() if _runs_user_code(frame)]
        shown = user or list(stacks)
        parts = []
        operation = next(
            (found for t in shown if (found := _running_operation(stacks[t])) is not None), None
        )
        if operation is not None:
            parts.append(f"It was running {operation}.")
        for thread in shown:
            stack = "".join(traceback.format_stack(stacks[thread]))
            parts.append(f"Stack of the handler thread {thread.name!r}:\n{stack.rstrip()}")
        return "\n".join(parts)


def kill_for_fault(arn: str, fault: InjectedFault) -> None:
    """The fault plan's sandbox killer: an injected ``kill_sandbox`` hit a request of the
    calling thread (the SDK's checkpoint thread of an invocation), before or after it was
    applied. The request fails with :class:`SandboxDied`, an ``Exception``: the SDK's checkpoint
    loop hands the failure to every thread waiting on it, so the invocation unwinds instead of
    waiting forever on a checkpoint that never ends; when its handler returns, the invocation
    settles as this death (``RunningInvocation``), which kills whatever of the sandbox still
    runs. Returns, killing nothing, if the caller is in no live sandbox (a request over HTTP
    from another process)."""
    sandbox = current_sandbox()
    if sandbox is None or sandbox.killed or sandbox.death is not None:
        fault.detail += " (no in-process invocation was running: nothing was killed)"
        return
    sandbox.death = fault
    raise SandboxDied(f"the sandbox of {sandbox.name} died: {fault.detail}")


# --------------------------------------------------------------------- the gate


class SandboxGate(Router):
    """The router the SDK's client talks through: a request from a thread of a killed
    sandbox never reaches the service (:meth:`Sandbox.in_service`)."""

    def handle(
        self, method: str, url_path: str, headers: dict[str, str], body: bytes
    ) -> HttpResponse:
        sandbox = current_sandbox()
        if sandbox is None:
            return super().handle(method, url_path, headers, body)
        with sandbox.in_service():
            return super().handle(method, url_path, headers, body)


# --------------------------------------------------------------------- following threads

_follow_lock = threading.Lock()
_follow_count = 0
_original_start: Callable[..., Any] | None = None


def _start_in_family(self: threading.Thread) -> None:
    assert _original_start is not None
    sandbox = current_sandbox()
    if sandbox is not None and getattr(self, _ATTRIBUTE, None) is None:
        sandbox.adopt(self)
    _original_start(self)


@contextmanager
def follow_threads() -> Iterator[None]:
    """While open (reference-counted), a thread started by a sandbox's thread joins it."""
    global _follow_count, _original_start  # noqa: PLW0603 - one process-wide patch
    with _follow_lock:
        if _follow_count == 0:
            _original_start = threading.Thread.start
            threading.Thread.start = _start_in_family  # type: ignore[method-assign]
        _follow_count += 1
    try:
        yield
    finally:
        with _follow_lock:
            _follow_count -= 1
            if _follow_count == 0 and _original_start is not None:
                threading.Thread.start = _original_start  # type: ignore[method-assign]
                _original_start = None


# --------------------------------------------------------------------- CPython details


def _raise_in(thread: threading.Thread) -> None:
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(SandboxKilled)
        )


def _release_from_exit(thread: threading.Thread) -> None:
    """Take ``thread`` off the lists the interpreter joins at exit: ``concurrent.futures``'
    workers (joined by its exit hook) and, for a non-daemon thread, ``threading``'s."""
    queues = getattr(_futures_thread, "_threads_queues", None)
    if queues is not None:
        queues.pop(thread, None)
    locks = getattr(threading, "_shutdown_locks", None)
    locks_lock = getattr(threading, "_shutdown_locks_lock", None)
    tstate_lock = getattr(thread, "_tstate_lock", None)
    if not thread.daemon and locks is not None and locks_lock is not None and tstate_lock:
        with locks_lock:
            locks.discard(tstate_lock)


_LIBRARY_ROOTS = tuple(
    str(Path(path).resolve())
    for path in {
        Path(threading.__file__).parent,  # the standard library
        Path(__file__).parent.parent,  # pytest_durable
    }
)


def _library_frame(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename
    if "site-packages" in filename or filename.startswith("<"):
        return True
    try:
        resolved = str(Path(filename).resolve())
    except OSError:  # pragma: no cover - an unreadable path
        return True
    return resolved.startswith(_LIBRARY_ROOTS)


def _runs_user_code(frame: FrameType | None) -> bool:
    while frame is not None:
        if not _library_frame(frame):
            return True
        frame = frame.f_back
    return False


def _running_operation(frame: FrameType | None) -> str | None:
    """The SDK operation the innermost frame with an ``operation_identifier`` works on."""
    while frame is not None:
        candidates = (frame.f_locals.get("operation_identifier"), frame.f_locals.get("self"))
        for candidate in candidates:
            identifier = getattr(candidate, "operation_identifier", candidate)
            operation_id = getattr(identifier, "operation_id", None)
            if isinstance(operation_id, str):
                kind = getattr(getattr(identifier, "operation_type", None), "value", "operation")
                name = getattr(identifier, "name", None)
                label = f"{kind} {name!r}" if name else str(kind)
                return f"{label} (operation Id {operation_id})"
        frame = frame.f_back
    return None
