"""Helpers for the service-model tests: a controllable clock, wire-shaped updates, and a
checker that holds every answer to the botocore ``lambda`` output shapes."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest

from pytest_durable.service import DurableService, InvalidParameterValueException, ServiceError

T0 = 1_700_000_000_000  # epoch ms; every test starts its clock here
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9+/]+={0,2}")  # botocore model: CheckpointToken
# the SDK's retryable prefix: docs/service-semantics.md#errors
INVALID_TOKEN = "Invalid checkpoint token"

_MODEL = botocore.session.get_session().get_service_model("lambda")


def at(ms: int) -> dt.datetime:
    """The aware UTC datetime for epoch milliseconds (what a boto3 caller receives)."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)


# ------------------------------------------------------------------- botocore shape checking


def assert_shape(shape_name: str, value: Any) -> None:
    """Fail unless ``value`` is exactly a value of the botocore shape: no unknown members, every
    required member present, types, enums, lengths, ranges and patterns respected, timestamps as
    aware datetimes."""
    _check(_MODEL.shape_for(shape_name), value, shape_name)


def assert_output(operation: str, value: Any) -> None:
    _check(_MODEL.operation_model(operation).output_shape, value, operation)


def _check(shape: Any, value: Any, path: str) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: expected a structure, got {value!r:.80}"
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: members not in botocore shape {shape.name}: {unknown}"
        for name in shape.required_members:
            assert name in value, f"{path}: required member {name} is missing"
        for name, item in value.items():
            _check(shape.members[name], item, f"{path}.{name}")
    elif kind == "list":
        assert isinstance(value, list), f"{path}: expected a list"
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: expected a string, got {value!r:.80}"
        if getattr(shape, "enum", None):
            assert value in shape.enum, f"{path}: {value!r} not in {shape.enum}"
        if "min" in meta:
            assert len(value) >= meta["min"], f"{path}: shorter than {meta['min']}"
        if "max" in meta:
            assert len(value) <= meta["max"], f"{path}: longer than {meta['max']}"
        if "pattern" in meta:
            assert re.fullmatch(meta["pattern"], value), f"{path}: {value!r} !~ {meta['pattern']}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int), f"{path}: expected an integer, got {value!r}"
        assert not isinstance(value, bool), f"{path}: expected an integer, got a bool"
        if "min" in meta:
            assert value >= meta["min"], f"{path}: below {meta['min']}"
        if "max" in meta:
            assert value <= meta["max"], f"{path}: above {meta['max']}"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{path}: expected a boolean"
    elif kind == "timestamp":
        assert isinstance(value, dt.datetime), f"{path}: expected a datetime, got {value!r}"
        assert value.tzinfo is not None, f"{path}: naive datetime"
    elif kind == "blob":
        assert isinstance(value, bytes | str), f"{path}: expected a blob"
    else:  # pragma: no cover - the durable shapes use no other kinds
        raise AssertionError(f"{path}: unexpected shape kind {kind}")


# ------------------------------------------------------------------------ wire-shaped updates


def update(op_type: str, action: str, op_id: str, **fields: Any) -> dict[str, Any]:
    """An OperationUpdate as the SDK's ``OperationUpdate.to_dict`` sends it."""
    wire: dict[str, Any] = {"Id": op_id}
    for key in ("ParentId", "Name"):
        if key in fields:
            wire[key] = fields.pop(key)
    wire["Type"] = op_type
    wire["SubType"] = fields.pop("SubType", _DEFAULT_SUB_TYPE.get(op_type))
    if wire["SubType"] is None:
        del wire["SubType"]
    wire["Action"] = action
    wire.update(fields)
    return wire


_DEFAULT_SUB_TYPE = {
    "STEP": "Step",
    "WAIT": "Wait",
    "CALLBACK": "Callback",
    "CONTEXT": "RunInChildContext",
    "CHAINED_INVOKE": "ChainedInvoke",
}


def step_start(op_id: str, **fields: Any) -> dict[str, Any]:
    return update("STEP", "START", op_id, **fields)


def step_succeed(op_id: str, payload: str | None = '"ok"', **fields: Any) -> dict[str, Any]:
    if payload is not None:
        fields["Payload"] = payload
    return update("STEP", "SUCCEED", op_id, **fields)


def step_fail(op_id: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("Error", {"ErrorType": "ValueError", "ErrorMessage": "boom"})
    return update("STEP", "FAIL", op_id, **fields)


def step_retry(op_id: str, delay: int = 5, **fields: Any) -> dict[str, Any]:
    if "Payload" not in fields:
        fields.setdefault("Error", {"ErrorType": "ValueError", "ErrorMessage": "try again"})
    return update("STEP", "RETRY", op_id, StepOptions={"NextAttemptDelaySeconds": delay}, **fields)


def wait_start(op_id: str, seconds: int = 10, **fields: Any) -> dict[str, Any]:
    return update("WAIT", "START", op_id, WaitOptions={"WaitSeconds": seconds}, **fields)


def context_start(op_id: str, **fields: Any) -> dict[str, Any]:
    return update("CONTEXT", "START", op_id, **fields)


def context_succeed(op_id: str, payload: str = '"done"', **fields: Any) -> dict[str, Any]:
    return update("CONTEXT", "SUCCEED", op_id, Payload=payload, **fields)


def callback_start(op_id: str, timeout: int = 0, heartbeat: int = 0, **fields: Any) -> dict:
    return update(
        "CALLBACK",
        "START",
        op_id,
        CallbackOptions={"TimeoutSeconds": timeout, "HeartbeatTimeoutSeconds": heartbeat},
        **fields,
    )


def invoke_start(op_id: str, function_name: str = "target", **fields: Any) -> dict[str, Any]:
    return update(
        "CHAINED_INVOKE",
        "START",
        op_id,
        Payload=fields.pop("Payload", '{"n": 1}'),
        ChainedInvokeOptions={"FunctionName": function_name},
        **fields,
    )


def execution_succeed(payload: str, op_id: str = "execution-result-1700000000000") -> dict:
    # The SDK's large-result update: no ParentId, Name or SubType
    # (docs/service-semantics.md#envelope).
    return {"Id": op_id, "Type": "EXECUTION", "Action": "SUCCEED", "Payload": payload}


def execution_fail(error: dict[str, Any], op_id: str = "execution-result-1700000000000") -> dict:
    return {"Id": op_id, "Type": "EXECUTION", "Action": "FAIL", "Error": error}


# ------------------------------------------------------------------------------ the harness


class Env:
    """A DurableService on a hand-driven clock, with shortcuts that keep calls wire-shaped."""

    def __init__(self, **service_kwargs: Any) -> None:
        self.now = [T0]
        self.service = DurableService(lambda: self.now[0], **service_kwargs)

    def advance(self, *, seconds: int = 0, ms: int = 0) -> None:
        self.now[0] += seconds * 1000 + ms

    def start(self, payload: str | None = '{"hello": "world"}', **kwargs: Any) -> str:
        kwargs.setdefault("function_name", "orders")
        return self.service.start_execution(input_payload=payload, **kwargs).arn

    def invoke(self, arn: str) -> str:
        """Begin an invocation; return the envelope's fresh CheckpointToken."""
        self.envelope = self.service.begin_invocation(arn)
        return self.envelope["CheckpointToken"]

    def checkpoint(
        self,
        arn: str,
        token: str,
        updates: list[dict[str, Any]],
        client_token: str | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "DurableExecutionArn": arn,
            "CheckpointToken": token,
            "Updates": updates,
        }
        if client_token is not None:
            params["ClientToken"] = client_token
        response = self.service.checkpoint_durable_execution(**params)
        assert_output("CheckpointDurableExecution", response)
        return response

    def all_operations(self, arn: str, token: str) -> list[dict[str, Any]]:
        """Every operation, read through GetDurableExecutionState as the SDK pages it."""
        operations: list[dict[str, Any]] = []
        marker = ""
        while True:
            page = self.service.get_durable_execution_state(
                DurableExecutionArn=arn, CheckpointToken=token, Marker=marker, MaxItems=1000
            )
            assert_output("GetDurableExecutionState", page)
            operations.extend(page["Operations"])
            marker = page.get("NextMarker", "")
            if not marker:
                return operations

    def history(self, arn: str) -> list[dict[str, Any]]:
        answer = self.service.get_durable_execution_history(
            DurableExecutionArn=arn, IncludeExecutionData=True
        )
        assert_output("GetDurableExecutionHistory", answer)
        return answer["Events"]

    def describe(self, arn: str) -> dict[str, Any]:
        answer = self.service.get_durable_execution(DurableExecutionArn=arn)
        assert_output("GetDurableExecution", answer)
        return answer

    def snapshot(self, arn: str) -> Any:
        """A deep copy of everything the service holds for one execution."""
        return copy.deepcopy(self.service.execution(arn))


class Running:
    """One execution with an invocation in progress; ``cp`` threads the token like the SDK."""

    def __init__(self, env: Env, arn: str) -> None:
        self.env = env
        self.arn = arn
        self.token = env.invoke(arn)

    def cp(self, *updates: dict[str, Any], client_token: str | None = None) -> dict[str, Any]:
        response = self.env.checkpoint(self.arn, self.token, list(updates), client_token)
        if "CheckpointToken" in response:
            self.token = response["CheckpointToken"]
        return response

    def ops(self, response: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {op["Id"]: op for op in response["NewExecutionState"]["Operations"]}

    def state(self) -> dict[str, dict[str, Any]]:
        return {op["Id"]: op for op in self.env.all_operations(self.arn, self.token)}

    @property
    def execution(self) -> Any:
        return self.env.service.execution(self.arn)

    @property
    def execution_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


def rejected(call: Callable[[], Any]) -> InvalidParameterValueException:
    """Run ``call``; it must raise InvalidParameterValueException (HTTP 400). Return the error."""
    with pytest.raises(InvalidParameterValueException) as caught:
        call()
    error = caught.value
    assert error.code == "InvalidParameterValueException"
    assert error.status == 400
    return error


def assert_token_rejected(error: ServiceError) -> None:
    assert error.message.startswith(INVALID_TOKEN), error.message
    assert str(error).startswith(INVALID_TOKEN)
