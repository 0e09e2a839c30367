"""Executions from production, for the determinism replay: read through boto3, or saved files.

A cassette holds executions a test recorded. Before a deploy, what matters more are the
executions in flight in production: the code about to be deployed will resume them. This module
turns those into :class:`~pytest_durable.cassette.recording.format.RecordedExecution`, the input of
:class:`~pytest_durable.cassette.replay.replayer.Replayer`, from either source:

- **AWS**, by ARN or by function (``ListDurableExecutionsByFunction`` filtered by status), with
  a boto3 ``lambda`` client built from the user's usual configuration (profile, region,
  ``AWS_ENDPOINT_URL_LAMBDA``). Only read calls are made: ``GetDurableExecution`` and
  ``GetDurableExecutionHistory`` (every page, through botocore's paginator). An operator cannot
  call ``GetDurableExecutionState``: it takes the checkpoint token only a running invocation
  holds, so the operations are rebuilt from the history (:mod:`.reconstruct`), as cloud mode
  does.
- **Saved files**: what ``aws lambda get-durable-execution-history --durable-execution-arn ARN``
  prints (``{"Events": [...]}``, timestamps as ISO-8601 text or epoch seconds), optionally with
  the members of ``aws lambda get-durable-execution`` merged in (``jq -s add``), or what
  ``get-durable-execution-state`` prints (``{"Operations": [...]}``).

The IAM actions needed are listed in docs/production-replay.md.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pytest_durable.assertions.history import fetch_history
from pytest_durable.cassette.cloud.reconstruct import (
    execution_from_cloud,
    operation_from_wire,
    operations_from_history,
)
from pytest_durable.cassette.recording.format import RecordedExecution, parse_iso
from pytest_durable.errors import HistoryFileError
from pytest_durable.service.model import Execution, Wire, ms_to_datetime

#: The read-only Lambda actions a production replay calls (and the IAM permissions it needs).
READ_ACTIONS = (
    "lambda:GetDurableExecution",
    "lambda:GetDurableExecutionHistory",
    "lambda:ListDurableExecutionsByFunction",
)
#: What "executions a deploy can break" means by default: those still running.
DEFAULT_STATUSES = ("RUNNING",)
_TERMINAL_EVENTS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionStopped": "STOPPED",
}


# ----------------------------------------------------------------- AWS


def lambda_client(*, profile: str | None = None, region: str | None = None) -> Any:
    """A boto3 ``lambda`` client from the user's normal configuration: credentials chain,
    profile, region, and ``AWS_ENDPOINT_URL_LAMBDA`` when set."""
    import boto3  # noqa: PLC0415 - only a production replay needs a real session

    return boto3.session.Session(profile_name=profile, region_name=region).client("lambda")


def events_of(client: Any, arn: str) -> list[Wire]:
    """Every event of ``GetDurableExecutionHistory``, with payloads, all pages."""
    return fetch_history(client, arn)


def execution_arns(
    client: Any, function_name: str, statuses: Iterable[str] = DEFAULT_STATUSES
) -> Iterator[str]:
    """ARNs of the executions of ``function_name`` (a name, qualified name or ARN) with one of
    ``statuses``, newest first, through ``ListDurableExecutionsByFunction``'s paginator."""
    paginator = client.get_paginator("list_durable_executions_by_function")
    wanted = list(statuses)
    request: dict[str, Any] = {"FunctionName": function_name}
    if wanted:
        request["Statuses"] = wanted
    for page in paginator.paginate(**request):
        for summary in page.get("DurableExecutions", []):
            yield str(summary["DurableExecutionArn"])


def recorded_from_aws(client: Any, arn: str) -> RecordedExecution:
    """One execution as it stands in the service now, read with two read-only calls."""
    answer = client.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
    described = dict(answer)
    described.pop("ResponseMetadata", None)
    return _recorded(execution_from_cloud(described, events_of(client, arn)))


def truncation_notes(recorded: RecordedExecution) -> list[str]:
    """What a replay of ``recorded`` should warn about: payloads the history shows cut short
    (``Truncated``), which the replay fed to the code as they were cut."""
    cut = operations_from_history(recorded.history).truncated
    if not cut:
        return []
    names = {str(event.get("Id")): event.get("Name") for event in recorded.history}
    where = ", ".join(f"{names.get(op_id) or op_id} ({event})" for op_id, event in cut)
    return [
        f"the history has {len(cut)} payload(s) cut short (Truncated): {where}. The replay gave "
        f"the code those payloads as cut; a divergence after them may come from that"
    ]


# ----------------------------------------------------------------- saved files


def recorded_from_file(path: str | Path) -> RecordedExecution:
    """One execution from a saved ``get-durable-execution-history`` (or ``-state``) JSON file."""
    where = Path(path)
    try:
        document = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"No history file at {where}") from None
    except ValueError as error:
        raise HistoryFileError(f"{where} is not JSON: {error}") from None
    if not isinstance(document, Mapping) or not (
        isinstance(document.get("Events"), list) or isinstance(document.get("Operations"), list)
    ):
        raise HistoryFileError(
            f"{where} has neither 'Events' nor 'Operations': save the output of "
            f"`aws lambda get-durable-execution-history --durable-execution-arn ARN` "
            f"(or of get-durable-execution-state)"
        )
    data = _timestamps(document)
    events: list[Wire] = list(data.get("Events") or [])
    operations = [operation_from_wire(wire) for wire in data.get("Operations") or []]
    if not operations:
        operations = operations_from_history(events).operations
    described = _described(data, events, operations, where)
    execution = execution_from_cloud(described, events)
    if data.get("Operations"):
        execution.operations = {op.id: op for op in operations}
    return _recorded(execution)


def _described(
    data: Mapping[str, Any], events: list[Wire], operations: list[Any], where: Path
) -> Wire:
    """The ``GetDurableExecution`` answer, where the file has it, else what the history says."""
    root = next((op for op in operations if op.type.value == "EXECUTION"), None)
    if root is None:
        raise HistoryFileError(
            f"{where} has no ExecutionStarted event (or EXECUTION operation): save the whole "
            f"history, every page (the CLI fetches them all unless --max-items is given)"
        )
    described: Wire = {key: value for key, value in data.items() if key[:1].isupper()}
    started = next((e for e in events if e.get("EventType") == "ExecutionStarted"), {})
    name = str(described.get("DurableExecutionName") or started.get("Name") or where.stem)
    described.setdefault(
        "DurableExecutionArn",
        f"arn:aws:lambda:us-east-1:000000000000:function:{where.stem}:$LATEST"
        f"/durable-execution/{name}/{root.id}",
    )
    described.setdefault("DurableExecutionName", name)
    described.setdefault("StartTimestamp", ms_to_datetime(root.start_ms))
    described.setdefault("InputPayload", root.input_payload or "")
    if "Status" not in described:
        described["Status"] = "RUNNING"
        for event in events:
            status = _TERMINAL_EVENTS.get(str(event.get("EventType")))
            if status is None:
                continue
            details = event.get(f"{event['EventType']}Details") or {}
            described.update(Status=status, EndTimestamp=event["EventTimestamp"])
            if status == "SUCCEEDED":
                described["Result"] = (details.get("Result") or {}).get("Payload")
            elif (details.get("Error") or {}).get("Payload"):
                described["Error"] = details["Error"]["Payload"]
    return described


def _timestamps(value: Any, key: str = "") -> Any:
    """Timestamps as aware datetimes, whether the CLI printed ISO-8601 text or epoch seconds."""
    if key.endswith("Timestamp") and isinstance(value, str):
        return parse_iso(value)
    if key.endswith("Timestamp") and isinstance(value, int | float) and not isinstance(value, bool):
        return _dt.datetime.fromtimestamp(value, _dt.UTC)
    if isinstance(value, Mapping):
        return {k: _timestamps(item, k) for k, item in value.items()}
    if isinstance(value, list):
        return [_timestamps(item) for item in value]
    return value


def _recorded(execution: Execution) -> RecordedExecution:
    return RecordedExecution(
        name=execution.name,
        arn=execution.arn,
        function_name=execution.function_name,
        input_payload=execution.input_payload,
        status=execution.status.value,
        start=ms_to_datetime(execution.start_ms),
        end=None if execution.end_ms is None else ms_to_datetime(execution.end_ms),
        result=execution.result,
        error=execution.error,
        operations=[op.to_wire() for op in execution.operations.values()],
        history=list(execution.history),
    )
