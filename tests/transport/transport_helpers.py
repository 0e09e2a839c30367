"""Helpers for the transport tests: the service behind a Router, reached by a real botocore
``lambda`` client (``make_client``) or by raw HTTP-shaped calls to ``Router.handle``."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from botocore.exceptions import ClientError

from pytest_durable.service import DurableService
from pytest_durable.transport import HttpResponse, Router, make_client

T0 = 1_700_000_000_123  # epoch ms with a millisecond part, to see ms precision survive the wire
BASE = "/2025-12-01"


class Wired:
    def __init__(self) -> None:
        self.now = [T0]
        self.service = DurableService(lambda: self.now[0])
        self.router = Router(self.service)
        self.client = make_client(self.router)

    def advance(self, *, seconds: int = 0, ms: int = 0) -> None:
        self.now[0] += seconds * 1000 + ms

    def start(self, payload: str | None = '{"hello": "world"}', **kwargs: Any) -> str:
        kwargs.setdefault("function_name", "orders")
        return self.service.start_execution(input_payload=payload, **kwargs).arn

    def running(self, **kwargs: Any) -> tuple[str, str]:
        """An execution with an invocation in progress: (ARN, envelope token)."""
        arn = self.start(**kwargs)
        return arn, self.service.begin_invocation(arn)["CheckpointToken"]

    def checkpoint(self, arn: str, token: str, updates: list[dict], **kwargs: Any) -> dict:
        return self.client.checkpoint_durable_execution(
            DurableExecutionArn=arn, CheckpointToken=token, Updates=updates, **kwargs
        )

    def state(self, arn: str, token: str) -> list[dict]:
        operations, marker = [], ""
        while True:
            page = self.client.get_durable_execution_state(
                DurableExecutionArn=arn, CheckpointToken=token, Marker=marker, MaxItems=1000
            )
            operations += page["Operations"]
            marker = page.get("NextMarker", "")
            if not marker:
                return operations

    def history(self, arn: str) -> list[dict]:
        return self.client.get_durable_execution_history(
            DurableExecutionArn=arn, IncludeExecutionData=True
        )["Events"]

    # --------------------------------------------------------------- raw router access

    def handle(
        self,
        method: str,
        path: str,
        body: bytes | dict | None = b"",
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        return self.router.handle(method, path, headers or {}, body)  # type: ignore[arg-type]


def label(value: str) -> str:
    """A URI label as botocore encodes it: every reserved character escaped
    (docs/service-semantics.md#client)."""
    return urllib.parse.quote(value, safe="")


def parsed(response: HttpResponse) -> dict[str, Any]:
    return json.loads(response.body)


def without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def error_of(caught: ClientError) -> tuple[str, str, int]:
    error = caught.response["Error"]
    return error["Code"], error["Message"], caught.response["ResponseMetadata"]["HTTPStatusCode"]


def step(op_id: str, action: str = "START", **fields: Any) -> dict[str, Any]:
    return {"Id": op_id, "Type": "STEP", "SubType": "Step", "Action": action, **fields}


def wait(op_id: str, seconds: int = 10, **fields: Any) -> dict[str, Any]:
    return {
        "Id": op_id,
        "Type": "WAIT",
        "SubType": "Wait",
        "Action": "START",
        "WaitOptions": {"WaitSeconds": seconds},
        **fields,
    }


def callback(op_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "Id": op_id,
        "Type": "CALLBACK",
        "SubType": "Callback",
        "Action": "START",
        "CallbackOptions": {"TimeoutSeconds": 0, "HeartbeatTimeoutSeconds": 0},
        **fields,
    }
