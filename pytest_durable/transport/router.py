"""One router for every transport: HTTP request in, service call, HTTP response out.

Routes, parameter locations, status codes and output serialization all come from botocore's own
``lambda`` service model (rest-json), so the fake answers on exactly the paths, methods and codes
the real client uses, for the 12 durable-execution operations. The in-process transport (a
botocore ``before-send`` hook) and the loopback HTTP server both call :meth:`Router.handle`.

The router checks what the real front end checks before the service sees a request: that the
route exists, the body parses, required members are present and values have the model's types
and (for top-level members) its length, range, pattern and enum constraints. Semantic checks on
the contents of a checkpoint batch belong to the service, whose messages name the update.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.model import OperationModel, Shape, StructureShape

from pytest_durable.errors import (
    FakeServiceBugError,
    InvalidParameterValueException,
    MethodNotAllowedException,
    RequestTooLargeException,
    SandboxDied,
    ServiceError,
    UnknownOperationException,
)
from pytest_durable.service.model import EPOCH
from pytest_durable.transport.botocore_model import botocore_session, lambda_model
from pytest_durable.transport.faults import Decision, FaultPlan

if TYPE_CHECKING:
    from pytest_durable.service import DurableService

# The durable-execution operations of the Lambda API (botocore ``lambda`` model, 2015-03-31).
DURABLE_OPERATIONS = (
    "CheckpointDurableExecution",
    "GetDurableExecutionState",
    "GetDurableExecution",
    "GetDurableExecutionHistory",
    "ListDurableExecutionsByFunction",
    "SendDurableExecutionCallbackSuccess",
    "SendDurableExecutionCallbackFailure",
    "SendDurableExecutionCallbackHeartbeat",
    "StopDurableExecution",
    "PauseDurableExecution",
    "ResumeDurableExecution",
    "DeleteDurableExecution",
)
# Lambda's request payload limit for these APIs (a callback result is at most 256 KiB larger
# than the model's 1 MiB; checkpoint payloads up to 6 MiB).
MAX_BODY_BYTES = 7 * 1024 * 1024
# Deepest JSON nesting a request body may have (the deepest input shape nests far less).
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    #: The request was applied but its answer must not reach the client (an injected
    #: ``lose_answer``): the in-process client raises a read timeout, HTTP drops the connection.
    lost: bool = False


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    method_name: str = field(default="")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@cache
def _routes() -> tuple[_Route, ...]:
    model = lambda_model()
    routes = []
    for name in DURABLE_OPERATIONS:
        operation = model.operation_model(name)
        uri = operation.http["requestUri"]
        labels = tuple(re.findall(r"{(\w+)}", uri))
        regex = re.sub(
            r"{(\w+)}",
            lambda m: f"(?P<{m.group(1)}>[^/]+)",
            re.escape(uri).replace(r"\{", "{").replace(r"\}", "}"),
        )
        routes.append(
            _Route(
                operation=operation,
                method=operation.http["method"],
                pattern=re.compile(f"^{regex}$"),
                labels=labels,
                method_name=_snake(name),
            )
        )
    return tuple(routes)


class Router:
    """Dispatches HTTP requests for the durable APIs to one :class:`DurableService`."""

    #: The APIs this router answers (a subclass serving more extends it).
    served_apis: tuple[str, ...] = DURABLE_OPERATIONS

    def __init__(self, service: DurableService, *, faults: FaultPlan | None = None) -> None:
        self.service = service
        #: Faults declared for the calls this router answers (see ``transport/faults.py``).
        self.faults = faults or FaultPlan(now_ms=service.now_ms, durable_apis=self.served_apis)
        self.faults.invocation_of = self._invocation_index
        #: Bugs of the fake met while answering, oldest first (each also raised or answered).
        self.bugs: list[FakeServiceBugError] = []
        self._bugs_lock = threading.Lock()

    def handle(
        self, method: str, url_path: str, headers: dict[str, str], body: bytes
    ) -> HttpResponse:
        """Answer one request: every failure of the request becomes an AWS-shaped error.

        Raises only :class:`FakeServiceBugError` (a bug in the fake: the in-process client
        lets it reach the caller; HTTP answers it as a 500) and :class:`SandboxDied` (an
        injected death of the invocation whose checkpoint thread sent the request)."""
        api = "?"
        body = body if isinstance(body, bytes) else b""
        try:
            if not isinstance(url_path, str) or not isinstance(method, str):
                raise UnknownOperationException(f"No durable-execution API at {method} {url_path}")
            path, _, query = url_path.partition("?")
            route, labels = self._match(method.upper(), path)
            api = route.operation.name
            if len(body) > MAX_BODY_BYTES:
                raise too_large(route.operation, len(body))
            params = _parse_input(
                route, labels, urllib.parse.parse_qs(query, keep_blank_values=True), body
            )
            decision = self.faults.decide(api, params)
            if decision is not None:
                self._play_before(decision)
            output = getattr(self.service, route.method_name)(**params)
            answer = _serialize_output(route.operation, output)
            if decision is not None and decision.rule.kind == "kill_sandbox":
                self.faults.kill(decision)  # "after": applied, then the sandbox dies
            if decision is not None and decision.rule.kind == "lose_answer":
                return HttpResponse(answer.status, answer.headers, answer.body, lost=True)
            return answer
        except ServiceError as error:
            return error_response(error)
        except SandboxDied:
            raise  # an injected death of the caller's sandbox, not a bug
        except Exception as error:
            bug = FakeServiceBugError(api, error)
            bug.__cause__ = error
            with self._bugs_lock:
                self.bugs.append(bug)
            raise bug from error

    def _play_before(self, decision: Decision) -> None:
        kind = decision.rule.kind
        if decision.error is not None:
            raise decision.error
        if kind == "delay":
            self.faults.wait(decision)
        elif kind == "kill_sandbox" and decision.rule.when == "before":
            self.faults.kill(decision)

    def _invocation_index(self, arn: str) -> int | None:
        try:
            execution = self.service.execution(arn)
        except ServiceError:
            return None
        return len(execution.invocations) - 1 if execution.active_invocation else None

    @staticmethod
    def _match(method: str, path: str) -> tuple[_Route, dict[str, str]]:
        path_matched = False
        for route in _routes():
            found = route.pattern.match(path)
            if found is None:
                continue
            path_matched = True
            if route.method == method:
                return route, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
        if path_matched:
            allowed = sorted(r.method for r in _routes() if r.pattern.match(path))
            raise MethodNotAllowedException(
                f"{method} is not allowed on {path}; use {' or '.join(allowed)}"
            )
        raise UnknownOperationException(
            f"No durable-execution API at {method} {path}. The fake serves: "
            + ", ".join(DURABLE_OPERATIONS)
        )


def too_large(operation: OperationModel, size: int) -> ServiceError:
    """The answer to a request body over the limit. The model declares
    ``RequestTooLargeException`` (413) for ``Invoke`` only; for the durable APIs it declares
    ``InvalidParameterValueException`` (400) for "a parameter in the request is not valid", so
    that is what they answer (the SDK fails the execution on either: both are 4xx)."""
    message = (
        f"Request body is {size} bytes; the limit is {MAX_BODY_BYTES} bytes (7 MiB) as UTF-8. "
        f"A checkpoint Payload of at most 6291456 characters can still exceed it when its "
        f"characters take several bytes: checkpoint less per operation"
    )
    if "RequestTooLargeException" in {shape.name for shape in operation.error_shapes}:
        return RequestTooLargeException(message)
    return InvalidParameterValueException(message)


def route_for(method: str, url_path: str) -> OperationModel | None:
    """The operation a request line names, if any (for answers given before the body is read)."""
    try:
        route, _ = Router._match(method.upper(), url_path.partition("?")[0])
    except ServiceError:
        return None
    return route.operation


def error_response(error: ServiceError) -> HttpResponse:
    """An error answer botocore parses to ``error.code``: the code in ``X-Amzn-ErrorType`` and in
    the JSON body's ``__type`` (``RestJSONParser`` reads either), the message in ``message``."""
    return HttpResponse(
        status=error.status,
        headers={
            "Content-Type": "application/json",
            "X-Amzn-ErrorType": error.code,
        },
        body=json.dumps(error.to_wire()).encode(),
    )


# --------------------------------------------------------------------- input


def _parse_input(
    route: _Route, labels: dict[str, str], query: dict[str, list[str]], body: bytes
) -> dict[str, Any]:
    shape = route.operation.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    payload_member = shape.serialization.get("payload")
    body_members = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        if location == "uri":
            params[name] = labels[member.serialization.get("name", name)]
        elif location == "querystring":
            wire_name = member.serialization.get("name", name)
            if wire_name in query:
                params[name] = _from_query(name, member, query[wire_name])
        elif location == "header":
            continue
        elif name == payload_member:
            value = _parse_payload(name, member, body)
            if value is not None:
                params[name] = value
        else:
            body_members[name] = member
    if body_members and body.strip():
        document = _json_object(body)
        for name, member in body_members.items():
            if name in document and document[name] is not None:
                params[name] = _check_value(name, member, document[name], top_level=True)
    _check_required(shape, params, "")
    for name, member in shape.members.items():
        if name in params and member.serialization.get("location") in ("uri", "querystring"):
            _check_constraints(name, member, params[name])
    return params


def _parse_payload(name: str, member: Shape, body: bytes) -> Any:
    if member.type_name == "blob":
        return body if body else None
    if not body.strip():
        return None
    return _check_value(name, member, _json_object(body), top_level=True)


def _json_object(body: bytes) -> dict[str, Any]:
    _check_nesting(body)
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidParameterValueException(
            f"The request body is not valid JSON ({error}); send a JSON object"
        ) from None
    except ValueError as error:
        # Python refuses to convert an integer of more than 4300 digits (int_max_str_digits).
        raise InvalidParameterValueException(
            f"The request body has a number too large to read ({error}); no durable-execution "
            f"parameter takes an integer that long"
        ) from None
    except RecursionError:  # pragma: no cover - _check_nesting refuses such bodies first
        raise InvalidParameterValueException(
            f"The request body nests deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    if not isinstance(document, dict):
        raise InvalidParameterValueException(
            f"The request body must be a JSON object, not {type(document).__name__}"
        )
    return document


def _check_nesting(body: bytes) -> None:
    """Refuse JSON nested deeper than :data:`MAX_JSON_DEPTH` before parsing it: the parser
    would recurse once per level (a RecursionError, formerly answered as a 500). The model's
    deepest input shape nests a handful of levels; payloads are strings and do not count."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return  # cheap and exact upper bound: cannot nest deeper than it has brackets
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise InvalidParameterValueException(
                    f"The request body nests JSON deeper than {MAX_JSON_DEPTH} levels; no "
                    f"durable-execution input is nested that deep"
                )
        elif byte in (0x5D, 0x7D):
            depth -= 1


def _from_query(name: str, member: Shape, values: list[str]) -> Any:
    if member.type_name == "list":
        return [_scalar_from_text(name, member.member, v) for v in values]
    return _scalar_from_text(name, member, values[-1])


def _scalar_from_text(name: str, shape: Shape, text: str) -> Any:
    kind = shape.type_name
    try:
        if kind in {"integer", "long"}:
            return int(text)
        if kind == "boolean":
            if text not in ("true", "false"):
                raise ValueError(text)
            return text == "true"
        if kind == "timestamp":
            return _parse_timestamp(text)
    except ValueError:
        raise InvalidParameterValueException(f"{name}: {text!r} is not a valid {kind}") from None
    return text


def _parse_timestamp(text: str) -> _dt.datetime:
    try:
        seconds = float(text)
    except ValueError:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
    # Epoch seconds a datetime can hold (years 1..9999); inf, nan, 1e20 and -1e12 are not
    # timestamps (they used to overflow into a 500).
    if not _MIN_EPOCH_SECONDS <= seconds <= _MAX_EPOCH_SECONDS:
        raise ValueError(text)
    return EPOCH + _dt.timedelta(seconds=seconds)


_MIN_EPOCH_SECONDS = (_dt.datetime(1, 1, 2, tzinfo=_dt.UTC) - EPOCH).total_seconds()
_MAX_EPOCH_SECONDS = (_dt.datetime(9999, 12, 30, tzinfo=_dt.UTC) - EPOCH).total_seconds()


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "structure": (dict,),
    "list": (list,),
    "map": (dict,),
    "timestamp": (int, float, str),
    "blob": (str,),
    "double": (int, float),
    "float": (int, float),
}


def _check_value(path: str, shape: Shape, value: Any, *, top_level: bool = False) -> Any:
    """Check a JSON value against its shape's type (recursively) and return it."""
    expected = _JSON_TYPES.get(shape.type_name, (object,))
    if not isinstance(value, expected) or (
        shape.type_name in ("integer", "long") and isinstance(value, bool)
    ):
        raise InvalidParameterValueException(
            f"{path}: expected a {shape.type_name}, got {type(value).__name__} {value!r:.60}"
        )
    checked: Any = value  # its JSON type is now known; mypy cannot follow the tuple above
    if isinstance(shape, StructureShape):
        for name, member in shape.members.items():
            if name in checked and checked[name] is not None:
                _check_value(f"{path}.{name}", member, checked[name])
        _check_required(shape, checked, f"{path}.")
    elif shape.type_name == "list":
        for index, item in enumerate(checked):
            _check_value(f"{path}[{index}]", shape.member, item)
    if top_level:
        _check_constraints(path, shape, value)
    return value


def _check_required(shape: StructureShape, value: dict[str, Any], prefix: str) -> None:
    for name in shape.required_members:
        if value.get(name) is None:
            raise InvalidParameterValueException(f"Missing required parameter {prefix}{name}")


def _check_constraints(path: str, shape: Shape, value: Any) -> None:
    metadata = shape.metadata
    if shape.type_name == "string":
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            raise InvalidParameterValueException(
                f"{path}: {value!r} is not one of {', '.join(enum)}"
            )
        if "min" in metadata and len(value) < metadata["min"]:
            raise InvalidParameterValueException(
                f"{path}: length must be at least {metadata['min']}"
            )
        if "max" in metadata and len(value) > metadata["max"]:
            raise InvalidParameterValueException(
                f"{path}: length {len(value)} exceeds the maximum of {metadata['max']}"
            )
        if "pattern" in metadata and not re.fullmatch(metadata["pattern"], value):
            raise InvalidParameterValueException(
                f"{path}: {value!r:.80} does not match the pattern {metadata['pattern']}"
            )
    elif shape.type_name in ("integer", "long"):
        if "min" in metadata and value < metadata["min"]:
            raise InvalidParameterValueException(f"{path}: must be at least {metadata['min']}")
        if "max" in metadata and value > metadata["max"]:
            raise InvalidParameterValueException(f"{path}: must be at most {metadata['max']}")
    elif shape.type_name == "list":
        for item in value:
            _check_constraints(f"{path}[]", shape.member, item)


# -------------------------------------------------------------------- output


def _serialize_output(operation: OperationModel, output: dict[str, Any]) -> HttpResponse:
    shape = operation.output_shape
    status = int(operation.http.get("responseCode", 200))
    headers = {"Content-Type": "application/json"}
    if shape is None:
        return HttpResponse(status, headers, b"{}")
    document = _to_json(shape, output)
    return HttpResponse(status, headers, json.dumps(document, separators=(",", ":")).encode())


def _to_json(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return {
            name: _to_json(member, value[name])
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if kind == "list":
        return [_to_json(shape.member, item) for item in value]
    if kind == "map":
        return {k: _to_json(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        # Epoch seconds with millisecond precision, as the Lambda API sends them.
        return (value - EPOCH) / _dt.timedelta(milliseconds=1) / 1000
    if kind == "blob":
        raw = value if isinstance(value, bytes) else str(value).encode()
        return base64.b64encode(raw).decode("ascii")
    return value


__all__ = [
    "DURABLE_OPERATIONS",
    "FakeServiceBugError",
    "HttpResponse",
    "Router",
    "botocore_session",
    "error_response",
    "lambda_model",
]
