"""What the handlers share: the registry, retry configs, serdes, a crash like process.exit."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from aws_durable_execution_sdk_python.concurrency.models import (
    BatchItem,
    BatchItemStatus,
    BatchResult,
    CompletionReason,
)
from aws_durable_execution_sdk_python.config import (
    CompletionConfig,
    Duration,
    MapConfig,
    StepConfig,
)
from aws_durable_execution_sdk_python.retries import (
    JitterStrategy,
    RetryPresets,
    RetryStrategyConfig,
    create_retry_strategy,
)
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext

from pytest_durable import DurableEnvironment
from pytest_durable.assertions import fetch_history

Handler = Callable[[Any, Any], Any]
Builder = Callable[[DurableEnvironment], Handler]

HANDLERS: dict[str, Builder] = {}


def requirement(*ids: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        for requirement_id in ids:
            HANDLERS[requirement_id] = builder
        return builder

    return register


def retry(attempts: int, delay: int = 1, backoff: float = 1) -> StepConfig:
    return StepConfig(
        retry_strategy=create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=attempts,
                initial_delay=Duration.from_seconds(delay),
                backoff_rate=backoff,
                jitter_strategy=JitterStrategy.NONE,
            )
        )
    )


NO_RETRY = StepConfig(retry_strategy=RetryPresets.none())


class TransientError(Exception):
    pass


class UppercaseSerDes(SerDes[Any]):
    """Turns every string value to uppercase on serialization (JSON text)."""

    def serialize(self, value: Any, _: SerDesContext) -> str:
        return json.dumps(value.upper() if isinstance(value, str) else value)

    def deserialize(self, data: str, _: SerDesContext) -> Any:
        return json.loads(data)


class RawUppercaseSerDes(SerDes[Any]):
    """Writes the uppercased string itself as the payload (not JSON), and reads it back."""

    def serialize(self, value: Any, _: SerDesContext) -> str:
        return str(value).upper()

    def deserialize(self, data: str, _: SerDesContext) -> Any:
        return data


class WrappingSerDes(SerDes[Any]):
    """A real, non-identity per-item serializer: ``wrapped:<value>``."""

    def serialize(self, value: Any, _: SerDesContext) -> str:
        return f"wrapped:{value}"

    def deserialize(self, data: str, _: SerDesContext) -> Any:
        return data.removeprefix("wrapped:")


class OpSerDes(SerDes[Any]):
    """Serializes a whole map result as ``OPSERDE:<results joined by commas>``."""

    def serialize(self, value: Any, _: SerDesContext) -> str:
        return "OPSERDE:" + ",".join(value.get_results())

    def deserialize(self, data: str, _: SerDesContext) -> Any:
        results = data.removeprefix("OPSERDE:").split(",")
        items = [
            BatchItem(index=i, status=BatchItemStatus.SUCCEEDED, result=r)
            for i, r in enumerate(results)
        ]
        return BatchResult(items, CompletionReason.ALL_COMPLETED)


def projection(batch: BatchResult[Any], *keys: str) -> dict[str, Any]:
    values = {
        "completionReason": batch.completion_reason.value,
        "status": batch.status.value,
        "successCount": batch.success_count,
        "failureCount": batch.failure_count,
        "totalCount": batch.total_count,
    }
    return {key: values[key] for key in keys}


def one_at_a_time(**completion: Any) -> MapConfig[Any]:
    return MapConfig(max_concurrency=1, completion_config=CompletionConfig(**completion))


def crash() -> None:
    """What ``process.exit`` is to a Node handler: the Lambda sandbox dies (Runtime.ExitError)."""
    raise SystemExit(1)


def wait_for_event(env: DurableEnvironment, arn: str, event_type: str, name: str) -> None:
    """Block until the execution's history (read through the public boto3 client) has an event
    ``event_type`` for an operation ``name``: a non-blocking checkpoint has reached the service."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        events = fetch_history(env.client, arn)
        if any(e["EventType"] == event_type and e.get("Name") == name for e in events):
            return
        time.sleep(0.002)
    raise AssertionError(f"no {event_type} event for {name!r} within 5 s")
