"""The endpoint's lifecycle, the ``durable_endpoint`` fixture, and handlers in other processes
that reach the service only through ``AWS_ENDPOINT_URL_LAMBDA``."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from http_helpers import Served, connect, label, read_response, request_bytes
from http_subprocess_handlers import wait_a_day

from pytest_durable.plugin.fixtures import DurableEndpoint
from pytest_durable.runner.lambda_process import SubprocessHandler
from pytest_durable.service import DurableService
from pytest_durable.transport import Router
from pytest_durable.transport.http import HttpEndpoint, endpoint_environment

HERE = Path(__file__).parent


# ------------------------------------------------------------------ the endpoint itself


def test_serves_on_loopback_on_a_free_port(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with HttpEndpoint(Router(DurableService(lambda: 0))) as endpoint:
        assert endpoint.url.startswith("http://127.0.0.1:")
        assert int(endpoint.url.rsplit(":", 1)[1]) > 0
        assert endpoint.environment("eu-west-1") == {
            "AWS_ENDPOINT_URL_LAMBDA": endpoint.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
        }


def test_the_exported_no_proxy_keeps_the_users_entries(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("no_proxy", "corp.example, 127.0.0.1,.internal")
    exported = endpoint_environment("http://127.0.0.1:4000")
    assert exported["no_proxy"] == exported["NO_PROXY"] == "127.0.0.1,corp.example,.internal"


def test_the_date_header_is_the_service_clock(served: Served):
    # T0 is 2023-11-14T22:13:20.123Z; `serve --time virtual` relies on this for its Date.
    with connect(served.address) as sock:
        sock.sendall(request_bytes("GET", "/2025-12-01/nothing"))
        assert read_response(sock).headers["date"] == "Tue, 14 Nov 2023 22:13:20 GMT"


def test_stop_closes_open_keep_alive_connections(served: Served):
    # Regression: idle keep-alive connections outlived stop(), so a pooled client connection
    # still reached the service of a stopped endpoint.
    arn = served.start()
    served.client.get_durable_execution(DurableExecutionArn=arn)  # pools a connection
    with connect(served.address, timeout=5) as sock:
        sock.sendall(request_bytes("GET", f"/2025-12-01/durable-executions/{label(arn)}"))
        assert read_response(sock).status == 200
        served.endpoint.stop()
        assert sock.recv(1) == b""  # closed by the server, at once
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        served.client.get_durable_execution(DurableExecutionArn=arn)


@pytest.mark.parametrize("started", [False, True])
def test_stop_never_hangs(started: bool):
    # Regression: stopping an endpoint that was never started waited forever in
    # BaseServer.shutdown().
    endpoint = HttpEndpoint(Router(DurableService(lambda: 0)))
    if started:
        endpoint.start()

    def stop_twice() -> None:
        endpoint.stop()
        endpoint.stop()

    stopper = threading.Thread(target=stop_twice, daemon=True)
    stopper.start()
    stopper.join(timeout=5)
    assert not stopper.is_alive()


def test_binding_does_not_resolve_the_host_name(monkeypatch: pytest.MonkeyPatch):
    # Regression: HTTPServer.server_bind called socket.getfqdn, a DNS lookup that takes seconds
    # on some machines, for a name nothing uses.
    def no_dns(*_):
        raise AssertionError("getfqdn called")

    monkeypatch.setattr(socket, "getfqdn", no_dns)
    with HttpEndpoint(Router(DurableService(lambda: 0))) as endpoint:
        assert endpoint.url.startswith("http://127.0.0.1:")


def test_a_client_hanging_up_is_not_reported_as_a_server_error(capsys: pytest.CaptureFixture):
    endpoint = HttpEndpoint(Router(DurableService(lambda: 0)))
    try:
        raise ConnectionResetError("peer went away")
    except ConnectionResetError:
        endpoint._server.handle_error(None, ("127.0.0.1", 1))
    try:
        raise RuntimeError("a real bug")
    except RuntimeError:
        endpoint._server.handle_error(None, ("127.0.0.1", 1))
    endpoint.stop()
    errors = capsys.readouterr().err
    assert "peer went away" not in errors
    assert "a real bug" in errors


# ------------------------------------------------------------------ the durable_endpoint fixture


@pytest.fixture
def dead_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy that refuses every connection, as a CI machine's HTTP_PROXY would for loopback:
    the endpoint must be reached directly."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_durable_endpoint_serves_the_durable_environment(durable, durable_endpoint, dead_proxy):
    assert isinstance(durable_endpoint, DurableEndpoint)
    assert durable_endpoint.environment is durable
    assert durable_endpoint.service is durable.service
    assert durable_endpoint.clock is durable.clock
    assert durable_endpoint.url == durable.http_endpoint().url
    assert durable_endpoint.url.startswith("http://127.0.0.1:")
    assert durable_endpoint.env_vars["AWS_ENDPOINT_URL_LAMBDA"] == durable_endpoint.url
    assert durable_endpoint.env_vars["AWS_REGION"] == "us-east-1"

    result = durable.run(wait_a_day, {"n": 4})
    client = durable_endpoint.client()
    described = client.get_durable_execution(DurableExecutionArn=result.arn)
    assert (described["Status"], described["Result"]) == ("SUCCEEDED", "9")
    assert described["ResponseMetadata"]["HTTPHeaders"]["server"].startswith("pytest-durable")
    with pytest.raises(ClientError) as caught:
        client.get_durable_execution(DurableExecutionArn=result.arn + "x")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.durable(start=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), region="eu-west-1")
def test_durable_endpoint_answers_on_the_virtual_clock(durable, durable_endpoint):
    result = durable.run(wait_a_day, {"n": 1})
    described = durable_endpoint.client().get_durable_execution(DurableExecutionArn=result.arn)
    assert described["StartTimestamp"].date() == dt.date(2030, 1, 1)
    assert described["EndTimestamp"] - described["StartTimestamp"] >= dt.timedelta(days=1)
    assert ":eu-west-1:" in result.arn
    assert durable_endpoint.env_vars["AWS_DEFAULT_REGION"] == "eu-west-1"


# ------------------------------------------------------------------ handlers in other processes


def test_a_subprocess_handler_runs_to_completion_with_its_wait(durable, durable_endpoint):
    handler = SubprocessHandler(
        "http_subprocess_handlers:wait_a_day", endpoint_url=durable_endpoint.url, cwd=HERE
    )
    result = durable.run(handler, {"n": 20})
    assert result.status == "SUCCEEDED"
    assert result.output == 41
    assert len(result.invocations) == 2  # suspended on the wait, re-invoked after it
    wait = result.operation("a-day")
    assert wait.end is not None
    assert wait.end - wait.start == dt.timedelta(days=1)


@pytest.mark.durable(max_failed_invocations=1)
def test_a_subprocess_handler_reaches_the_endpoint_despite_a_proxy(  # regression
    durable, durable_endpoint, dead_proxy
):
    handler = SubprocessHandler(
        "http_subprocess_handlers:wait_a_day", endpoint_url=durable_endpoint.url, cwd=HERE
    )
    assert durable.run(handler, {"n": 1}).status == "SUCCEEDED"


def test_a_subprocess_handler_waits_for_a_callback_answered_over_http(durable, durable_endpoint):
    handler = SubprocessHandler(
        "http_subprocess_handlers:approval", endpoint_url=durable_endpoint.url, cwd=HERE
    )
    driver = durable.start(handler, {"order": "o-7"}).run_until_blocked()
    callback_id = driver.callback("approval").id
    durable_endpoint.client().send_durable_execution_callback_success(
        CallbackId=callback_id, Result=b"approved"
    )
    result = driver.run()
    # The SDK's callbacks pass the result through as text (no serdes given): the raw body.
    assert result.status == "SUCCEEDED"
    assert result.output == {"order": "o-7", "answer": "approved"}


def test_the_exported_variables_alone_configure_boto3_in_another_process(
    durable, durable_endpoint, dead_proxy
):
    result = durable.run(wait_a_day, {"n": 0})
    script = (
        "import sys, boto3\n"
        "client = boto3.client('lambda')\n"
        "print(client.get_durable_execution(DurableExecutionArn=sys.argv[1])['Status'])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, result.arn],
        env={**os.environ, **durable_endpoint.env_vars},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "SUCCEEDED"
