"""The service over HTTP on loopback: the same router, behind a threaded standard-library server.

For handlers in another process (a subprocess, SAM local, another language's SDK) and for anyone
pointing ``AWS_ENDPOINT_URL_LAMBDA`` at a fake. Each request is read whole (bounded by the
router's size limit), answered by :meth:`Router.handle`, and written back with the status,
headers and body the router chose; a malformed request gets an AWS-shaped error, never a crash.

What the standard library's ``BaseHTTPRequestHandler`` does not do on its own, and a fake that
other processes rely on must: route every method to the router (the stock handler answers an
unknown method with an HTML 501), answer its own protocol errors in AWS's JSON shape, never
write a body after a HEAD (which would corrupt the next response on a keep-alive connection),
read chunked bodies, reject a negative or conflicting Content-Length, and close the connections
still open when the endpoint stops, so that a stopped endpoint really stops answering.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import socketserver
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar

from botocore.config import Config

from pytest_durable.errors import (
    FakeServiceBugError,
    InvalidRequestContentException,
    RequestTooLargeException,
    SandboxDied,
    ServiceError,
    ServiceException,
    TooManyRequestsException,
)
from pytest_durable.transport.router import (
    MAX_BODY_BYTES,
    HttpResponse,
    Router,
    botocore_session,
    error_response,
    route_for,
    too_large,
)

# An oversized body up to this size is read and dropped before the 413 (see _discard_body).
_DISCARD_LIMIT_BYTES = 4 * MAX_BODY_BYTES
_DISCARD_IDLE_SECONDS = 0.25
_DISCARD_CHUNK_BYTES = 1 << 16
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_MAX_TRAILER_LINES = 100


def endpoint_environment(url: str, region: str = "us-east-1") -> dict[str, str]:
    """The environment variables that point any AWS SDK's Lambda client at ``url``: the
    endpoint, dummy credentials (never checked), the region (``AWS_DEFAULT_REGION`` for boto3,
    ``AWS_REGION`` for the other languages' SDKs), and the endpoint's host added to
    ``NO_PROXY``: with ``HTTP_PROXY`` set, as in many CI setups, SDKs would otherwise send the
    loopback requests to the proxy."""
    host = urllib.parse.urlsplit(url).hostname or "127.0.0.1"
    # Both spellings: tools differ in which one they read, and Python prefers the lower case.
    existing = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    entries = [entry.strip() for entry in existing.split(",") if entry.strip()]
    no_proxy = ",".join([host, *[entry for entry in entries if entry != host]])
    return {
        "AWS_ENDPOINT_URL_LAMBDA": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # a dummy, never a real secret
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }


def make_http_client(url: str, *, region: str = "us-east-1") -> Any:
    """A boto3 ``lambda`` client on the endpoint at ``url``, over a real socket. Like the
    in-process client it never reads the machine's AWS configuration (dummy credentials, the
    given region); unlike it, requests are signed and go through urllib3, as to AWS. No proxy:
    the endpoint is on this machine, whatever ``HTTP_PROXY`` says."""
    return botocore_session().create_client(
        "lambda",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # a dummy, never a real secret
        config=Config(connect_timeout=5, read_timeout=50, retries={"mode": "standard"}, proxies={}),
    )


# Bounds on what one client can hold: a connection that sends nothing for this long (idle
# between requests, or stalled mid-request) is closed, and at most this many are open at once.
DEFAULT_IDLE_TIMEOUT_SECONDS = 20.0
DEFAULT_MAX_CONNECTIONS = 64


class _RequestHandler(BaseHTTPRequestHandler):
    router: ClassVar[Router]
    protocol_version = "HTTP/1.1"
    # Fix: with no timeout, 200 stalled sockets held 200 threads forever. StreamRequestHandler
    # sets this on the socket: a read that waits longer ends the connection (idle keep-alive
    # connections included; the stock handle_one_request closes on TimeoutError).
    timeout = DEFAULT_IDLE_TIMEOUT_SECONDS
    # Answers go out at once: with Nagle on, each small response waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server_version = "pytest-durable"
    # A malformed request line is answered with a status line too (the stock default, HTTP/0.9,
    # sends a bare body no HTTP/1.x client can read).
    default_request_version = "HTTP/1.1"

    def __getattr__(self, name: str) -> Any:
        # The stock handler answers a method without a ``do_*`` attribute (OPTIONS, TRACE,
        # anything) with an HTML 501. Every method goes to the router, which answers 405 on a
        # known path and 404 elsewhere, as AWS does.
        if name.startswith("do_"):
            return self._answer
        raise AttributeError(name)

    def _answer(self) -> None:
        try:
            body = self._read_body()
        except ServiceError as error:
            # The rest of the request cannot be framed, or is too large to read: answer, and
            # close the connection instead of reading on.
            answer = error_response(error)
            self._send(answer.status, answer.headers, answer.body, close=True)
            return
        try:
            answer = self.router.handle(self.command, self.path, dict(self.headers.items()), body)
        except FakeServiceBugError as bug:
            # A bug of the fake: recorded on the router (the durable fixture fails the test
            # with it) and answered as the internal error it is, traceback in the message.
            print(bug, file=sys.stderr)
            answer = error_response(ServiceException(str(bug)))
        except SandboxDied:
            answer = HttpResponse(500, {}, b"", lost=True)
        if answer.lost:
            # An injected lost answer: the request was applied and the client gets nothing
            # (botocore sees the connection drop and retries with the same body).
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(answer.status, answer.headers, answer.body)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        declared = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if not declared:
            return b""
        # A negative Content-Length would reach ``rfile.read`` and kill the request thread
        # without an answer. Conflicting values are refused (RFC 9112 §6.3).
        if len(declared) > 1:
            raise InvalidRequestContentException(
                f"Conflicting Content-Length headers: {', '.join(sorted(declared))}"
            )
        (text,) = declared
        if not (text.isascii() and text.isdigit()):
            raise InvalidRequestContentException(f"Invalid Content-Length {text!r}")
        length = int(text)
        if length > MAX_BODY_BYTES:
            self._discard_body(length)
            raise self._too_large(length)
        body = self.rfile.read(length)
        if len(body) < length:
            raise InvalidRequestContentException(
                f"The request body ended after {len(body)} of {length} bytes"
            )
        return body

    def _discard_body(self, length: int) -> None:
        """Read and drop an oversized body the client is already sending, so that it reads the
        413 instead of failing on a reset connection mid-send (botocore does not wait for
        ``100 Continue``). A client that stops sending, or a body far over the limit, is not
        waited for: the answer goes out and the connection closes."""
        if length > _DISCARD_LIMIT_BYTES:
            return
        self.connection.settimeout(_DISCARD_IDLE_SECONDS)
        remaining = length
        try:
            while remaining > 0:
                chunk = self.rfile.read1(min(_DISCARD_CHUNK_BYTES, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
        except OSError:  # the client went quiet (timeout) or away: answer what we can
            return

    def _read_chunked(self) -> bytes:
        """A ``Transfer-Encoding: chunked`` body (curl sends one for ``--data-binary @-``)."""
        # Ignoring the framing would read the chunks as the next request.
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise InvalidRequestContentException(f"Invalid chunk size line {line[:40]!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > MAX_BODY_BYTES:
                raise self._too_large(len(body) + size)
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.read(2) != b"\r\n":
                raise InvalidRequestContentException("A chunk of the request body is truncated")
            body += chunk
        for _ in range(_MAX_TRAILER_LINES):
            if self.rfile.readline(1024) in (b"\r\n", b"\n", b""):
                return bytes(body)
        raise InvalidRequestContentException("Too many trailer lines after the chunked body")

    def handle_expect_100(self) -> bool:
        """Refuse an oversized body before the client sends it, instead of inviting it."""
        length = self.headers.get("Content-Length", "").strip()
        if length.isascii() and length.isdigit() and int(length) > MAX_BODY_BYTES:
            answer = error_response(self._too_large(int(length)))
            self._send(answer.status, answer.headers, answer.body, close=True)
            return False
        return super().handle_expect_100()

    def _too_large(self, size: int) -> ServiceError:
        """The router's answer to an oversized body of this request's operation (at least
        ``size`` bytes), given before the body is read."""
        operation = route_for(self.command, self.path)
        if operation is None:
            return RequestTooLargeException(
                f"Request body is {size} bytes; the limit is {MAX_BODY_BYTES}"
            )
        return too_large(operation, size)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the standard library finds before the router sees a request (a malformed
        request line, headers too long or too many, HTTP/2) in AWS's JSON shape too."""
        # The stock send_error answers with an HTML page botocore cannot parse.
        reason = message or self.responses.get(code, ("Bad request",))[0]
        answer = error_response(InvalidRequestContentException(reason))
        self._send(code, answer.headers, answer.body, close=True)

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
        # A HEAD answer carries no body (RFC 9110 §9.3.2); a keep-alive client would read one
        # as the start of the next response.
        if self.command != "HEAD":
            self.wfile.write(body)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header on the service's clock, as AWS's is the service's own time: virtual
        time under ``serve --time virtual`` too, not only where the process time is patched."""
        if timestamp is None:
            timestamp = self.router.service.now_ms() / 1000
        return super().date_time_string(timestamp)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a test run should not print a line per request."""


class _Server(ThreadingHTTPServer):
    """A threaded server that knows its open connections, so stopping it closes them, and
    refuses connections past its cap."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[_RequestHandler],
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.max_connections = max_connections
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's fully qualified name, a DNS lookup
        # that takes seconds on some machines; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            full = len(self._connections) >= self.max_connections
            if not full:
                self._connections.add(request)
        if full:
            self._refuse(request)
            return
        super().process_request(request, client_address)

    def _refuse(self, request: socket.socket) -> None:
        """Past the cap: a 429 TooManyRequestsException (botocore backs off and retries), sent
        without reading the request or starting a thread, and the connection closed."""
        answer = error_response(
            TooManyRequestsException(
                f"The endpoint has {self.max_connections} connections open, its limit; retry "
                f"later or reuse connections"
            )
        )
        head = [f"HTTP/1.1 {answer.status} Too Many Requests"]
        head += [f"{name}: {value}" for name, value in answer.headers.items()]
        head += [f"Content-Length: {len(answer.body)}", "Connection: close", "", ""]
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall("\r\n".join(head).encode("latin-1") + answer.body)
        self.shutdown_request(request)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection (idle keep-alive ones too): their threads see end of file
        and finish, and no client can reach a stopped endpoint through a pooled connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request is its own business: no traceback on stderr."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class HttpEndpoint:
    """A loopback HTTP server for a :class:`Router`; a context manager that serves on a thread.

    ``port=0`` picks a free port; ``url`` is the base URL to give a client as ``endpoint_url``
    (or as ``AWS_ENDPOINT_URL_LAMBDA`` to the SDK in another process).
    """

    def __init__(
        self,
        router: Router,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT_SECONDS,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        if idle_timeout <= 0 or max_connections < 1:
            raise ValueError("idle_timeout must be > 0 and max_connections at least 1")
        handler = type(
            "DurableRequestHandler", (_RequestHandler,), {"router": router, "timeout": idle_timeout}
        )
        self._server = _Server((host, port), handler, max_connections=max_connections)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The URL clients on this machine use (an all-interfaces bind is reached on loopback)."""
        host, port = self._server.server_address[:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(str(host), str(host))
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def bound_address(self) -> tuple[str, int]:
        """The address and port actually bound."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def open_connections(self) -> int:
        """How many client connections are open now."""
        with self._server._connections_lock:
            return len(self._server._connections)

    def environment(self, region: str = "us-east-1") -> dict[str, str]:
        """The environment variables for an AWS SDK in another process to use this endpoint."""
        return endpoint_environment(self.url, region)

    def start(self) -> HttpEndpoint:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="pytest-durable-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection. Safe to call twice, or before ``start``."""
        # BaseServer.shutdown() waits forever unless serve_forever has run, so it is called
        # only for an endpoint that was started.
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()
        self._server.server_close()

    def __enter__(self) -> HttpEndpoint:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
