"""Where the runner touches the SDK: its cached boto3 client and its checkpoint thread's shutdown.

Both are process-wide, so both are installed for the life of an environment and undone after it.
"""

from __future__ import annotations

import logging
import queue
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_durable_execution_sdk_python import state as sdk_state
from aws_durable_execution_sdk_python.lambda_service import LambdaClient

logger = logging.getLogger(__name__)


@contextmanager
def sdk_client(client: Any) -> Iterator[None]:
    """Make the SDK's ``LambdaClient.initialize_client()`` hand out ``client``.

    The SDK caches one boto3 client per process in ``LambdaClient._cached_boto_client``
    (protocol.md §2). Setting it is the SDK's own cache, so the handler is run exactly as in
    Lambda; restoring it afterwards keeps one test's client out of the next.
    """
    previous = LambdaClient._cached_boto_client
    LambdaClient._cached_boto_client = client
    try:
        yield
    finally:
        LambdaClient._cached_boto_client = previous


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
_install_lock = threading.Lock()
_install_count = 0
_original_stop: Callable[..., Any] | None = None


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
    assert _original_stop is not None
    _original_stop(self)
    pending = getattr(self, "_checkpoint_queue", None)
    if isinstance(pending, queue.Queue):
        pending.put(sdk_state._Signal.REFRESH_WAKE)


@contextmanager
def prompt_checkpoint_shutdown() -> Iterator[bool]:
    """Install the shutdown wake for the duration (reference-counted); yield whether it is on."""
    global _install_count, _original_stop  # noqa: PLW0603 - one process-wide patch
    supported = prompt_shutdown_supported()
    if not supported:
        warnings.warn(
            "pytest-durable: the installed aws-durable-execution-sdk-python has no checkpoint "
            "thread wake it recognises; each invocation will take up to "
            f"{getattr(sdk_state, '_STOP_SIGNAL_POLL_SECONDS', 0.1)} s longer.",
            RuntimeWarning,
            stacklevel=3,
        )
        yield False
        return
    with _install_lock:
        if _install_count == 0:
            _original_stop = sdk_state.ExecutionState.stop_checkpointing
            sdk_state.ExecutionState.stop_checkpointing = _stop_and_wake  # type: ignore[method-assign]
        _install_count += 1
    try:
        yield True
    finally:
        with _install_lock:
            _install_count -= 1
            if _install_count == 0 and _original_stop is not None:
                sdk_state.ExecutionState.stop_checkpointing = _original_stop  # type: ignore[method-assign]
                _original_stop = None
