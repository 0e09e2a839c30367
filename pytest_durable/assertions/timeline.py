"""A compact, readable timeline of a run, for failure reports.

When a test on a durable function fails, the traceback says where the test stopped, not what the
execution did. The timeline says that: one line per history event, on the virtual clock relative
to the execution's start, with the operation's path in the tree, attempts, retry delays, errors,
and a rule at the end of every invocation; then the operation tree with each final status.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_durable.runner.operations import OperationView
from pytest_durable.runner.payloads import decode_payload
from pytest_durable.runner.result import ExecutionResult

#: Events shown per execution before the middle is elided; operations listed at most.
MAX_EVENTS = 80
MAX_OPERATIONS = 40
_WIDTH = 160


def render_timelines(results: Sequence[ExecutionResult], *, max_executions: int = 5) -> str:
    """Timelines of several executions (the most recent ``max_executions``)."""
    shown = list(results)[-max_executions:]
    parts = [render_timeline(result) for result in shown]
    if len(results) > len(shown):
        parts.insert(0, f"({len(results) - len(shown)} earlier execution(s) not shown)")
    return "\n\n".join(parts)


def render_timeline(result: ExecutionResult, *, max_events: int = MAX_EVENTS) -> str:
    """The timeline of one execution (see the module doc)."""
    paths = {op.id: op.path for op in result.all_operations()}
    lines = _headline(result)
    stamps = [_stamp(result.start, event) for event in result.history]
    width = max((len(stamp) for stamp in stamps), default=0)
    events = [
        _event_line(stamp.rjust(width), event, paths)
        for stamp, event in zip(stamps, result.history, strict=True)
    ]
    if len(events) > max_events:
        head = max_events // 2
        tail = max_events - head
        omitted = len(events) - max_events
        events = [*events[:head], f"  ... {omitted} events not shown ...", *events[-tail:]]
    lines += events
    if result.operations:
        operations = _operation_lines(result, result.operations, depth=2)
        if len(operations) > MAX_OPERATIONS:
            hidden = len(operations) - MAX_OPERATIONS
            operations = [*operations[:MAX_OPERATIONS], f"    ... {hidden} more operations"]
        lines += ["  operations:", *operations]
    return "\n".join(_clip(line) for line in lines)


def _headline(result: ExecutionResult) -> list[str]:
    status = result.status if result.status != "RUNNING" else "RUNNING (did not finish)"
    count = len(result.invocations)
    text = f"execution {result.name} {status} after {count} invocation{'s' * (count != 1)}"
    if result.duration is not None:
        text += f", {_span(result.duration)} of virtual time"
    lines = [text, f"  started {result.start.isoformat(timespec='milliseconds')}"]
    if result.error is not None:
        first = (result.error.message or "").splitlines()
        lines.append(f"  error: {result.error.type}: {first[0] if first else ''}")
    return lines


def _stamp(start: _dt.datetime, event: Mapping[str, Any]) -> str:
    return _offset(event["EventTimestamp"] - start) if "EventTimestamp" in event else "?"


def _event_line(at: str, event: Mapping[str, Any], paths: Mapping[str, str]) -> str:
    kind = str(event.get("EventType"))
    details: Mapping[str, Any] = event.get(f"{kind}Details") or {}
    if kind == "InvocationCompleted":
        return f"  {at}  ---- {_invocation_end(details)}"
    operation_id = event.get("Id")
    if kind.startswith("Execution"):
        label = ""
    else:
        label = paths.get(str(operation_id)) or event.get("Name") or str(operation_id)[:12]
    summary = _summary(kind, details, event)
    if not label:
        return f"  {at}  {kind:<20} {summary}".rstrip()
    return f"  {at}  {kind:<20} {label}{'  ' + summary if summary else ''}"


def _invocation_end(details: Mapping[str, Any]) -> str:
    started, ended = details.get("StartTimestamp"), details.get("EndTimestamp")
    took = f" after {_span(ended - started)}" if started and ended else ""
    error = _error(details)
    if error:
        return f"invocation ended{took}: FAILED {error}"
    return f"invocation ended{took}"


def _summary(kind: str, details: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    retry = details.get("RetryDetails") or {}
    attempt = f"attempt {retry['CurrentAttempt']}" if "CurrentAttempt" in retry else ""
    error = _error(details)
    if kind == "ExecutionStarted":
        return f"input {_payload(details.get('Input'))}"
    delay = retry.get("NextAttemptDelaySeconds")
    again = f"retry in {_span(_dt.timedelta(seconds=int(delay)))}" if delay is not None else ""
    if kind in ("StepSucceeded", "ContextSucceeded", "CallbackSucceeded", "ExecutionSucceeded"):
        outcome = " ".join(p for p in (attempt, f"-> {_payload(details.get('Result'))}") if p)
        return "  ".join(p for p in (outcome, again) if p)
    if kind == "StepFailed":
        return "  ".join(p for p in (attempt, error, again) if p)
    if kind == "WaitStarted":
        return f"wait {_span(_dt.timedelta(seconds=int(details.get('Duration', 0))))}"
    if kind == "ContextStarted":
        return f"[{event.get('SubType')}]" if event.get("SubType") else ""
    if kind == "CallbackStarted":
        limits = [
            f"{label} {details[key]}s"
            for key, label in (("Timeout", "timeout"), ("HeartbeatTimeout", "heartbeat"))
            if key in details
        ]
        return " ".join(limits)
    if kind == "ChainedInvokeStarted":
        return f"-> {details.get('FunctionName')}"
    return error


def _error(details: Mapping[str, Any]) -> str:
    error = details.get("Error")
    if not isinstance(error, dict):
        return ""
    payload = error.get("Payload", error)
    if not isinstance(payload, dict) or not payload:
        return ""
    message = str(payload.get("ErrorMessage") or "").splitlines()
    return f"{payload.get('ErrorType')}: {message[0] if message else ''}".rstrip(": ")


def _payload(wrapper: Any, limit: int = 50) -> str:
    """A payload's value, short: decoded with the SDK's default serdes when it can be."""
    if not isinstance(wrapper, dict) or "Payload" not in wrapper:
        return "(none)"
    value = decode_payload(str(wrapper["Payload"]))
    if hasattr(value, "get_results") and hasattr(value, "completion_reason"):
        text = (
            f"BatchResult {value.completion_reason.value}: {value.success_count} succeeded, "
            f"{value.failure_count} failed"
        )
    else:
        try:
            text = json.dumps(value, separators=(",", ":"))
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _operation_lines(
    result: ExecutionResult, views: Sequence[OperationView], depth: int
) -> list[str]:
    lines: list[str] = []
    for view in views:
        label = view.name if view.name is not None else view.path.rsplit("/", 1)[-1]
        kind = view.sub_type or view.type
        parts = [f"{'  ' * depth}{label:<{max(1, 28 - 2 * depth)}} {kind:<18} {view.status}"]
        if view.type == "STEP" and view.attempt:
            parts.append(f"attempts {view.attempt}")
        timing = f"{_offset(view.start - result.start)}"
        if view.end is not None:
            timing += f" -> {_offset(view.end - result.start)}"
        parts.append(timing)
        if view.error is not None:
            first = (view.error.message or "").splitlines()
            parts.append(f"{view.error.type}: {first[0] if first else ''}")
        lines.append("  ".join(parts))
        lines += _operation_lines(result, view.children, depth + 1)
    return lines


def _offset(delta: _dt.timedelta) -> str:
    return "+" + _span(delta)


def _span(delta: _dt.timedelta) -> str:
    """3.012s, 2m05.000s, 1h00m00.000s, 7d00h00m00.000s: short, and exact to the millisecond."""
    total_ms = round(delta.total_seconds() * 1000)
    sign = "-" if total_ms < 0 else ""
    total_ms = abs(total_ms)
    seconds, ms = divmod(total_ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{sign}{days}d{hours:02d}h{minutes:02d}m{seconds:02d}.{ms:03d}s"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m{seconds:02d}.{ms:03d}s"
    if minutes:
        return f"{sign}{minutes}m{seconds:02d}.{ms:03d}s"
    return f"{sign}{seconds}.{ms:03d}s"


def _clip(line: str) -> str:
    return line if len(line) <= _WIDTH else line[: _WIDTH - 3] + "..."


def environment_timeline(results: Sequence[ExecutionResult]) -> str | None:
    """The failure report section for a test's environment: None when it ran nothing."""
    if not results:
        return None
    return render_timelines(results)
