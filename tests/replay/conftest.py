from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from production_handlers import BODIES, checkout

from pytest_durable import DurableEnvironment
from pytest_durable.transport.http import make_http_client


@pytest.fixture(autouse=True)
def _no_bodies_carry_over() -> None:
    BODIES.clear()


@dataclass
class Production:
    """Our own HTTP service standing in for AWS, holding executions of ``checkout``: some
    waiting on their approval callback (RUNNING), some finished."""

    environment: DurableEnvironment
    url: str
    running: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)

    def client(self) -> Any:
        return make_http_client(self.url, region="us-east-1")

    def env_vars(self) -> dict[str, str]:
        return self.environment.http_endpoint().environment("us-east-1")

    def save_history(self, arn: str, path: Path, *, merged: bool = False) -> Path:
        """The file ``aws lambda get-durable-execution-history`` prints (AWS CLI v2: ISO-8601
        timestamps, every page); with ``merged``, ``get-durable-execution`` added (jq -s add)."""
        client = self.client()
        events: list[Any] = []
        for page in client.get_paginator("get_durable_execution_history").paginate(
            DurableExecutionArn=arn, IncludeExecutionData=True
        ):
            events += page["Events"]
        document: dict[str, Any] = {"Events": events}
        if merged:
            described = client.get_durable_execution(DurableExecutionArn=arn)
            described.pop("ResponseMetadata")
            document = {**described, **document}
        path.write_text(json.dumps(document, indent=4, default=_iso))
        return path


def _iso(value: Any) -> str:
    return value.isoformat()


@pytest.fixture
def production() -> Iterator[Production]:
    with DurableEnvironment(freeze_time=False, start="2030-01-01T00:00:00Z") as env:
        stand_in = Production(env, env.http_endpoint().url)
        for order in (1, 2):
            driver = env.start(checkout, {"order": order}, function_name="checkout")
            driver.run_until_blocked()
            stand_in.running.append(driver.arn)
        driver = env.start(checkout, {"order": 3}, function_name="checkout")
        driver.run_until_blocked()
        driver.callback("approval").succeed("ok")
        driver.run()
        stand_in.finished.append(driver.arn)
        BODIES.clear()
        yield stand_in
