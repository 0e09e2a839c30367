"""vcrpy, configured for the Lambda durable-execution APIs.

vcrpy records and replays the HTTP of the test process (Invoke, GetDurableExecution, history
pages, callback answers). Its defaults do not fit these APIs: the execution ARN and CallbackId
sit in the URL path (new on every run), botocore fills a random ``ClientToken`` into bodies, and
SigV4 headers change on every request. So:

- requests are matched by :func:`match_durable_request`: method, path with ARNs, CallbackIds and
  function names normalised, query, and the JSON body without ``ClientToken``; repeated identical
  requests (polling) are told apart by order, which is what vcrpy does with requests it already
  played;
- before anything is recorded, and before a live request is compared, headers are reduced to an
  allowlist and ``ClientToken`` is removed (:mod:`.scrub`);
- the interactions live inside the pytest-durable cassette document, written and read by
  :class:`DocumentPersister` (vcrpy's persister extension point), next to the executions.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import vcr
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request

from pytest_durable.cassette.recording.format import (
    Cassette,
    RecordedExecution,
    decode_body,
    dump_document,
    encode_body,
    read_cassette,
)
from pytest_durable.cassette.recording.scrub import (
    REQUEST_HEADERS,
    RESPONSE_HEADERS,
    accounts_in,
    find_secrets,
    keep_headers,
    mask_accounts,
    without_volatile_members,
)
from pytest_durable.errors import CassetteLeakError

Matcher = Callable[[Request, Request], None]
DocumentHook = Callable[[dict[str, Any], Path], None]

# Labels of the Lambda API paths whose values are minted per run.
_EXECUTION_LABEL = re.compile(r"(/durable-executions/)([^/]+)")
_CALLBACK_LABEL = re.compile(r"(/durable-execution-callbacks/)([^/]+)")
_FUNCTION_LABEL = re.compile(r"(/functions/)([^/]+)")


# ----------------------------------------------------------------- matching


def normalized_path(uri: str) -> str:
    """The request path with run-specific labels replaced: ``/durable-executions/{execution}``,
    ``/durable-execution-callbacks/{callback}``, ``/functions/{function}``."""
    path = urllib.parse.urlsplit(uri).path
    path = _EXECUTION_LABEL.sub(r"\1{execution}", path)
    path = _CALLBACK_LABEL.sub(r"\1{callback}", path)
    return _FUNCTION_LABEL.sub(r"\1{function}", path)


def _body_value(request: Request) -> Any:
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if body is None or body in (b"", ""):
        return None
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)
    try:
        return json.loads(text)
    except ValueError:
        return text


def match_durable_request(live: Request, recorded: Request) -> None:
    """vcrpy matcher (raises AssertionError on a mismatch, saying what differs)."""
    if live.method != recorded.method:
        raise AssertionError(f"method {live.method} != {recorded.method}")
    live_path, recorded_path = normalized_path(live.uri), normalized_path(recorded.uri)
    if live_path != recorded_path:
        raise AssertionError(f"path {live_path} != {recorded_path}")
    if live.query != recorded.query:
        raise AssertionError(f"query {live.query} != {recorded.query}")
    live_body, recorded_body = _body_value(live), _body_value(recorded)
    if live_body != recorded_body:
        raise AssertionError(f"body {live_body!r:.200} != {recorded_body!r:.200}")


# ----------------------------------------------------------------- scrubbing


def scrub_request(request: Request) -> Request:
    """Keep only allowlisted headers and drop ``ClientToken`` (vcrpy passes a copy)."""
    request.headers = keep_headers(dict(request.headers), REQUEST_HEADERS)
    request.body = without_volatile_members(request.body)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = keep_headers(response.get("headers") or {}, RESPONSE_HEADERS)
    return response


# ----------------------------------------------------------------- persistence


def _request_document(request: Request) -> dict[str, Any]:
    headers = {name: _text(value) for name, value in request.headers.items()}
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    return {
        "method": request.method,
        "uri": request.uri,
        "headers": dict(sorted(headers.items())),
        "body": encode_body(body),
    }


def _text(value: Any) -> str:
    """Header values as text (botocore sets some as bytes)."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _response_document(response: dict[str, Any]) -> dict[str, Any]:
    headers = {}
    for name, values in (response.get("headers") or {}).items():
        listed = list(values) if isinstance(values, list | tuple) else [values]
        texts = [_text(value) for value in listed]
        headers[name] = texts[0] if len(texts) == 1 else texts
    status = response.get("status") or {}
    return {
        "status": {"code": int(status.get("code", 200)), "message": status.get("message", "")},
        "headers": dict(sorted(headers.items())),
        "body": encode_body((response.get("body") or {}).get("string")),
    }


def request_from_document(document: dict[str, Any]) -> Request:
    headers = {str(k): str(v) for k, v in (document.get("headers") or {}).items()}
    body = decode_body(document.get("body"))
    return Request(document["method"], document["uri"], body or None, headers)


def response_from_document(document: dict[str, Any]) -> dict[str, Any]:
    headers = {}
    for name, value in (document.get("headers") or {}).items():
        headers[str(name)] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    status = document.get("status") or {}
    return {
        "status": {"code": int(status.get("code", 200)), "message": status.get("message", "")},
        "headers": headers,
        "body": {"string": decode_body(document.get("body"))},
    }


class DocumentPersister:
    """vcrpy's persister for one cassette: interactions inside the pytest-durable document.

    vcrpy calls ``load_cassette`` when the cassette is entered and ``save_cassette`` when it
    leaves with something new. Before saving, the owner sets :attr:`executions` (what this run
    observed); the document is then masked, passed to the scrub hooks, checked for secrets, and
    written in one piece.
    """

    def __init__(
        self,
        *,
        source: str,
        recorded: dict[str, Any],
        secrets: Sequence[str | None] = (),
        mask_account: bool = False,
        hooks: Sequence[DocumentHook] = (),
    ) -> None:
        self.source = source
        self.recorded = dict(recorded)
        self.secrets = list(secrets)
        self.mask_account = mask_account
        self.hooks = list(hooks)
        #: The cassette as it was loaded (None if there was no file).
        self.loaded: Cassette | None = None
        #: Executions this run observed; merged into the loaded ones by ARN when saving.
        self.executions: list[RecordedExecution] = []
        #: Whether executions absent from this run are dropped (record mode ``all``).
        self.replace_executions = False
        self.written: list[Path] = []
        #: Whether ``save_cassette`` writes (off for a failed test or a replay).
        self.enabled = True

    def load_cassette(self, cassette_path: str | Path, serializer: Any = None) -> Any:
        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        self.loaded = read_cassette(path)
        requests, responses = [], []
        for interaction in self.loaded.interactions:
            requests.append(request_from_document(interaction["request"]))
            responses.append(response_from_document(interaction["response"]))
        return requests, responses

    def save_cassette(
        self, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any = None
    ) -> None:
        if not self.enabled:
            return
        path = Path(cassette_path)
        interactions = [
            {"request": _request_document(request), "response": _response_document(response)}
            for request, response in zip(
                cassette_dict["requests"], cassette_dict["responses"], strict=True
            )
        ]
        self.write(path, interactions)

    def write(self, path: Path, interactions: list[dict[str, Any]]) -> Path:
        """Compose the document from this run, scrub it and write it (or refuse to)."""
        executions = self._merged_executions()
        cassette = Cassette(
            source=self.source,
            recorded=self.recorded,
            executions=executions,
            interactions=interactions,
        )
        document = cassette.to_document()
        if self.mask_account:
            document = mask_accounts(document, accounts_in(document))
        for hook in self.hooks:
            hook(document, path)
        text = dump_document(document)
        leaked = find_secrets(text, self.secrets)
        if leaked:
            raise CassetteLeakError(
                f"Not writing {path}: it would contain {', '.join(leaked)}. Remove it in a "
                f"pytest_durable_scrub_cassette hook, or report the header or field it is in."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.written.append(path)
        return path

    def _merged_executions(self) -> list[RecordedExecution]:
        if self.replace_executions or self.loaded is None:
            return list(self.executions)
        merged = {execution.arn: execution for execution in self.loaded.executions}
        for execution in self.executions:
            merged[execution.arn] = execution
        return list(merged.values())


def use_cassette(
    path: Path,
    *,
    record_mode: str,
    persister: DocumentPersister,
    extra_matchers: Sequence[Matcher] = (),
) -> Any:
    """vcrpy's cassette context for ``path`` with the durable matcher and scrubbing."""
    recorder = vcr.VCR(
        record_mode=record_mode,
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
        drop_unused_requests=record_mode == "all",
    )
    names = ["durable_request"]
    recorder.register_matcher("durable_request", match_durable_request)
    for index, matcher in enumerate(extra_matchers):
        name = f"custom_{index}"
        recorder.register_matcher(name, matcher)
        names.append(name)
    recorder.register_persister(persister)
    return recorder.use_cassette(str(path), match_on=names, record_on_exception=False)
