"""Requests no SDK would send, written byte by byte on a raw socket. Each gets an AWS-shaped
error (status, ``X-Amzn-ErrorType``, JSON body with ``__type`` and ``message``, which botocore's
own rest-json parser reads back to the same code), none changes the service's state, and the
server answers the next request as if nothing happened."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

import botocore.parsers
import pytest
from botocore.exceptions import ClientError
from http_helpers import (
    BASE,
    RawResponse,
    Served,
    connect,
    error_of,
    label,
    raw_exchange,
    read_response,
    request_bytes,
    step,
    wait,
)

from pytest_durable.transport.router import MAX_BODY_BYTES, lambda_model

Build = Callable[[str, str], bytes]  # (arn, token) -> request bytes


def assert_aws_error(response: RawResponse, status: int, code: str) -> str:
    assert response.status == status, response.body
    assert response.headers["x-amzn-errortype"] == code
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["__type"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    parsed = botocore.parsers.create_parser("rest-json").parse(
        {"status_code": response.status, "headers": response.headers, "body": response.body},
        lambda_model().operation_model("GetDurableExecution").output_shape,
    )
    assert parsed["Error"]["Code"] == code  # what a boto3 caller would catch
    return body["message"]


def assert_still_serving(served: Served, arn: str) -> None:
    assert served.client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"


def checkpoint(arn: str) -> str:
    return f"{BASE}/durable-executions/{label(arn)}/checkpoint"


def state(arn: str, query: str = "") -> str:
    return f"{BASE}/durable-executions/{label(arn)}/state{query}"


def execution(arn: str) -> str:
    return f"{BASE}/durable-executions/{label(arn)}"


def token_json(token: str, **members: object) -> bytes:
    return json.dumps({"CheckpointToken": token, **members}).encode()


# (id, request, status, code, a word the message must contain)
CASES: list[tuple[str, Build, int, str, str]] = [
    (
        "bad-json",
        lambda arn, token: request_bytes("POST", checkpoint(arn), b'{"CheckpointToken": '),
        400,
        "InvalidParameterValueException",
        "JSON",
    ),
    (
        "json-array",
        lambda arn, token: request_bytes("POST", checkpoint(arn), b"[1, 2]"),
        400,
        "InvalidParameterValueException",
        "object",
    ),
    (
        "not-utf8",
        lambda arn, token: request_bytes("POST", checkpoint(arn), b"\xff\xfe{}"),
        400,
        "InvalidParameterValueException",
        "JSON",
    ),
    (
        "unknown-route",
        lambda arn, token: request_bytes("GET", f"{BASE}/nothing-here"),
        404,
        "UnknownOperationException",
        "CheckpointDurableExecution",
    ),
    (
        "other-lambda-api",
        lambda arn, token: request_bytes("POST", "/2015-03-31/functions/orders/invocations"),
        404,
        "UnknownOperationException",
        "durable",
    ),
    (
        "get-on-checkpoint",
        lambda arn, token: request_bytes("GET", checkpoint(arn), token_json(token)),
        405,
        "MethodNotAllowedException",
        "POST",
    ),
    (
        "put-on-execution",
        lambda arn, token: request_bytes("PUT", execution(arn)),
        405,
        "MethodNotAllowedException",
        "DELETE or GET",
    ),
    (
        "options-on-state",
        lambda arn, token: request_bytes("OPTIONS", state(arn, f"?CheckpointToken={token}")),
        405,
        "MethodNotAllowedException",
        "GET",
    ),
    (
        "made-up-method",
        lambda arn, token: request_bytes("BREW", checkpoint(arn), token_json(token)),
        405,
        "MethodNotAllowedException",
        "BREW",
    ),
    (
        "missing-token",
        lambda arn, token: request_bytes("POST", checkpoint(arn), b'{"Updates": []}'),
        400,
        "InvalidParameterValueException",
        "CheckpointToken",
    ),
    (
        "missing-token-query",
        lambda arn, token: request_bytes("GET", state(arn)),
        400,
        "InvalidParameterValueException",
        "CheckpointToken",
    ),
    (
        "missing-update-type",
        lambda arn, token: request_bytes(
            "POST", checkpoint(arn), token_json(token, Updates=[{"Id": "s", "Action": "START"}])
        ),
        400,
        "InvalidParameterValueException",
        "Type",
    ),
    (
        "token-is-a-number",
        lambda arn, token: request_bytes("POST", checkpoint(arn), b'{"CheckpointToken": 12345}'),
        400,
        "InvalidParameterValueException",
        "CheckpointToken",
    ),
    (
        "updates-is-a-string",
        lambda arn, token: request_bytes("POST", checkpoint(arn), token_json(token, Updates="s")),
        400,
        "InvalidParameterValueException",
        "Updates",
    ),
    (
        "wait-seconds-is-a-string",
        lambda arn, token: request_bytes(
            "POST",
            checkpoint(arn),
            token_json(token, Updates=[{**wait("w"), "WaitOptions": {"WaitSeconds": "9"}}]),
        ),
        400,
        "InvalidParameterValueException",
        "WaitSeconds",
    ),
    (
        "max-items-not-an-integer",
        lambda arn, token: request_bytes("GET", state(arn, f"?CheckpointToken={token}&MaxItems=x")),
        400,
        "InvalidParameterValueException",
        "MaxItems",
    ),
    (
        "boolean-query-not-a-boolean",
        lambda arn, token: request_bytes("GET", execution(arn) + "?IncludeExecutionData=yes"),
        400,
        "InvalidParameterValueException",
        "IncludeExecutionData",
    ),
    (
        "stale-token",
        lambda arn, token: request_bytes(
            "POST", checkpoint(arn), token_json("c3RhbGU=", Updates=[step("s")])
        ),
        400,
        "InvalidParameterValueException",
        "Invalid checkpoint token",
    ),
]

# Requests whose framing is broken: the connection is closed after the answer.
FRAMING_CASES: list[tuple[str, Build, int, str, str]] = [
    (
        "content-length-not-a-number",
        lambda arn, token: request_bytes("POST", checkpoint(arn), b"{}", content_length="abc"),
        400,
        "InvalidRequestContentException",
        "Content-Length",
    ),
    (
        "content-length-negative",  # regression: killed the request thread without an answer
        lambda arn, token: request_bytes("POST", checkpoint(arn), b"{}", content_length="-5"),
        400,
        "InvalidRequestContentException",
        "Content-Length",
    ),
    (
        "content-length-fractional",
        lambda arn, token: request_bytes("POST", checkpoint(arn), b"{}", content_length="1.5"),
        400,
        "InvalidRequestContentException",
        "Content-Length",
    ),
    (
        "content-length-conflicting",
        lambda arn, token: request_bytes(
            "POST", checkpoint(arn), b"{}", headers={"Content-Length": "3"}
        ),
        400,
        "InvalidRequestContentException",
        "Conflicting",
    ),
    (
        "bad-chunk-size",
        lambda arn, token: request_bytes(
            "POST",
            checkpoint(arn),
            b"zz\r\n{}\r\n0\r\n\r\n",
            headers={"Transfer-Encoding": "chunked"},
            content_length="",
        ),
        400,
        "InvalidRequestContentException",
        "chunk",
    ),
    (
        "request-line-garbage",  # regression: answered with a bare HTML page, no status line
        lambda arn, token: b"GARBAGE\r\n\r\n",
        400,
        "InvalidRequestContentException",
        "GARBAGE",
    ),
    (
        "http-2-request-line",  # regression: answered with HTML
        lambda arn, token: b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
        505,
        "InvalidRequestContentException",
        "HTTP",
    ),
    (
        "header-line-too-long",  # regression: answered with HTML
        lambda arn, token: request_bytes("GET", execution(arn), headers={"X-Big": "a" * 70_000}),
        431,
        "InvalidRequestContentException",
        "too long",
    ),
]


@pytest.mark.parametrize(
    ("build", "status", "code", "word"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_malformed_request_is_answered_and_changes_nothing(
    served: Served, build: Build, status: int, code: str, word: str
):
    arn, token = served.running()
    before = served.snapshot()
    with connect(served.address) as sock:
        sock.sendall(build(arn, token))
        message = assert_aws_error(read_response(sock), status, code)
        assert word in message
        # The connection stays usable: the request was framed correctly, only its content was
        # wrong, so the next request on the same connection is answered too.
        sock.sendall(request_bytes("GET", execution(arn)))
        assert read_response(sock).status == 200
    assert served.snapshot() == before
    assert_still_serving(served, arn)
    # The token survived: the rejected request consumed nothing.
    assert served.checkpoint(arn, token, [step("after")])["CheckpointToken"]


@pytest.mark.parametrize(
    ("build", "status", "code", "word"),
    [pytest.param(*case[1:], id=case[0]) for case in FRAMING_CASES],
)
def test_unframeable_request_is_answered_then_the_connection_closes(
    served: Served, build: Build, status: int, code: str, word: str
):
    arn, token = served.running()
    before = served.snapshot()
    with connect(served.address) as sock:
        sock.sendall(build(arn, token))
        response = read_response(sock)
        message = assert_aws_error(response, status, code)
        assert word in message
        assert response.headers["connection"] == "close"
        assert sock.recv(1) == b""  # closed by the server, not left to hang
    assert served.snapshot() == before
    assert_still_serving(served, arn)


def test_oversized_body_is_refused_without_reading_it(served: Served):
    arn, _ = served.running()
    before = served.snapshot()
    with connect(served.address, timeout=5) as sock:
        declared = MAX_BODY_BYTES + 1
        head = request_bytes("POST", checkpoint(arn), content_length=str(declared))
        sock.sendall(head + b'{"CheckpointToken": "')  # and not one byte more
        started = time.monotonic()
        response = read_response(sock)
        # Answered with ~7 MiB still unsent: the server did not wait for the body (a wait
        # would end only at the socket's 5 s timeout). Room below it for a loaded machine.
        assert time.monotonic() - started < 4
        message = assert_aws_error(response, 400, "InvalidParameterValueException")
        assert str(declared) in message
        assert str(MAX_BODY_BYTES) in message
        assert response.headers["connection"] == "close"
        assert sock.recv(1) == b""
    assert served.snapshot() == before
    assert_still_serving(served, arn)


def test_oversized_body_with_expect_100_continue_is_refused_before_it_is_sent(served: Served):
    arn, _ = served.running()
    with connect(served.address, timeout=5) as sock:
        sock.sendall(
            request_bytes(
                "POST",
                checkpoint(arn),
                headers={"Expect": "100-continue"},
                content_length=str(MAX_BODY_BYTES + 10),
            )
        )
        response = read_response(sock)  # a final answer, not "100 Continue"
        assert_aws_error(response, 400, "InvalidParameterValueException")
    assert_still_serving(served, arn)


def test_oversized_body_from_boto3_is_a_client_error(served: Served):
    arn, token = served.running()
    before = served.snapshot()
    with pytest.raises(ClientError) as caught:
        served.checkpoint(arn, token, [step("big", "SUCCEED", Payload="x" * MAX_BODY_BYTES)])
    assert error_of(caught.value)[::2] == ("InvalidParameterValueException", 400)
    assert served.snapshot() == before
    assert_still_serving(served, arn)


def test_a_body_shorter_than_declared_is_refused(served: Served):
    arn, token = served.running()
    before = served.snapshot()
    with connect(served.address) as sock:
        body = token_json(token)
        sock.sendall(
            request_bytes("POST", checkpoint(arn), body, content_length=str(len(body) + 50))
        )
        sock.shutdown(socket.SHUT_WR)  # the client gives up mid-body
        response = read_response(sock)
    message = assert_aws_error(response, 400, "InvalidRequestContentException")
    assert f"after {len(body)} of {len(body) + 50} bytes" in message
    assert served.snapshot() == before
    assert_still_serving(served, arn)


def test_head_answer_has_no_body_and_the_connection_stays_in_step(served: Served):
    # Regression: a HEAD answer carried the error body, which a keep-alive client then read as
    # the start of the next response.
    arn, _ = served.running()
    with connect(served.address) as sock:
        sock.sendall(request_bytes("HEAD", execution(arn)) + request_bytes("GET", execution(arn)))
        head = read_response(sock, head=True)
        assert head.status == 405
        assert head.headers["x-amzn-errortype"] == "MethodNotAllowedException"
        assert int(head.headers["content-length"]) > 0  # what a GET-like answer would carry
        following = read_response(sock)
        assert following.status == 200
        assert following.json()["DurableExecutionArn"] == arn


def test_chunked_body_is_read(served: Served):
    # Regression: the chunks were ignored and then parsed as the next request (curl sends a
    # chunked body for --data-binary @-).
    arn, token = served.running()
    body = token_json(token, Updates=[step("chunky")])
    chunks = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:7], body[7:])
    )
    with connect(served.address) as sock:
        sock.sendall(
            request_bytes(
                "POST",
                checkpoint(arn),
                chunks + b"0\r\nX-Trailer: yes\r\n\r\n",
                headers={"Transfer-Encoding": "chunked"},
                content_length="",
            )
            + request_bytes("GET", execution(arn))
        )
        answer = read_response(sock)
        assert answer.status == 200, answer.body
        assert answer.json()["NewExecutionState"]["Operations"][0]["Id"] == "chunky"
        assert read_response(sock).status == 200  # the connection is still in step
    assert "chunky" in served.service.execution(arn).operations


def test_chunked_body_over_the_limit_is_refused(served: Served):
    arn, _ = served.running()
    with connect(served.address, timeout=5) as sock:
        sock.sendall(
            request_bytes(
                "POST",
                checkpoint(arn),
                f"{MAX_BODY_BYTES + 1:x}\r\n".encode(),
                headers={"Transfer-Encoding": "chunked"},
                content_length="",
            )
        )
        assert_aws_error(read_response(sock), 400, "InvalidParameterValueException")
    assert_still_serving(served, arn)


def test_raw_exchange_for_a_valid_request_matches_what_boto3_sees(served: Served):
    # The raw helpers agree with the client: a sanity check of the harness itself.
    arn, _ = served.running()
    raw = raw_exchange(served.address, request_bytes("GET", execution(arn)))
    assert raw.status == 200
    assert raw.json()["DurableExecutionArn"] == arn
    assert raw.headers["content-type"] == "application/json"
