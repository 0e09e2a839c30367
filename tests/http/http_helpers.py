"""Helpers for the HTTP tests: a service on a hand-driven clock served on a real loopback socket,
a real boto3 client pointed at it with ``endpoint_url``, raw HTTP for what no SDK would send,
and a snapshot of the service's state to prove that a rejected request changed nothing."""

from __future__ import annotations

import copy
import json
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from pytest_durable.service import DurableService
from pytest_durable.transport import Router
from pytest_durable.transport.http import HttpEndpoint

T0 = 1_700_000_000_123  # epoch ms with a millisecond part
BASE = "/2025-12-01"


def boto3_client(url: str) -> Any:
    """A plain boto3 ``lambda`` client on ``url``: what a user's code or another tool would make.
    One attempt only, so every error is seen as the server sent it."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client(
        "lambda",
        endpoint_url=url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=20),
    )


class Served:
    """A DurableService on a hand-driven clock, served over HTTP, and a boto3 client on it."""

    def __init__(self) -> None:
        self.now = [T0]
        self.service = DurableService(lambda: self.now[0])
        self.endpoint = HttpEndpoint(Router(self.service)).start()
        self.url = self.endpoint.url
        host, port = urllib.parse.urlsplit(self.url).netloc.rsplit(":", 1)
        self.address = (host, int(port))
        self.client = boto3_client(self.url)

    def close(self) -> None:
        self.client.close()
        self.endpoint.stop()

    def advance(self, *, seconds: int = 0, ms: int = 0) -> None:
        self.now[0] += seconds * 1000 + ms

    def start(self, **kwargs: Any) -> str:
        kwargs.setdefault("function_name", "orders")
        kwargs.setdefault("input_payload", '{"hello": "world"}')
        return self.service.start_execution(**kwargs).arn

    def running(self, **kwargs: Any) -> tuple[str, str]:
        """An execution with an invocation in progress: (ARN, envelope token)."""
        arn = self.start(**kwargs)
        return arn, self.service.begin_invocation(arn)["CheckpointToken"]

    def checkpoint(self, arn: str, token: str, updates: list[dict], **kwargs: Any) -> dict:
        return self.client.checkpoint_durable_execution(
            DurableExecutionArn=arn, CheckpointToken=token, Updates=updates, **kwargs
        )

    def snapshot(self) -> dict[str, Any]:
        """Everything a request could change: executions (operations, history, tokens, timers,
        invocations) and the callback index."""
        return copy.deepcopy(
            {
                "executions": {e.arn: e for e in self.service.executions},
                "callbacks": dict(self.service._callbacks),
            }
        )


# ------------------------------------------------------------------ raw HTTP


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


def read_response(sock: socket.socket, *, head: bool = False) -> RawResponse:
    """Read one HTTP/1.1 response (Content-Length framed, as the endpoint always sends), and not
    a byte more: an unbuffered reader, so a second response on the connection stays unread."""
    reader = sock.makefile("rb", buffering=0)
    status_line = reader.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = 0 if head else int(headers.get("content-length", "0"))
    body = b""
    while len(body) < length:
        chunk = reader.read(length - len(body))
        assert chunk, f"the connection closed after {len(body)} of {length} body bytes"
        body += chunk
    return RawResponse(status, headers, body)


def connect(address: tuple[str, int], timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(address, timeout=timeout)
    return sock


def raw_exchange(address: tuple[str, int], data: bytes, *, head: bool = False) -> RawResponse:
    """Send ``data`` as is on a new connection and read one response."""
    with connect(address) as sock:
        sock.sendall(data)
        return read_response(sock, head=head)


def request_bytes(
    method: str,
    path: str,
    body: bytes = b"",
    *,
    headers: dict[str, str] | None = None,
    content_length: str | None = None,
) -> bytes:
    """A request as bytes; ``content_length`` overrides the computed header (None: computed,
    "" : no header at all)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if content_length is None:
        lines.append(f"Content-Length: {len(body)}")
    elif content_length:
        lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def label(value: str) -> str:
    """A URI label as botocore encodes it: every reserved character escaped."""
    return urllib.parse.quote(value, safe="")


def error_of(caught: ClientError) -> tuple[str, str, int]:
    error = caught.response["Error"]
    return error["Code"], error["Message"], caught.response["ResponseMetadata"]["HTTPStatusCode"]


def step(op_id: str, action: str = "START", **fields: Any) -> dict[str, Any]:
    return {"Id": op_id, "Type": "STEP", "SubType": "Step", "Action": action, **fields}


def wait(op_id: str, seconds: int = 10) -> dict[str, Any]:
    return {
        "Id": op_id,
        "Type": "WAIT",
        "SubType": "Wait",
        "Action": "START",
        "WaitOptions": {"WaitSeconds": seconds},
    }


def callback(op_id: str, **options: int) -> dict[str, Any]:
    return {
        "Id": op_id,
        "Type": "CALLBACK",
        "SubType": "Callback",
        "Action": "START",
        "CallbackOptions": {"TimeoutSeconds": 0, "HeartbeatTimeoutSeconds": 0, **options},
    }
