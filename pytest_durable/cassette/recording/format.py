"""The cassette file: recorded durable executions and the HTTP a test made, as readable YAML.

One YAML document per test, written with a fixed key order so that re-recording a test changes
only the lines whose values changed::

    format: 1
    source: cloud                # cloud: recorded against a deployed function; local: the fake
    recorded: {test, region, endpoint, sdk, pytest_durable}
    executions:                  # what the determinism replay reads
    - name, arn, function, handler, input, status, result, error, start, end,
      operations: [...]          # botocore ``Operation`` shape
      history: [...]             # botocore ``Event`` shape
    interactions:                # what the offline HTTP replay plays (vcrpy's request/response)
    - request: {method, uri, headers, body}
      response: {status, headers, body}

Timestamps are ISO-8601 strings in UTC with milliseconds. A JSON body is written as the JSON
value itself (``body: {json: ...}``) when that gives back the exact bytes, so payload changes
show as small diffs; any other body is kept as text (``body: {string: ...}``).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aws_durable_execution_sdk_python import __about__ as sdk_about

from pytest_durable.errors import CassetteFormatError
from pytest_durable.runner.result import ExecutionResult
from pytest_durable.service.model import Operation, Wire

FORMAT_VERSION = 1
SOURCES = ("cloud", "local")

HEADER = """\
# pytest-durable cassette. Recorded durable executions (executions) and the HTTP the test made
# (interactions). Replayed offline by `pytest --durable-mode=cloud`; checked against the current
# code by `pytest-durable replay THIS_FILE --handler module:function`. Re-record with
# `pytest --durable-mode=cloud --durable-record-mode=all`. See docs/cassettes.md.
"""


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("pytest-durable")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def recorded_meta(test: str, region: str, endpoint: str) -> dict[str, Any]:
    """The ``recorded`` section: which test, where, with which versions (no date: a re-record
    of the same run should not differ for nothing)."""
    return {
        "test": test,
        "region": region,
        "endpoint": endpoint,
        "sdk": sdk_about.__version__,
        "pytest_durable": _package_version(),
    }


# ----------------------------------------------------------------- timestamps


def iso(value: _dt.datetime) -> str:
    """``2030-01-01T09:00:00.000Z``: the cassette's timestamp text (UTC, milliseconds)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    value = value.astimezone(_dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> _dt.datetime:
    value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)


def _timestamps_to_text(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {key: _timestamps_to_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_timestamps_to_text(item) for item in value]
    return value


def _timestamps_from_text(value: Any, key: str | None = None) -> Any:
    if isinstance(value, str) and key is not None and key.endswith("Timestamp"):
        return parse_iso(value)
    if isinstance(value, Mapping):
        return {k: _timestamps_from_text(item, k) for k, item in value.items()}
    if isinstance(value, list):
        return [_timestamps_from_text(item) for item in value]
    return value


# ----------------------------------------------------------------- executions


@dataclass
class RecordedExecution:
    """One durable execution as recorded: enough to replay the current code against it."""

    name: str
    arn: str
    function_name: str
    input_payload: str
    status: str
    start: _dt.datetime
    end: _dt.datetime | None = None
    result: str | None = None
    error: Wire | None = None
    #: ``module:qualname`` of the local handler the test ran, when known (a hint for replays).
    handler: str | None = None
    #: botocore ``Operation`` shapes, the EXECUTION operation included, in the order they started.
    operations: list[Wire] = field(default_factory=list)
    #: botocore ``Event`` shapes, in EventId order.
    history: list[Wire] = field(default_factory=list)

    @classmethod
    def from_result(
        cls,
        result: ExecutionResult,
        operations: Iterable[Operation],
        *,
        function_name: str,
        input_payload: str,
        handler: str | None = None,
    ) -> RecordedExecution:
        return cls(
            name=result.name,
            arn=result.arn,
            function_name=function_name,
            input_payload=input_payload,
            status=result.status,
            start=result.start,
            end=result.end,
            result=result.result_payload,
            error=_error_wire(result),
            handler=handler,
            operations=[op.to_wire() for op in operations],
            history=[dict(event) for event in result.history],
        )

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "arn": self.arn,
            "function": self.function_name,
        }
        if self.handler is not None:
            document["handler"] = self.handler
        document["input"] = self.input_payload
        document["status"] = self.status
        if self.result is not None:
            document["result"] = self.result
        if self.error is not None:
            document["error"] = dict(self.error)
        document["start"] = iso(self.start)
        if self.end is not None:
            document["end"] = iso(self.end)
        document["operations"] = _timestamps_to_text(self.operations)
        document["history"] = _timestamps_to_text(self.history)
        return document

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> RecordedExecution:
        try:
            return cls(
                name=str(document["name"]),
                arn=str(document["arn"]),
                function_name=str(document["function"]),
                input_payload=str(document.get("input") or ""),
                status=str(document["status"]),
                start=parse_iso(str(document["start"])),
                end=parse_iso(str(document["end"])) if document.get("end") else None,
                result=document.get("result"),
                error=dict(document["error"]) if document.get("error") else None,
                handler=document.get("handler"),
                operations=_timestamps_from_text(list(document.get("operations") or [])),
                history=_timestamps_from_text(list(document.get("history") or [])),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise CassetteFormatError(f"a recorded execution is incomplete: {error}") from None

    @property
    def captured_at(self) -> _dt.datetime:
        """When the record was taken: its last event (what a replay's clock is set to)."""
        stamps: list[_dt.datetime] = [
            e["EventTimestamp"] for e in self.history if "EventTimestamp" in e
        ]
        return max([self.end or self.start, *stamps])


def _error_wire(result: ExecutionResult) -> Wire | None:
    if result.error is None:
        return None
    error: Wire = {"ErrorType": result.error.type, "ErrorMessage": result.error.message}
    if result.error.data is not None:
        error["ErrorData"] = result.error.data
    return {key: value for key, value in error.items() if value is not None}


# ----------------------------------------------------------------- the cassette


@dataclass
class Cassette:
    """A cassette file's contents."""

    source: str = "cloud"
    recorded: dict[str, Any] = field(default_factory=dict)
    executions: list[RecordedExecution] = field(default_factory=list)
    #: vcrpy interactions in the document form (``request``/``response`` mappings).
    interactions: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = field(default=None, compare=False)

    def execution(self, which: int | str = 0) -> RecordedExecution:
        """A recorded execution by index, or by name or ARN."""
        if isinstance(which, int):
            if -len(self.executions) <= which < len(self.executions):
                return self.executions[which]
        else:
            for execution in self.executions:
                if which in (execution.name, execution.arn):
                    return execution
        names = ", ".join(e.name for e in self.executions) or "none"
        raise LookupError(
            f"No recorded execution {which!r} in {self.path or 'the cassette'} "
            f"(executions: {names})"
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "source": self.source,
            "recorded": dict(self.recorded),
            "executions": [execution.to_document() for execution in self.executions],
            "interactions": list(self.interactions),
        }

    @classmethod
    def from_document(cls, document: Any, path: Path | None = None) -> Cassette:
        where = path or "the cassette"
        if not isinstance(document, Mapping) or "format" not in document:
            raise CassetteFormatError(f"{where} is not a pytest-durable cassette (no 'format')")
        if document["format"] != FORMAT_VERSION:
            raise CassetteFormatError(
                f"{where} has format {document['format']!r}; this pytest-durable reads format "
                f"{FORMAT_VERSION}. Re-record it."
            )
        source = document.get("source", "cloud")
        if source not in SOURCES:
            raise CassetteFormatError(f"{where}: source must be one of {SOURCES}, not {source!r}")
        return cls(
            source=source,
            recorded=dict(document.get("recorded") or {}),
            executions=[
                RecordedExecution.from_document(item) for item in document.get("executions") or []
            ],
            interactions=[dict(item) for item in document.get("interactions") or []],
            path=path,
        )


# ----------------------------------------------------------------- YAML


# libyaml when available: a cassette of a long execution has thousands of nodes.
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Block style, insertion order, multi-line text as literal blocks: readable and diffable."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    if "\n" in text and all(ch == "\n" or ch.isprintable() for ch in text):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", text)


_Dumper.add_representer(str, _represent_text)


def dump_document(document: Mapping[str, Any]) -> str:
    """The YAML text of a cassette document, with the explanatory header."""
    body: str = yaml.dump(
        dict(document),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
    )
    return HEADER + body


def load_document(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def read_cassette(path: str | Path) -> Cassette:
    """Load a cassette file."""
    where = Path(path)
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"No cassette at {where}") from None
    try:
        document = load_document(text)
    except yaml.YAMLError as error:
        raise CassetteFormatError(f"{where} is not valid YAML: {error}") from None
    return Cassette.from_document(document, where)


def write_cassette(cassette: Cassette, path: str | Path) -> Path:
    """Write a cassette file (creating its directory)."""
    where = Path(path)
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(dump_document(cassette.to_document()), encoding="utf-8")
    cassette.path = where
    return where


# ----------------------------------------------------------------- HTTP bodies


def encode_body(raw: bytes | str | None) -> dict[str, Any]:
    """A body for the document: the JSON value when it re-serializes to the same bytes (compact
    as AWS and botocore's rest-json write it, or with Python's default separators)."""
    if raw is None:
        return {"string": ""}
    text = raw.decode("utf-8", errors="surrogateescape") if isinstance(raw, bytes) else raw
    if text.strip():
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        else:
            if json.dumps(value, separators=(",", ":"), ensure_ascii=False) == text:
                return {"json": value}
            if json.dumps(value, ensure_ascii=False) == text:
                return {"json": value, "spaced": True}
    return {"string": text}


def decode_body(body: Any) -> bytes:
    """The exact bytes of a body written by :func:`encode_body`."""
    if not isinstance(body, Mapping):
        return b"" if body is None else str(body).encode()
    if "json" in body:
        if body.get("spaced"):
            return json.dumps(body["json"], ensure_ascii=False).encode()
        return json.dumps(body["json"], separators=(",", ":"), ensure_ascii=False).encode()
    text = body.get("string") or ""
    if isinstance(text, bytes):
        return text
    return str(text).encode("utf-8", errors="surrogateescape")
