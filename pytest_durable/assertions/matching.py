"""Matching actual events (or updates) against expectations in AWS's conformance format.

The rules are the published validator's (docs/assertions.md#matching-rules):

- expected events are matched to actual events by ``EventId``; actual events not listed are
  ignored (``match_events``). Lists of updates, which have no EventId, match by position and must
  have the same length (``match_sequence``);
- only the keys written in an expected value are compared, recursively;
- ``'*'`` matches any value (the key must be present); ``{}`` means "don't care" (present or not);
- ``${/regex/}`` must match the actual value (``re.search``; numbers are matched as their text);
- ``${NAME}`` placeholders bind on first use to the actual value and must resolve to the same
  value everywhere after; a placeholder inside a longer string (``'"${ID1}"'``) binds to the part
  of the actual string it covers;
- everything else is literal equality (``True`` does not equal ``1``).

Matching never stops at the first difference: a report lists every mismatch, and renders a diff
in which whatever matched is shown as the expectation wrote it, so only real differences stand out.
"""

from __future__ import annotations

import difflib
import json
import re
import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

#: Matches any value (the key must be present). The string ``'*'`` means the same in files.
ANY = "*"

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REGEX = re.compile(r"^\$\{/(.*)/\}$", re.DOTALL)
_GEN_STR = re.compile(r"^\$\{GEN_STR:(\d+)\}$")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mismatch:
    """One difference: where, what was expected, what was there, and why it does not match."""

    path: Path
    expected: Any
    actual: Any
    reason: str

    def __str__(self) -> str:
        where = _render_path(self.path)
        return f"{where}: {self.reason}"


@dataclass
class MatchReport:
    """The outcome of a match: every mismatch, the placeholder bindings, and a readable diff."""

    mismatches: list[Mismatch] = field(default_factory=list)
    bindings: dict[str, Any] = field(default_factory=dict)
    #: The expectation as written, and the actual values projected onto it (see module doc).
    expected_view: Any = None
    actual_view: Any = None
    title: str = "expectation"
    #: Shown between the mismatch lines and the diff (e.g. the updates around the difference).
    context: str = ""

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        # print(report) and f"{report}" read like explain(), not like a dataclass.
        return self.explain()

    def explain(self, *, limit: int = 20) -> str:
        """Mismatches one per line, then a unified diff of expected against actual."""
        if self.ok:
            return f"{self.title}: matches"
        lines = [f"{self.title}: {len(self.mismatches)} mismatch(es)"]
        lines += [f"  - {m}" for m in self.mismatches[:limit]]
        if len(self.mismatches) > limit:
            lines.append(f"  ... and {len(self.mismatches) - limit} more")
        if self.context:
            lines += ["", self.context]
        diff = list(
            difflib.unified_diff(
                to_yaml(self.expected_view).splitlines(),
                to_yaml(self.actual_view).splitlines(),
                fromfile="expected",
                tofile="actual",
                lineterm="",
                n=3,
            )
        )
        if diff:
            lines += ["", *diff]
        return "\n".join(lines)


class _Matcher:
    def __init__(self, bindings: dict[str, Any] | None = None) -> None:
        self.bindings: dict[str, Any] = dict(bindings or {})
        self.mismatches: list[Mismatch] = []

    def fail(self, path: Path, expected: Any, actual: Any, reason: str) -> Any:
        self.mismatches.append(Mismatch(path, expected, actual, reason))
        return actual

    def match(self, expected: Any, actual: Any, path: Path) -> Any:
        """Compare, record mismatches, and return the actual value projected onto the
        expectation: the expectation itself where it matched, the actual value where not."""
        if isinstance(expected, dict) and not expected:
            return expected  # {}: don't care
        if actual is MISSING:
            self.fail(path, expected, actual, f"missing (expected {_short(expected)})")
            return MISSING
        if isinstance(expected, str):
            return self._match_string(expected, actual, path)
        if isinstance(expected, dict):
            if not isinstance(actual, dict):
                return self.fail(path, expected, actual, f"expected a map, got {_short(actual)}")
            projected: dict[str, Any] = {}
            for key, value in expected.items():
                got = self.match(value, actual.get(key, MISSING), (*path, key))
                if got is not MISSING:
                    projected[key] = got
            return projected
        if isinstance(expected, list):
            if not isinstance(actual, list):
                return self.fail(path, expected, actual, f"expected a list, got {_short(actual)}")
            if len(expected) != len(actual):
                return self.fail(
                    path,
                    expected,
                    actual,
                    f"expected {len(expected)} item(s), got {len(actual)}",
                )
            pairs = enumerate(zip(expected, actual, strict=True))
            return [self.match(e, a, (*path, i)) for i, (e, a) in pairs]
        if isinstance(expected, bool) != isinstance(actual, bool) or expected != actual:
            return self.fail(
                path, expected, actual, f"expected {_short(expected)}, got {_short(actual)}"
            )
        return expected

    def _match_string(self, expected: str, actual: Any, path: Path) -> Any:
        if expected == ANY:
            return expected
        regex = _REGEX.match(expected)
        if regex is not None:
            text = actual if isinstance(actual, str) else json.dumps(actual, default=str)
            if re.search(regex.group(1), text) is None:
                return self.fail(
                    path, expected, actual, f"{_short(actual)} does not match /{regex.group(1)}/"
                )
            return expected
        whole = _PLACEHOLDER.fullmatch(expected)
        if whole is not None:
            name = whole.group(1)
            if name not in self.bindings:
                self.bindings[name] = actual
                return expected
            if self.bindings[name] != actual:
                return self.fail(
                    path,
                    expected,
                    actual,
                    f"{expected} is bound to {_short(self.bindings[name])}, got {_short(actual)}",
                )
            return expected
        if _PLACEHOLDER.search(expected) is not None:
            return self._match_template(expected, actual, path)
        if actual != expected:
            return self.fail(
                path, expected, actual, f"expected {_short(expected)}, got {_short(actual)}"
            )
        return expected

    def _match_template(self, expected: str, actual: Any, path: Path) -> Any:
        """A string with placeholders inside: bound ones must appear verbatim, unbound ones bind
        to what they cover (the same name twice must cover the same text)."""
        if not isinstance(actual, str):
            return self.fail(path, expected, actual, f"expected a string, got {_short(actual)}")
        pattern: list[str] = []
        groups: dict[str, str] = {}
        position = 0
        for found in _PLACEHOLDER.finditer(expected):
            pattern.append(re.escape(expected[position : found.start()]))
            name = found.group(1)
            if name in self.bindings:
                pattern.append(re.escape(str(self.bindings[name])))
            elif name in groups:
                pattern.append(f"(?P={groups[name]})")
            else:
                groups[name] = f"g{len(groups)}"
                pattern.append(f"(?P<{groups[name]}>.+?)")
            position = found.end()
        pattern.append(re.escape(expected[position:]))
        result = re.fullmatch("".join(pattern), actual, flags=re.DOTALL)
        if result is None:
            return self.fail(
                path, expected, actual, f"expected {_short(expected)}, got {_short(actual)}"
            )
        for name, group in groups.items():
            self.bindings[name] = result.group(group)
        return expected


def match_value(
    expected: Any,
    actual: Any,
    *,
    bindings: Mapping[str, Any] | None = None,
    title: str = "value",
) -> MatchReport:
    """Match any value (a result, an update, one event) with the conformance rules."""
    matcher = _Matcher(dict(bindings or {}))
    projected = matcher.match(expected, actual, ())
    return MatchReport(matcher.mismatches, matcher.bindings, expected, projected, title)


def match_events(
    expected: Sequence[Mapping[str, Any]],
    actual: Sequence[Mapping[str, Any]],
    *,
    bindings: Mapping[str, Any] | None = None,
    title: str = "history",
) -> MatchReport:
    """Match expected history events to actual ones by ``EventId`` (unlisted actual events are
    ignored). Placeholders bind in the order the expected events are listed."""
    by_id = {event.get("EventId"): event for event in actual}
    matcher = _Matcher(dict(bindings or {}))
    projected: list[Any] = []
    for position, event in enumerate(expected):
        event_id = event.get("EventId")
        label = _event_label(event, position)
        if event_id is None:
            matcher.fail((label,), event, MISSING, "the expected event has no EventId")
            projected.append(MISSING)
            continue
        found = by_id.get(event_id)
        if found is None:
            matcher.fail(
                (label,),
                event,
                MISSING,
                f"no event with EventId {event_id} (the history has {len(actual)} events)",
            )
            projected.append(MISSING)
            continue
        projected.append(matcher.match(dict(event), dict(found), (label,)))
    return MatchReport(matcher.mismatches, matcher.bindings, list(expected), projected, title)


def match_sequence(
    expected: Sequence[Any],
    actual: Sequence[Any],
    *,
    bindings: Mapping[str, Any] | None = None,
    title: str = "updates",
    label: str = "#",
) -> MatchReport:
    """Match two lists position by position; both must have the same length."""
    matcher = _Matcher(dict(bindings or {}))
    projected: list[Any] = []
    for position in range(max(len(expected), len(actual))):
        where: Path = (f"{label}{position}",)
        if position >= len(actual):
            matcher.fail(where, expected[position], MISSING, "expected, but not sent")
            continue
        if position >= len(expected):
            matcher.fail(where, MISSING, actual[position], "sent, but not expected")
            projected.append(actual[position])
            continue
        projected.append(matcher.match(expected[position], actual[position], where))
    return MatchReport(matcher.mismatches, matcher.bindings, list(expected), projected, title)


# ----------------------------------------------------------------------------- variables


def generate_variables(spec: Mapping[str, Any] | None) -> dict[str, str]:
    """Values for a requirement's ``Variables``: ``${GEN_STR:N}`` is a random alphanumeric
    string of length N; any other value is taken as it is."""
    alphabet = string.ascii_letters + string.digits
    values: dict[str, str] = {}
    for name, raw in (spec or {}).items():
        generated = _GEN_STR.match(str(raw))
        if generated is not None:
            values[name] = "".join(secrets.choice(alphabet) for _ in range(int(generated[1])))
        else:
            values[name] = str(raw)
    return values


def substitute(value: Any, variables: Mapping[str, Any]) -> Any:
    """Replace ``${NAME}`` for every known variable inside strings, recursively. Unknown names
    stay: they are placeholders for the matcher."""
    if not variables:
        return value
    if isinstance(value, str):

        def replace(found: re.Match[str]) -> str:
            name = found.group(1)
            return str(variables[name]) if name in variables else found.group(0)

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    return value


# ----------------------------------------------------------------------------- rendering


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    """Block style, keys in the order written, long strings kept on one line."""


def _represent_missing(dumper: yaml.SafeDumper, _value: Any) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:null", "<missing>")


_Dumper.add_representer(_Missing, _represent_missing)


def to_yaml(value: Any) -> str:
    """YAML as the conformance files write it (key order kept, block style)."""
    return str(
        yaml.dump(
            value,
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
    )


def _event_label(event: Mapping[str, Any], position: int) -> str:
    event_id = event.get("EventId")
    kind = event.get("EventType", "?")
    return f"EventId {event_id} ({kind})" if event_id is not None else f"event #{position} ({kind})"


def _render_path(path: Iterable[str | int]) -> str:
    parts: list[str] = []
    for part in path:
        parts.append(f"[{part}]" if isinstance(part, int) else str(part))
    return " > ".join(parts) or "(value)"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
