"""The service over HTTP on loopback: the same router, behind a threaded standard-library server.

For handlers in another process (a subprocess, SAM local, another language's SDK) and for anyone
pointing ``AWS_ENDPOINT_URL_LAMBDA`` at a fake. Each request is read whole (bounded by the
router's size limit), answered by :meth:`Router.handle`, and written back with the status,
headers and body the router chose; a malformed request gets an AWS-shaped error, never a crash.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import ClassVar

from pytest_durable.service.errors import InvalidParameterValueException
from pytest_durable.transport.router import (
    MAX_BODY_BYTES,
    RequestTooLargeException,
    Router,
    error_response,
)


class _RequestHandler(BaseHTTPRequestHandler):
    router: ClassVar[Router]
    protocol_version = "HTTP/1.1"
    server_version = "pytest-durable"

    def _answer(self) -> None:
        length_header = self.headers.get("Content-Length")
        try:
            length = int(length_header) if length_header else 0
        except ValueError:
            answer = error_response(
                InvalidParameterValueException(f"Invalid Content-Length {length_header!r}")
            )
            self._send(answer.status, answer.headers, answer.body, close=True)
            return
        if length > MAX_BODY_BYTES:
            answer = error_response(
                RequestTooLargeException(
                    f"Request body is {length} bytes; the limit is {MAX_BODY_BYTES}"
                )
            )
            self._send(answer.status, answer.headers, answer.body, close=True)
            return
        body = self.rfile.read(length) if length else b""
        answer = self.router.handle(self.command, self.path, dict(self.headers.items()), body)
        self._send(answer.status, answer.headers, answer.body)

    def _send(
        self, status: int, headers: dict[str, str], body: bytes, *, close: bool = False
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a test run should not print a line per request."""


class HttpEndpoint:
    """A loopback HTTP server for a :class:`Router`; a context manager that serves on a thread.

    ``port=0`` picks a free port; ``url`` is the base URL to give a client as ``endpoint_url``
    (or as ``AWS_ENDPOINT_URL_LAMBDA`` to the SDK in another process).
    """

    def __init__(self, router: Router, *, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("DurableRequestHandler", (_RequestHandler,), {"router": router})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HttpEndpoint:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="pytest-durable-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until interrupted (the command line uses this)."""
        self._server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> HttpEndpoint:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
