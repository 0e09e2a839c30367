"""Where the runner touches the SDK: its cached boto3 client and its checkpoint thread's timing.

All of these are process-wide, so each is installed for the life of an environment and undone
after it (reference-counted: environments may nest or overlap). None changes what the SDK sends:
the client is the SDK's own cache, and the two thread patches only end waits in which, by
construction, nothing can arrive. Each is feature-detected; on an SDK that lacks a piece it
relies on, it is not installed and runs are merely slower, with a warning.
"""

from __future__ import annotations

import inspect
import logging
import queue
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python import state as sdk_state
from aws_durable_execution_sdk_python.lambda_service import LambdaClient

logger = logging.getLogger(__name__)


_client_lock = threading.Lock()
#: Who holds the SDK's client cache now, in the order they took it: (holder, client).
_client_holders: list[tuple[object, Any]] = []
#: What the cache held before the first holder took it.
_client_before: Any = None


@contextmanager
def sdk_client(client: Any) -> Iterator[None]:
    """Make the SDK's ``LambdaClient.initialize_client()`` hand out ``client``.

    The SDK caches one boto3 client per process in ``LambdaClient._cached_boto_client``
    (docs/service-semantics.md#client). Setting it is the SDK's own cache, so the handler is run
    exactly as in Lambda; restoring it afterwards keeps one test's client out of the next.

    The one place the cache is set. Holders may nest (an environment opened inside another) or
    overlap (a stand-in's invocations on several threads): the cache is always the client of the
    latest holder still inside, and what it held before comes back when the last one leaves.
    """
    global _client_before  # noqa: PLW0603 - the SDK's cache is process-wide
    holder = object()
    with _client_lock:
        if not _client_holders:
            _client_before = LambdaClient._cached_boto_client
        _client_holders.append((holder, client))
        LambdaClient._cached_boto_client = client
    try:
        yield
    finally:
        with _client_lock:
            _client_holders[:] = [entry for entry in _client_holders if entry[0] is not holder]
            if _client_holders:
                LambdaClient._cached_boto_client = _client_holders[-1][1]
            else:
                LambdaClient._cached_boto_client = _client_before
                _client_before = None


@dataclass
class _ExecutionStatePatch:
    """Methods of the SDK's ``ExecutionState`` replaced while any environment is open."""

    #: What is lost without it, for the warning.
    cost: str
    supported: Callable[[], bool]
    #: attribute name -> replacement, read when the patch is first installed.
    replacements: Callable[[], dict[str, Callable[..., Any]]]
    originals: dict[str, Callable[..., Any]] = field(default_factory=dict)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def installed(self) -> Iterator[bool]:
        """Install for the duration (reference-counted); yield whether it is on."""
        if not self.supported():
            warnings.warn(
                "pytest-durable: the installed aws-durable-execution-sdk-python does not have "
                f"the checkpoint thread structure this speed-up relies on; {self.cost}.",
                RuntimeWarning,
                stacklevel=4,
            )
            yield False
            return
        target = sdk_state.ExecutionState
        with self.lock:
            if self.count == 0:
                for name, replacement in self.replacements().items():
                    self.originals[name] = getattr(target, name)
                    setattr(target, name, replacement)
            self.count += 1
        try:
            yield True
        finally:
            with self.lock:
                self.count -= 1
                if self.count == 0:
                    # The originals stay known: a call that entered a replacement just before
                    # this still reaches the original.
                    for name, original in self.originals.items():
                        setattr(target, name, original)


# --------------------------------------------------------------- prompt shutdown
#
# At the end of every invocation the SDK sets a stop flag for its checkpoint thread, which only
# notices it when its blocking ``queue.get(timeout=_STOP_SIGNAL_POLL_SECONDS)`` (0.1 s) times
# out: every invocation pays up to 0.1 s of idle wall time (the official runner does). Putting the
# batcher's own no-op wake signal on its queue right after the flag is set ends that wait at once.
# Both collector loops treat ``_Signal.REFRESH_WAKE`` as "re-read and re-check the stop flag"
# (``_wait_for_first_operation`` and ``_collect_checkpoint_batch`` in SDK 3.0.0), so nothing
# else changes. If a future SDK lacks any piece this relies on, the patch is not installed and
# the runner is merely slower; ``prompt_shutdown_supported()`` reports which.

_REQUIRED_STATE_ATTRIBUTES = ("ExecutionState", "_Signal", "_STOP_SIGNAL_POLL_SECONDS")


def prompt_shutdown_supported() -> bool:
    """Whether the installed SDK has the checkpoint-thread structure the shutdown wake relies on."""
    if not all(hasattr(sdk_state, name) for name in _REQUIRED_STATE_ATTRIBUTES):
        return False
    signal_type = sdk_state._Signal
    execution_state = sdk_state.ExecutionState
    return (
        hasattr(signal_type, "REFRESH_WAKE")
        and callable(getattr(execution_state, "stop_checkpointing", None))
        and callable(getattr(execution_state, "_consume_refresh_wake", None))
    )


def _stop_and_wake(self: Any) -> None:
    _PROMPT_SHUTDOWN.originals["stop_checkpointing"](self)
    pending = getattr(self, "_checkpoint_queue", None)
    if isinstance(pending, queue.Queue):
        pending.put(sdk_state._Signal.REFRESH_WAKE)


_PROMPT_SHUTDOWN = _ExecutionStatePatch(
    cost=(
        "each invocation will take up to "
        f"{getattr(sdk_state, '_STOP_SIGNAL_POLL_SECONDS', 0.1)} s longer"
    ),
    supported=prompt_shutdown_supported,
    replacements=lambda: {"stop_checkpointing": _stop_and_wake},
)


def prompt_checkpoint_shutdown() -> Any:
    """Install the shutdown wake for the duration (reference-counted); yield whether it is on."""
    return _PROMPT_SHUTDOWN.installed()


# --------------------------------------------------------------- blocked-caller window
#
# ``_collect_checkpoint_batch`` keeps reading its queue after a synchronous checkpoint joined the
# batch: ``_read_timeout`` caps each read at ``_BLOCKED_CALLER_WAIT_SECONDS`` (1 ms) "long enough
# for sibling branch threads to arrive". When no sibling exists, that read can only time out,
# and the batch is sent unchanged 1 ms (1.2 ms under load) later; every step of a plain handler
# pays it, under any runner. ``_read_timeout`` is replaced to answer 0 (the loop's own "nothing
# more to wait for", after which it does its final due-refresh check as always) only when
# nothing can reach the batch in that millisecond:
#
# * the queue is empty (a queued item would have been read: it must still be);
# * no refresh is pending (one may come due within the read and join the batch);
# * every branch pool the SDK registered (map, parallel) is shut down and its threads have
#   ended (a branch thread could checkpoint);
# * at most one thread that ever checkpointed on this state is alive: the blocked caller, which
#   is waiting for this very batch (tracked by wrapping ``create_checkpoint``);
# * no instrumentation plugin is configured (its hooks may run code of their own).
#
# A thread that has never checkpointed and starts during the read would be the only case left;
# the SDK gives such a racing thread no guarantee either (its 1 ms read may or may not catch it).
# ``tests/runner/test_sdk_patches.py`` proves the checkpoint calls identical with and without
# the skip for steps, waits, retries, child contexts, map and parallel.

#: Set to False to keep the SDK's window (the benchmark's floor and the equivalence test do).
SKIP_IDLE_BATCH_WINDOW = True
_PRODUCERS = "_pytest_durable_checkpointing_threads"
_producers_lock = threading.Lock()
_skip_count_lock = threading.Lock()
_skipped = 0


def batch_window_skip_supported() -> bool:
    """Whether the installed SDK batches checkpoints the way the window skip relies on."""
    execution_state = getattr(sdk_state, "ExecutionState", None)
    accumulator = getattr(sdk_state, "_BatchAccumulator", None)
    config = getattr(sdk_state, "CheckpointBatcherConfig", None)
    if execution_state is None or accumulator is None or config is None:
        return False
    if not hasattr(sdk_state, "_BLOCKED_CALLER_WAIT_SECONDS"):
        return False
    expected = {
        "_read_timeout": ["self", "batch", "now", "deadline"],
        "create_checkpoint": ["self", "operation_update", "is_sync"],
        "register_branch_pool": ["self", "pool"],
    }
    for name, parameters in expected.items():
        method = getattr(execution_state, name, None)
        if not callable(method):
            return False
        try:
            if list(inspect.signature(method).parameters) != parameters:
                return False
        except (TypeError, ValueError):
            return False
    try:
        probe = accumulator(config())
    except Exception:  # any change in its construction means "not supported"
        return False
    return isinstance(getattr(probe, "has_blocked_caller", None), bool)


def skipped_batch_windows() -> int:
    """How many batching windows were skipped in this process (for tests and benchmarks)."""
    return _skipped


def _pool_may_run(pool: Any) -> bool:
    if not getattr(pool, "_shutdown", False):
        return True
    threads = getattr(pool, "_threads", None)
    if threads is None:
        return True
    return any(thread.is_alive() for thread in list(threads))


def _nobody_else_can_add(state: Any) -> bool:
    """Whether no thread but the batch's blocked caller can add to this state's batch now."""
    try:
        if state._plugin_executor.has_plugins:
            return False
        if not state._checkpoint_queue.empty() or state._pending_refreshes:
            return False
        with state._branch_pools_lock:
            pools = list(state._branch_pools)
        if any(_pool_may_run(pool) for pool in pools):
            return False
        producers: frozenset[threading.Thread] = state.__dict__.get(_PRODUCERS, frozenset())
        return sum(1 for thread in producers if thread.is_alive()) <= 1
    except AttributeError:  # an SDK whose state looks different inside: keep the window
        return False


def _read_timeout_without_idle_window(self: Any, batch: Any, now: float, deadline: float) -> float:
    global _skipped  # noqa: PLW0603 - a process-wide diagnostic counter
    timeout: float = _IDLE_WINDOW.originals["_read_timeout"](self, batch, now, deadline)
    if (
        timeout > 0
        and SKIP_IDLE_BATCH_WINDOW
        and batch.has_blocked_caller
        and _nobody_else_can_add(self)
    ):
        with _skip_count_lock:
            _skipped += 1
        return 0.0
    return timeout


def _create_checkpoint_noting_thread(
    self: Any, operation_update: Any = None, is_sync: bool = True
) -> None:
    thread = threading.current_thread()
    if thread not in self.__dict__.get(_PRODUCERS, ()):
        with _producers_lock:  # copy on write: the collector reads it without a lock
            self.__dict__[_PRODUCERS] = self.__dict__.get(_PRODUCERS, frozenset()) | {thread}
    _IDLE_WINDOW.originals["create_checkpoint"](self, operation_update, is_sync)


_IDLE_WINDOW = _ExecutionStatePatch(
    cost="each checkpoint will wait about 1 ms for sibling branches that do not exist",
    supported=batch_window_skip_supported,
    replacements=lambda: {
        "_read_timeout": _read_timeout_without_idle_window,
        "create_checkpoint": _create_checkpoint_noting_thread,
    },
)


def skip_idle_batch_window() -> Any:
    """Install the idle-window skip for the duration (reference-counted); yield whether it is
    on."""
    return _IDLE_WINDOW.installed()
