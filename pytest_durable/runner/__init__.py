"""Lambda's part: invoke the handler, interpret its output, move virtual time, re-invoke."""

from pytest_durable.errors import (
    DurableRunError,
    ExecutionBlockedError,
    ExecutionStuckError,
    HandlerContractError,
    HandlerTimeoutError,
    InvocationFailedError,
    TooManyInvocationsError,
)
from pytest_durable.runner.checkpoints import CheckpointCall
from pytest_durable.runner.driver import ExecutionDriver
from pytest_durable.runner.environment import DurableEnvironment, DurableSettings
from pytest_durable.runner.result import (
    Attempt,
    EmittedUpdate,
    ErrorInfo,
    ExecutionResult,
    InvocationRecord,
    OperationView,
)

__all__ = [
    "Attempt",
    "CheckpointCall",
    "DurableEnvironment",
    "DurableRunError",
    "DurableSettings",
    "EmittedUpdate",
    "ErrorInfo",
    "ExecutionBlockedError",
    "ExecutionDriver",
    "ExecutionResult",
    "ExecutionStuckError",
    "HandlerContractError",
    "HandlerTimeoutError",
    "InvocationFailedError",
    "InvocationRecord",
    "OperationView",
    "TooManyInvocationsError",
]
