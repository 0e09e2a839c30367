"""What one client can hold on the loopback endpoint: stalled and idle connections are closed
after the idle timeout, connections past the cap are answered 429 without a thread, and an
injected lost answer drops the connection after the request was applied."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from http_helpers import T0, connect, read_response, step

from pytest_durable.service import DurableService
from pytest_durable.transport import Router
from pytest_durable.transport.http import HttpEndpoint, make_http_client


@pytest.fixture
def tight() -> Iterator[tuple[HttpEndpoint, tuple[str, int]]]:
    endpoint = HttpEndpoint(
        Router(DurableService(lambda: T0)), idle_timeout=0.3, max_connections=3
    ).start()
    host, port = urllib.parse.urlsplit(endpoint.url).netloc.rsplit(":", 1)
    try:
        yield endpoint, (host, int(port))
    finally:
        endpoint.stop()


def _wait_for(condition, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_stalled_connection_is_closed_after_the_idle_timeout(tight):
    # Regression: without a read timeout, each stalled socket held a thread forever.
    endpoint, address = tight
    threads_before = threading.active_count()
    with connect(address, timeout=5) as stalled:
        stalled.sendall(b"POST /2025-12-01/durable-executions/x/checkpoint HTTP/1.1\r\n")
        started = time.monotonic()
        assert stalled.recv(1024) == b""  # closed by the server, no answer to half a request
        assert time.monotonic() - started < 3
    assert _wait_for(lambda: endpoint.open_connections == 0)
    assert _wait_for(lambda: threading.active_count() <= threads_before)


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(tight):
    endpoint, address = tight
    with connect(address, timeout=5) as sock:
        sock.sendall(b"GET /2025-12-01/functions/orders/durable-executions HTTP/1.1\r\n\r\n")
        assert read_response(sock).status == 200
        assert sock.recv(1) == b""  # then nothing for 0.3 s: closed
    assert _wait_for(lambda: endpoint.open_connections == 0)


def test_connections_past_the_cap_get_429_and_the_cap_frees_up(tight):
    endpoint, address = tight
    held = [connect(address, timeout=5) for _ in range(3)]
    try:
        assert _wait_for(lambda: endpoint.open_connections == 3)
        with connect(address, timeout=5) as extra:
            answer = read_response(extra)
            assert answer.status == 429
            assert answer.headers["x-amzn-errortype"] == "TooManyRequestsException"
            assert "3 connections open" in answer.json()["message"]
            assert extra.recv(1) == b""
    finally:
        for sock in held:
            sock.close()
    assert _wait_for(lambda: endpoint.open_connections == 0)
    with connect(address, timeout=5) as sock:
        sock.sendall(b"GET /2025-12-01/functions/orders/durable-executions HTTP/1.1\r\n\r\n")
        assert read_response(sock).status == 200


def test_a_lost_answer_drops_the_connection_and_botocore_retries_from_the_cache():
    now = [T0]
    service = DurableService(lambda: now[0])
    router = Router(service)
    arn = service.start_execution("orders", "{}").arn
    token = service.begin_invocation(arn)["CheckpointToken"]
    router.faults.lose_answer("CheckpointDurableExecution")
    with HttpEndpoint(router) as endpoint:
        client = make_http_client(endpoint.url)
        answer = client.checkpoint_durable_execution(
            DurableExecutionArn=arn, CheckpointToken=token, Updates=[step("s")]
        )
        client.close()
    (fault,) = router.faults.injected
    assert fault.kind == "lose_answer"
    assert fault.retries == 1  # botocore sent the same request (same ClientToken) once more
    # The retry was answered from the idempotency cache: one StepStarted, a fresh token.
    assert answer["CheckpointToken"] != token
    started = [e for e in service.execution(arn).history if e["EventType"] == "StepStarted"]
    assert len(started) == 1
