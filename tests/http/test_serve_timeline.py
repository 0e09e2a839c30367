"""``pytest-durable serve --function`` reached only by boto3 over HTTP: many executions started
at once share one virtual timeline (the scheduler's), and one that waits for an answer over
HTTP does not make time race to its callback's timeout."""

from __future__ import annotations

import datetime as dt
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from http_helpers import boto3_client
from test_http_cli import serving

APP = """
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration


@durable_execution
def batch(event, context: DurableContext):
    context.wait(Duration.from_hours(1), name="hour")
    return context.step(lambda _: event["n"], name="after")


@durable_execution
def idle(event, context: DurableContext):
    config = CallbackConfig(timeout=Duration.from_hours(24))
    return context.create_callback(name="approval", config=config).result()
"""
HOUR = dt.timedelta(hours=1)


def _history(client, arn: str) -> list[dict]:
    pages = client.get_paginator("get_durable_execution_history").paginate(
        DurableExecutionArn=arn, IncludeExecutionData=True
    )
    return [event for page in pages for event in page["Events"]]


def _wait_until_done(client, arns: list[str], limit: float) -> dict[str, dict]:
    deadline = time.monotonic() + limit
    described: dict[str, dict] = {}
    while True:
        described = {a: client.get_durable_execution(DurableExecutionArn=a) for a in arns}
        if all(d["Status"] != "RUNNING" for d in described.values()):
            return described
        assert time.monotonic() < deadline, [d["Status"] for d in described.values()]
        time.sleep(0.05)


def test_fifty_invokes_over_http_share_one_timeline(tmp_path):
    (tmp_path / "timeline_app.py").write_text(APP)
    with serving(
        "--port",
        "0",
        "--function",
        "batch=timeline_app:batch",
        "--function",
        "idle=timeline_app:idle",
        cwd=str(tmp_path),
    ) as served:
        client = boto3_client(served.url)
        idle = client.invoke(FunctionName="idle", InvocationType="Event", Payload=b"{}")
        started = time.monotonic()

        def invoke(n: int) -> str:
            payload = f'{{"n": {n}}}'.encode()
            answer = client.invoke(FunctionName="batch", InvocationType="Event", Payload=payload)
            return str(answer["DurableExecutionArn"])

        with ThreadPoolExecutor(max_workers=5) as pool:  # a client starting them all at once
            arns = list(pool.map(invoke, range(50)))
        described = _wait_until_done(client, arns, limit=60)
        elapsed = time.monotonic() - started

        assert [d["Status"] for d in described.values()] == ["SUCCEEDED"] * 50
        assert [d["Result"] for d in described.values()] == [str(n) for n in range(50)]
        for arn in arns:
            events = _history(client, arn)
            (wait_started,) = [e for e in events if e["EventType"] == "WaitStarted"]
            (wait_done,) = [e for e in events if e["EventType"] == "WaitSucceeded"]
            assert wait_done["EventTimestamp"] - wait_started["EventTimestamp"] == HOUR
        span = max(d["EndTimestamp"] for d in described.values()) - min(
            d["StartTimestamp"] for d in described.values()
        )
        assert span < 2 * HOUR, span
        # The idle execution waits for its answer; its 24-hour timeout has not come.
        idle_arn = idle["DurableExecutionArn"]
        assert client.get_durable_execution(DurableExecutionArn=idle_arn)["Status"] == "RUNNING"
        assert "CallbackTimedOut" not in [e["EventType"] for e in _history(client, idle_arn)]
        assert elapsed < 30, f"{elapsed:.1f} s"  # under 5 s on a quiet machine

        # An answer over HTTP wakes it at once.
        callback = next(
            e for e in _history(client, idle_arn) if e["EventType"] == "CallbackStarted"
        )
        client.send_durable_execution_callback_success(
            CallbackId=callback["CallbackStartedDetails"]["CallbackId"], Result=b'"ok"'
        )
        (done,) = _wait_until_done(client, [idle_arn], limit=10).values()
        assert done["Status"] == "SUCCEEDED" and "ok" in done["Result"]
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=10) == 0
