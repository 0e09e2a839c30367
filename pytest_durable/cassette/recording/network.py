"""Blocking the network while a cassette replays, so "offline" is a fact and not a hope.

vcrpy already refuses an unmatched request in record mode ``none``; this is the second wall, at
the socket: any connection the process opens while the block is on fails with
:class:`NetworkBlockedError`, naming the address, whatever library opened it. Unix sockets stay
usable (they are not the network).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pytest_durable.errors import NetworkBlockedError

_lock = threading.Lock()
_depth = 0
_allowed: list[set[str]] = []
_original_connect: Any = None
_original_connect_ex: Any = None


def _host_of(address: Any) -> str | None:
    if isinstance(address, tuple) and address:
        return str(address[0])
    return None  # AF_UNIX paths and the like


def _check(sock: socket.socket, address: Any) -> None:
    host = _host_of(address)
    if host is None or sock.family == getattr(socket, "AF_UNIX", None):
        return
    if any(host in allowed for allowed in _allowed):
        return
    raise NetworkBlockedError(
        f"pytest-durable blocked a connection to {address!r}: the network is blocked while a "
        f"cassette replays offline. Re-record the cassette "
        f"(--durable-record-mode=once/new_episodes/all) if the test needs requests it lacks."
    )


def _guarded_connect(sock: socket.socket, address: Any) -> Any:
    _check(sock, address)
    return _original_connect(sock, address)


def _guarded_connect_ex(sock: socket.socket, address: Any) -> Any:
    _check(sock, address)
    return _original_connect_ex(sock, address)


@contextmanager
def block_network(allow_hosts: Iterable[str] = ()) -> Iterator[None]:
    """Refuse every socket connection for the duration, except to ``allow_hosts`` (addresses
    as passed to ``connect``, e.g. ``127.0.0.1``). Re-entrant; the innermost allowances add up."""
    global _depth, _original_connect, _original_connect_ex  # noqa: PLW0603 - one socket patch
    with _lock:
        if _depth == 0:
            _original_connect = socket.socket.connect
            _original_connect_ex = socket.socket.connect_ex
            socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
            socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
        _depth += 1
        _allowed.append(set(allow_hosts))
    try:
        yield
    finally:
        with _lock:
            _allowed.pop()
            _depth -= 1
            if _depth == 0:
                socket.socket.connect = _original_connect  # type: ignore[method-assign]
                socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]


def network_blocked() -> bool:
    """Whether a :func:`block_network` is in effect."""
    return _depth > 0
