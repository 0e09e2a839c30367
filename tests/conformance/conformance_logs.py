"""A requirement's ``ExpectedLogs``, checked against what the handler wrote in this process.

On Lambda the validator reads the execution's CloudWatch records. Here the same records are
collected while the execution runs, in the order they are written:

- every line a handler or plugin prints to stdout: a line holding a JSON object is that object
  (what Lambda's JSON log format makes of it), any other line is ``{"message": line}``;
- every ``logging`` record of the SDK's loggers (``context.logger`` and ``step_context.logger``
  write to the root logger) at INFO or above, and any record at WARNING or above:
  ``{"level": ..., "message": "[LEVEL]\\t<text>", "logger": ...}``, the level first as in
  Lambda's text format, so ``/\\[ERROR\\]/`` finds error records.

An expectation (``match``, ``count``, optional ``after``) holds when exactly ``count`` records
match every field written in ``match`` (a string ``/.../`` is a regular expression searched for,
anything else must be equal), and each of them comes after a record matching every pattern in
``after``. ``${NAME}`` in an expectation is a requirement variable or a placeholder bound by the
history match (``${ID1}``: the operation Id the history checkpointed).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pytest_durable.assertions.matching import substitute

Record = dict[str, Any]


class LogCapture:
    """The records of one run, from stdout and logging, in one list in the order written."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()

    def add(self, record: Record) -> None:
        with self._lock:
            self.records.append(record)

    def add_line(self, line: str) -> None:
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        self.add(parsed if isinstance(parsed, dict) else {"message": line})

    @contextlib.contextmanager
    def capturing(self) -> Iterator[LogCapture]:
        """Collect from stdout and the root logger until the block ends, then restore both."""
        handler = _RecordHandler(self)
        root = logging.getLogger()
        level = root.level
        stdout = sys.stdout
        sys.stdout = _LineWriter(self, stdout)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield self
        finally:
            root.setLevel(level)
            root.removeHandler(handler)
            writer, sys.stdout = sys.stdout, stdout
            if isinstance(writer, _LineWriter):
                writer.flush_partial()


class _LineWriter(io.TextIOBase):
    """Stands in for stdout: whole lines become records; the text still reaches the real one."""

    def __init__(self, capture: LogCapture, through: Any) -> None:
        self.capture = capture
        self.through = through
        self.partial = ""
        self.lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self.lock:
            lines = (self.partial + text).split("\n")
            self.partial = lines.pop()
        for line in lines:
            self.capture.add_line(line)
        self.through.write(text)
        return len(text)

    def flush(self) -> None:
        self.through.flush()

    def flush_partial(self) -> None:
        if self.partial:
            self.capture.add_line(self.partial)
            self.partial = ""


class _RecordHandler(logging.Handler):
    def __init__(self, capture: LogCapture) -> None:
        super().__init__(logging.INFO)
        self.capture = capture

    def emit(self, record: logging.LogRecord) -> None:
        if record.name != "root" and record.levelno < logging.WARNING:
            return  # libraries' chatter (botocore, the SDK's own debug) is not the handler's
        self.capture.add(
            {
                "level": record.levelname,
                "message": f"[{record.levelname}]\t{record.getMessage()}",
                "logger": record.name,
            }
        )


# ----------------------------------------------------------------------------- checking


def check_logs(
    expected: Sequence[Mapping[str, Any]],
    records: Sequence[Record],
    variables: Mapping[str, Any],
) -> list[str]:
    """Every expectation not met, explained; empty when all hold."""
    problems = []
    for number, expectation in enumerate(substitute(list(expected), dict(variables)), 1):
        pattern = expectation["match"]
        count = int(expectation.get("count", 1))
        hits = [i for i, record in enumerate(records) if _matches(pattern, record)]
        if len(hits) != count:
            problems.append(
                f"ExpectedLogs[{number}] {json.dumps(pattern)}: {len(hits)} record(s), "
                f"expected {count}"
            )
        for earlier in expectation.get("after") or []:
            for hit in hits:
                if not any(_matches(earlier, record) for record in records[:hit]):
                    problems.append(
                        f"ExpectedLogs[{number}] {json.dumps(pattern)}: record {hit} "
                        f"{json.dumps(records[hit])} has no earlier {json.dumps(earlier)}"
                    )
    return problems


def _matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    for key, want in pattern.items():
        if key not in record:
            return False
        have = record[key]
        if isinstance(want, str) and len(want) >= 2 and want.startswith("/") and want.endswith("/"):
            if re.search(want[1:-1], str(have)) is None:
                return False
        elif have != want or type(have) is not type(want):
            return False
    return True
