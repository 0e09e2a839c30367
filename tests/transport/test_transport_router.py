"""``Router.handle`` called directly with HTTP-shaped requests: every failure is answered as AWS
answers it (status, ``X-Amzn-ErrorType`` header, JSON body with ``__type`` and ``message``,
docs/service-semantics.md#errors) and the router never raises. Path labels arrive
percent-encoded (docs/service-semantics.md#client) and are decoded."""

import copy
from typing import Any
from urllib.parse import urlencode

import botocore.parsers
import botocore.session
import pytest
from transport_helpers import BASE, T0, Wired, label, parsed, step, wait

from pytest_durable.errors import FakeServiceBugError
from pytest_durable.transport import HttpResponse
from pytest_durable.transport.router import MAX_BODY_BYTES, MAX_JSON_DEPTH

_MODEL = botocore.session.get_session().get_service_model("lambda")


def botocore_error(response: HttpResponse, operation: str) -> dict[str, Any]:
    """What botocore's own rest-json parser makes of an answer."""
    parser = botocore.parsers.create_parser("rest-json")
    return parser.parse(
        {
            "status_code": response.status,
            "headers": response.headers,
            "body": response.body,
        },
        _MODEL.operation_model(operation).output_shape,
    )["Error"]


def assert_aws_error(
    response: HttpResponse, status: int, code: str, operation: str = "GetDurableExecution"
) -> str:
    assert isinstance(response, HttpResponse)
    assert response.status == status
    assert response.headers["X-Amzn-ErrorType"] == code
    assert response.headers["Content-Type"] == "application/json"
    body = parsed(response)
    assert body["__type"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    error = botocore_error(response, operation)
    assert error["Code"] == code
    assert error["Message"] == body["message"]
    return body["message"]


def checkpoint_path(arn: str) -> str:
    return f"{BASE}/durable-executions/{label(arn)}/checkpoint"


def state_path(arn: str, **query: str) -> str:
    return f"{BASE}/durable-executions/{label(arn)}/state?{urlencode(query)}"


# ------------------------------------------------------------------------------ success path


def test_percent_encoded_arn_in_the_path_is_decoded(wired: Wired):
    arn, token = wired.running()
    assert "%3A" in label(arn)
    assert "%2F" in label(arn)
    assert "%24" in label(arn)  # $LATEST
    response = wired.handle(
        "POST",
        checkpoint_path(arn),
        {"CheckpointToken": token, "Updates": [step("s1")], "ClientToken": "c"},
        {"Content-Type": "application/json"},
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    body = parsed(response)
    assert body["NewExecutionState"]["Operations"][0]["Id"] == "s1"
    assert "s1" in wired.service.execution(arn).operations


def test_timestamps_go_on_the_wire_as_epoch_seconds_with_milliseconds(wired: Wired):
    arn, token = wired.running()
    response = wired.handle("POST", checkpoint_path(arn), {"CheckpointToken": token, "Updates": []})
    token = parsed(response)["CheckpointToken"]
    response = wired.handle("GET", state_path(arn, CheckpointToken=token))
    assert response.status == 200
    (root,) = parsed(response)["Operations"]
    assert T0 == 1_700_000_000_123
    assert root["StartTimestamp"] == 1_700_000_000.123


def test_query_string_token_is_decoded(wired: Wired):
    # Tokens use + / =; botocore percent-encodes them in the query string.
    arn, token = wired.running()
    response = wired.handle("GET", state_path(arn, CheckpointToken=token, MaxItems="5"))
    assert response.status == 200, response.body


def test_output_omits_absent_members(wired: Wired):
    arn, token = wired.running()
    body = parsed(
        wired.handle(
            "POST",
            checkpoint_path(arn),
            {
                "CheckpointToken": token,
                "Updates": [{"Id": "r", "Type": "EXECUTION", "Action": "SUCCEED", "Payload": "1"}],
            },
        )
    )
    assert body == {"NewExecutionState": {"Operations": []}}


# ---------------------------------------------------------------------- AWS-shaped errors


def test_bad_json_body(wired: Wired):
    arn, _ = wired.running()
    response = wired.handle("POST", checkpoint_path(arn), b'{"CheckpointToken": ')
    message = assert_aws_error(response, 400, "InvalidParameterValueException")
    assert "JSON" in message


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"\xff\xfe\x00"])
def test_body_that_is_not_a_json_object(wired: Wired, body: bytes):
    arn, _ = wired.running()
    response = wired.handle("POST", checkpoint_path(arn), body)
    assert_aws_error(response, 400, "InvalidParameterValueException")


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/nothing-here",
        "/2015-03-31/functions/orders/invocations",
        f"{BASE}/durable-executions",
        "/",
        "",
    ],
)
def test_unknown_route_is_404(wired: Wired, path: str):
    response = wired.handle("GET", path)
    message = assert_aws_error(response, 404, "UnknownOperationException")
    assert "CheckpointDurableExecution" in message  # says what the fake serves


@pytest.mark.parametrize(
    ("method", "path_kind"),
    [("GET", "checkpoint"), ("PUT", "checkpoint"), ("POST", "state"), ("DELETE", "state")],
)
def test_wrong_method_on_a_known_route_is_405(wired: Wired, method: str, path_kind: str):
    arn, token = wired.running()
    path = checkpoint_path(arn) if path_kind == "checkpoint" else state_path(arn)
    response = wired.handle(method, path, {"CheckpointToken": token})
    message = assert_aws_error(response, 405, "MethodNotAllowedException")
    assert "POST" in message or "GET" in message
    # Nothing reached the service: the token is still good.
    assert wired.handle("POST", checkpoint_path(arn), {"CheckpointToken": token}).status == 200


def test_lower_case_method_is_accepted(wired: Wired):
    arn, token = wired.running()
    assert wired.handle("post", checkpoint_path(arn), {"CheckpointToken": token}).status == 200


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"Updates": []}, "CheckpointToken"),
        ({}, "CheckpointToken"),
        ({"CheckpointToken": "AAAA", "Updates": [{"Type": "STEP", "Action": "START"}]}, "Id"),
        ({"CheckpointToken": "AAAA", "Updates": [{"Id": "s", "Action": "START"}]}, "Type"),
        ({"CheckpointToken": "AAAA", "Updates": [{"Id": "s", "Type": "STEP"}]}, "Action"),
        (
            {"CheckpointToken": "AAAA", "Updates": [step("s", ChainedInvokeOptions={})]},
            "FunctionName",
        ),
    ],
)
def test_missing_required_member_is_400_and_names_it(wired: Wired, body, missing: str):
    arn, _ = wired.running()
    before = len(wired.service.execution(arn).history)
    response = wired.handle("POST", checkpoint_path(arn), body)
    message = assert_aws_error(response, 400, "InvalidParameterValueException")
    assert missing in message
    assert len(wired.service.execution(arn).history) == before


def test_missing_empty_body_is_missing_token(wired: Wired):
    arn, _ = wired.running()
    message = assert_aws_error(
        wired.handle("POST", checkpoint_path(arn), b""), 400, "InvalidParameterValueException"
    )
    assert "CheckpointToken" in message


def test_missing_required_query_member(wired: Wired):
    arn, _ = wired.running()
    response = wired.handle("GET", f"{BASE}/durable-executions/{label(arn)}/state")
    message = assert_aws_error(response, 400, "InvalidParameterValueException")
    assert "CheckpointToken" in message


@pytest.mark.parametrize(
    "body",
    [
        {"CheckpointToken": 12345},
        {"CheckpointToken": "AAAA", "Updates": "not-a-list"},
        {"CheckpointToken": "AAAA", "Updates": [{"Id": 1, "Type": "STEP", "Action": "START"}]},
        {
            "CheckpointToken": "AAAA",
            "Updates": [{**wait("w"), "WaitOptions": {"WaitSeconds": "9"}}],
        },
        {
            "CheckpointToken": "AAAA",
            "Updates": [{**wait("w"), "WaitOptions": {"WaitSeconds": True}}],
        },
        {"CheckpointToken": "not a token!"},
        {"CheckpointToken": ""},
        {"CheckpointToken": "A" * 2049},
    ],
    ids=[
        "token-int",
        "updates-str",
        "id-int",
        "seconds-str",
        "seconds-bool",
        "token-pattern",
        "token-empty",
        "token-too-long",
    ],
)
def test_wrongly_typed_or_constrained_member_is_400(wired: Wired, body):
    arn, _ = wired.running()
    response = wired.handle("POST", checkpoint_path(arn), body)
    assert_aws_error(response, 400, "InvalidParameterValueException")


@pytest.mark.parametrize("max_items", ["1001", "-1", "abc", "1.5"])
def test_bad_max_items_query_is_400(wired: Wired, max_items: str):
    arn, token = wired.running()
    response = wired.handle("GET", state_path(arn, CheckpointToken=token, MaxItems=max_items))
    message = assert_aws_error(response, 400, "InvalidParameterValueException")
    assert "MaxItems" in message


def test_bad_enum_query_is_400(wired: Wired):
    response = wired.handle("GET", f"{BASE}/functions/orders/durable-executions?Statuses=ASLEEP")
    message = assert_aws_error(response, 400, "InvalidParameterValueException")
    assert "ASLEEP" in message


def test_oversized_body_is_the_declared_invalid_parameter_error(wired: Wired):
    arn, _ = wired.running()
    response = wired.handle("POST", checkpoint_path(arn), b" " * (MAX_BODY_BYTES + 1))
    message = assert_aws_error(response, 400, "InvalidParameterValueException")
    assert str(MAX_BODY_BYTES) in message


def test_a_stale_token_answer_is_the_retryable_shape(wired: Wired):
    arn, token = wired.running()
    wired.handle("POST", checkpoint_path(arn), {"CheckpointToken": token})
    response = wired.handle("POST", checkpoint_path(arn), {"CheckpointToken": token})
    message = assert_aws_error(
        response, 400, "InvalidParameterValueException", "CheckpointDurableExecution"
    )
    assert message.startswith("Invalid checkpoint token")


def test_unknown_execution_is_404_resource_not_found(wired: Wired):
    arn = wired.start()
    missing = arn.rsplit("/", 1)[0] + "/missing"
    response = wired.handle("GET", f"{BASE}/durable-executions/{label(missing)}")
    assert_aws_error(response, 404, "ResourceNotFoundException")


def test_a_bug_in_the_fake_is_raised_as_the_fakes_with_its_traceback(wired: Wired, monkeypatch):
    # Regression: an unexpected exception was answered as a 500 ServiceException, which
    # botocore retried three times and the SDK took for a transient service failure.
    def explode(**_):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(wired.service, "get_durable_execution", explode)
    arn = wired.start()
    with pytest.raises(FakeServiceBugError) as caught:
        wired.handle("GET", f"{BASE}/durable-executions/{label(arn)}")
    message = str(caught.value)
    assert "bug in pytest-durable, not in your handler" in message
    assert "GetDurableExecution" in message
    assert "RuntimeError: kaboom" in message
    assert "in explode" in message  # the traceback, down to the failing frame
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert wired.router.bugs == [caught.value]


def test_a_bug_in_the_fake_reaches_a_boto3_caller_once_not_retried(wired: Wired, monkeypatch):
    calls = []

    def explode(**_):
        calls.append(1)
        raise KeyError("missing")

    monkeypatch.setattr(wired.service, "get_durable_execution", explode)
    with pytest.raises(FakeServiceBugError, match="KeyError"):
        wired.client.get_durable_execution(DurableExecutionArn=wired.start())
    assert len(calls) == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"CheckpointToken": 1' + b"1" * 5000 + b"}", id="integer-of-5001-digits"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-arrays"),
        pytest.param(b'{"a":' * 5000 + b"1" + b"}" * 5000, id="nested-objects"),
    ],
)
def test_unreadable_json_is_an_aws_shaped_400(wired: Wired, body: bytes):
    # Regression: these were 500 ServiceException (ValueError, RecursionError).
    arn, _ = wired.running()
    before = copy.deepcopy(wired.service.execution(arn))
    response = wired.handle("POST", checkpoint_path(arn), body)
    message = assert_aws_error(
        response, 400, "InvalidParameterValueException", "CheckpointDurableExecution"
    )
    assert "number too large" in message or "deeper than" in message
    assert wired.service.execution(arn) == before


def test_json_nested_as_deep_as_allowed_still_parses(wired: Wired):
    arn, token = wired.running()
    nested = "[" * (MAX_JSON_DEPTH - 2) + "]" * (MAX_JSON_DEPTH - 2)
    body = f'{{"CheckpointToken": "{token}", "Deep": {nested}, "S": "[[[[{{{{"}}'.encode()
    response = wired.handle("POST", checkpoint_path(arn), body)
    assert response.status == 200


@pytest.mark.parametrize("value", ["1e20", "-1e12", "inf", "-inf", "nan", "1e400"])
def test_an_out_of_range_timestamp_is_an_aws_shaped_400(wired: Wired, value: str):
    # Regression: StartedAfter=1e20 / -1e12 / inf overflowed into a 500.
    wired.start()
    response = wired.handle(
        "GET", f"{BASE}/functions/orders/durable-executions?StartedAfter={value}"
    )
    message = assert_aws_error(
        response, 400, "InvalidParameterValueException", "ListDurableExecutionsByFunction"
    )
    assert "StartedAfter" in message and value in message


def test_a_timestamp_in_range_is_read(wired: Wired):
    wired.start()
    response = wired.handle("GET", f"{BASE}/functions/orders/durable-executions?StartedAfter=0")
    assert response.status == 200
    assert len(parsed(response)["DurableExecutions"]) == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"{BASE}/durable-executions/x/checkpoint", None),
        ("", f"{BASE}/durable-executions/x/checkpoint", b"{}"),
        ("GET", f"{BASE}/durable-executions/%ZZ%/state?CheckpointToken=A", b""),
        ("GET", f"{BASE}/durable-executions/x/state?MaxItems=%FF&CheckpointToken=A", b""),
        ("POST", f"{BASE}/durable-execution-callbacks/%2F/succeed", b"\x00\x01"),
        ("GET", None, b""),
    ],
    ids=["body-none", "no-method", "bad-escape", "bad-query-escape", "binary", "path-none"],
)
def test_the_router_never_raises(wired: Wired, method, path, body):
    response = wired.router.handle(method, path, {}, body)
    assert isinstance(response, HttpResponse)
    assert response.status >= 400
    assert parsed(response)["__type"] == response.headers["X-Amzn-ErrorType"]
