"""``pytest-durable serve`` as a user runs it: a separate process that prints its URL and the
variables to export, answers a boto3 client, and stops cleanly on SIGTERM or Ctrl-C."""

from __future__ import annotations

import datetime as dt
import io
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError
from http_helpers import boto3_client

from pytest_durable import cli
from pytest_durable.errors import ResourceNotFoundException
from pytest_durable.service import DurableService

SERVE = [sys.executable, "-m", "pytest_durable.cli", "serve"]
EXPORTS = (
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "NO_PROXY",
    "no_proxy",
)


@dataclass
class Serving:
    process: subprocess.Popen[str]
    banner: list[str]
    url: str
    exports: dict[str, str]
    lines: queue.Queue[str | None]

    def rest_of_output(self, timeout: float = 10) -> list[str]:
        """The lines printed after the banner, up to the end of the process's output."""
        rest = []
        deadline = time.monotonic() + timeout
        while (line := self.lines.get(timeout=max(0.1, deadline - time.monotonic()))) is not None:
            rest.append(line)
        return rest


@contextmanager
def serving(*args: str, cwd: str | None = None) -> Iterator[Serving]:
    """Run ``pytest-durable serve ARGS`` until its exports are printed; kill it if a test fails
    before stopping it."""
    environment = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    process = subprocess.Popen(
        [*SERVE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=cwd,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        banner: list[str] = []
        while not banner or not banner[-1].startswith("export no_proxy="):
            line = lines.get(timeout=20)
            assert line is not None, f"serve ended early: {banner} {process.stderr.read()}"  # type: ignore[union-attr]
            banner.append(line)
        found = re.search(r"on (http://\S+) ", banner[0])
        assert found, banner[0]
        exports = dict(
            re.fullmatch(r"export (\w+)=(\S+)", line).groups()  # type: ignore[union-attr]
            for line in banner
            if line.startswith("export ")
        )
        yield Serving(process, banner, found.group(1), exports, lines)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_serve_prints_the_url_and_exports_answers_boto3_and_stops_cleanly(stop_signal):
    with serving("--port", "0") as served:
        assert served.url.startswith("http://127.0.0.1:")
        assert int(served.url.rsplit(":", 1)[1]) > 0
        assert "real time" in served.banner[0]
        assert tuple(served.exports) == EXPORTS
        assert served.exports["AWS_ENDPOINT_URL_LAMBDA"] == served.url
        assert served.exports["AWS_DEFAULT_REGION"] == "us-east-1"
        assert served.exports["NO_PROXY"] == served.exports["no_proxy"] == "127.0.0.1"

        client = boto3_client(served.url)
        listed = client.list_durable_executions_by_function(FunctionName="orders")
        assert listed["DurableExecutions"] == []
        with pytest.raises(ClientError) as caught:
            client.get_durable_execution(
                DurableExecutionArn="arn:aws:lambda:us-east-1:123456789012:function:orders:"
                "$LATEST/durable-execution/n/00000000-0000-0000-0000-000000000000"
            )
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
        client.close()

        served.process.send_signal(stop_signal)
        assert served.process.wait(timeout=10) == 0
        assert served.rest_of_output() == ["pytest-durable: stopped"]
        assert served.process.stderr is not None
        assert served.process.stderr.read() == ""  # no traceback


def test_serve_with_virtual_time_starts_at_the_given_instant():
    with serving("--port", "0", "--time", "virtual", "--start", "2030-01-01T00:00:00Z") as served:
        assert "virtual time, now 2030-01-01T00:00:0" in served.banner[0]
        client = boto3_client(served.url)
        answer = client.list_durable_executions_by_function(FunctionName="orders")
        # The service's clock is the Date of every answer.
        assert " 2030 " in answer["ResponseMetadata"]["HTTPHeaders"]["date"]
        assert "Jan" in answer["ResponseMetadata"]["HTTPHeaders"]["date"]
        client.close()
        served.process.terminate()
        assert served.process.wait(timeout=10) == 0


def test_serve_region_is_exported():
    with serving("--region", "eu-west-1") as served:
        assert served.exports["AWS_REGION"] == "eu-west-1"
        assert served.exports["AWS_DEFAULT_REGION"] == "eu-west-1"
        served.process.terminate()
        assert served.process.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--start", "2030-01-01T00:00:00Z"], "--start needs --time virtual"),
        (["--time", "virtual", "--start", "next tuesday"], "ISO-8601"),
        (["--port", "70000"], "--port must be 0..65535"),
        (["--port", "http"], "--port must be 0..65535"),
        (["--time", "sideways"], "invalid choice"),
        (["--host", "0.0.0.0"], "--host 0.0.0.0 is reachable from other machines"),
        (["--host", "example.com"], "add --allow-remote"),
        (["--fault", "explode:CheckpointDurableExecution"], "--fault: a fault is VERB:API"),
        (["--fault", "throttle:Invoke"], "not a durable-execution API"),
        (["--fault", "fail:CheckpointDurableExecution:code=Nope"], "declares no 'Nope'"),
        (["--fault", "throttle:CheckpointDurableExecution:tiems=2"], "unknown keyword(s) tiems"),
        (["--idle-timeout", "0"], "--idle-timeout must be > 0"),
    ],
    ids=[
        "start-without-virtual",
        "bad-start",
        "port-too-big",
        "port-not-a-number",
        "bad-time",
        "all-interfaces",
        "host-name",
        "unknown-fault",
        "fault-on-an-unknown-api",
        "undeclared-error-code",
        "misspelt-fault-option",
        "no-idle-timeout",
    ],
)
def test_serve_usage_errors_exit_with_status_2(args, complaint):
    completed = subprocess.run(
        [*SERVE, *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert completed.returncode == 2
    assert complaint in completed.stderr
    assert completed.stdout == ""


def test_serve_on_a_port_in_use_exits_with_status_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = subprocess.run(
            [*SERVE, "--port", str(port)], capture_output=True, text=True, timeout=30, check=False
        )
    assert completed.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_version():
    completed = subprocess.run(
        [*SERVE[:-1], "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert completed.returncode == 0
    assert re.fullmatch(r"pytest-durable \d+\.\d+\.\d+\S*\n", completed.stdout)


def test_a_command_is_required():
    completed = subprocess.run(SERVE[:-1], capture_output=True, text=True, timeout=30, check=False)
    assert completed.returncode == 2
    assert "serve" in completed.stderr


def test_the_timer_thread_survives_an_execution_deleted_under_it():
    # Regression: an execution deleted between the listing and fire_due_timers raised
    # ResourceNotFoundException, which ended the timer thread and with it every later timer.
    now = [1_000_000]
    service = DurableService(lambda: now[0])
    gone = service.start_execution("orders", "{}").arn
    kept = service.start_execution("orders", "{}", execution_timeout_seconds=5).arn
    real_fire = service.fire_due_timers

    def fire(arn: str) -> list[str]:
        if arn == gone:
            raise ResourceNotFoundException(f"Durable execution not found: {arn}")
        return real_fire(arn)

    service.fire_due_timers = fire  # type: ignore[method-assign]
    stop = threading.Event()
    timers = threading.Thread(target=cli._fire_timers_forever, args=(service, stop), daemon=True)
    timers.start()
    try:
        time.sleep(cli.TIMER_TICK_SECONDS * 3)
        assert timers.is_alive()
        now[0] += 6_000  # the kept execution's timeout comes due
        deadline = time.monotonic() + 5
        while service.execution(kept).status.value != "TIMED_OUT":
            assert time.monotonic() < deadline, "the timer never fired"
            time.sleep(0.01)
    finally:
        stop.set()
        timers.join(timeout=5)


def test_serve_in_process_with_ready_and_stop_events(capsys: pytest.CaptureFixture):
    # The embedding API: serve() on a thread (no signal handlers there), told when it is ready,
    # stopped by an event.
    args = cli.build_parser().parse_args(["serve", "--time", "virtual", "--start", "2031-05-06"])
    ready, stop = threading.Event(), threading.Event()
    status: list[int] = []
    server = threading.Thread(target=lambda: status.append(cli.serve(args, ready=ready, stop=stop)))
    server.start()
    try:
        assert ready.wait(timeout=10)
        url = re.search(r"on (http://\S+) ", capsys.readouterr().out).group(1)  # type: ignore[union-attr]
        client = boto3_client(url)
        answer = client.list_durable_executions_by_function(FunctionName="orders")
        assert " 2031 " in answer["ResponseMetadata"]["HTTPHeaders"]["date"]
        client.close()
    finally:
        stop.set()
        server.join(timeout=10)
    assert status == [0]
    assert "pytest-durable: stopped" in capsys.readouterr().out


APP = """
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event, context: DurableContext):
    context.wait(Duration.from_days(3), name="settle")
    return context.step(lambda _: event["n"] * 2, name="double")
"""


def test_serve_with_functions_runs_invoked_executions_on_virtual_time(tmp_path):
    (tmp_path / "orders_app.py").write_text(APP)
    with serving("--port", "0", "--function", "orders=orders_app:handler", cwd=str(tmp_path)) as s:
        assert "Invoke (InvocationType Event) of orders runs orders_app:handler" in s.banner[1]
        client = boto3_client(s.url)
        answer = client.invoke(FunctionName="orders", InvocationType="Event", Payload=b'{"n": 21}')
        assert answer["StatusCode"] == 202
        arn = answer["DurableExecutionArn"]
        deadline = time.monotonic() + 10
        while (described := client.get_durable_execution(DurableExecutionArn=arn))[
            "Status"
        ] == "RUNNING":
            assert time.monotonic() < deadline, "the invoked execution did not finish"
            time.sleep(0.02)
        assert described["Status"] == "SUCCEEDED"
        assert described["Result"] == "42"
        # The three-day wait passed in virtual time, not in the test's seconds.
        assert described["EndTimestamp"] - described["StartTimestamp"] >= dt.timedelta(days=3)
        with pytest.raises(ClientError) as caught:
            client.invoke(FunctionName="unknown", InvocationType="Event", Payload=b"{}")
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
        s.process.send_signal(signal.SIGTERM)
        assert s.process.wait(timeout=10) == 0


def test_serve_function_usage_errors(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--function", "no-target"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--time", "real", "--function", "a=m:h"])
    assert exited.value.code == 2
    assert "virtual time" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--function", "a=no_such_module_here:handler"])
    assert exited.value.code == 2
    assert "cannot import no_such_module_here:handler" in capsys.readouterr().err


@contextmanager
def serving_in_process(*argv: str) -> Iterator[str]:
    """``serve`` on a thread (main()'s checks first); yields the printed URL."""
    args = cli.build_parser().parse_args(["serve", *argv])
    ready, stop = threading.Event(), threading.Event()
    status: list[int] = []
    output = io.StringIO()

    def run() -> None:
        with redirect_stdout(output):
            status.append(cli.serve(args, ready=ready, stop=stop))

    server = threading.Thread(target=run)
    server.start()
    try:
        assert ready.wait(timeout=10)
        yield output.getvalue()
    finally:
        stop.set()
        server.join(timeout=10)
    assert status == [0]


def test_serve_on_all_interfaces_needs_the_opt_in_and_then_warns(capsys: pytest.CaptureFixture):
    # Regression: --host 0.0.0.0 bound every interface silently and printed http://0.0.0.0:PORT.
    with serving_in_process("--host", "0.0.0.0", "--allow-remote") as banner:
        url = re.search(r"on (http://\S+) ", banner).group(1)  # type: ignore[union-attr]
        assert url.startswith("http://127.0.0.1:")  # a URL a local client can use
        client = boto3_client(url)
        client.list_durable_executions_by_function(FunctionName="orders")
        client.close()
    warning = capsys.readouterr().err
    assert "WARNING: listening on 0.0.0.0:" in warning
    assert "no authentication" in warning


def test_serve_injects_the_declared_faults():
    spec = "fail:ListDurableExecutionsByFunction:code=ResourceNotFoundException,times=1"
    with serving_in_process("--fault", spec) as banner:
        assert "Fault: fail ListDurableExecutionsByFunction (times=1)" in banner
        url = re.search(r"on (http://\S+) ", banner).group(1)  # type: ignore[union-attr]
        client = boto3_client(url)
        with pytest.raises(ClientError) as caught:
            client.list_durable_executions_by_function(FunctionName="orders")
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert "Injected by pytest-durable" in caught.value.response["Error"]["Message"]
        # Once only: the next call is answered.
        client.list_durable_executions_by_function(FunctionName="orders")
        client.close()
