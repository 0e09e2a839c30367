"""Lambda's part: invoke the handler, interpret its output, move virtual time, re-invoke."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_durable.lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, the table below
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
    from pytest_durable.runner.environment import DurableEnvironment
    from pytest_durable.runner.operations import Attempt, OperationView
    from pytest_durable.runner.payloads import ErrorInfo
    from pytest_durable.runner.result import ExecutionResult, InvocationRecord
    from pytest_durable.runner.settings import DurableSettings
    from pytest_durable.runner.updates import EmittedUpdate

_HOMES = {
    "DurableRunError": "pytest_durable.errors",
    "ExecutionBlockedError": "pytest_durable.errors",
    "ExecutionStuckError": "pytest_durable.errors",
    "HandlerContractError": "pytest_durable.errors",
    "HandlerTimeoutError": "pytest_durable.errors",
    "InvocationFailedError": "pytest_durable.errors",
    "TooManyInvocationsError": "pytest_durable.errors",
    "CheckpointCall": "pytest_durable.runner.checkpoints",
    "ExecutionDriver": "pytest_durable.runner.driver",
    "DurableEnvironment": "pytest_durable.runner.environment",
    "DurableSettings": "pytest_durable.runner.settings",
    "Attempt": "pytest_durable.runner.operations",
    "EmittedUpdate": "pytest_durable.runner.updates",
    "ErrorInfo": "pytest_durable.runner.payloads",
    "ExecutionResult": "pytest_durable.runner.result",
    "InvocationRecord": "pytest_durable.runner.result",
    "OperationView": "pytest_durable.runner.operations",
}
__getattr__ = lazy_exports(globals(), _HOMES)

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
