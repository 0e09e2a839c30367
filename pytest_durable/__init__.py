"""pytest-durable: test AWS Lambda durable functions against a faithful fake of the service.

The public API is re-exported here; see docs/ for a guide.
"""

from pytest_durable.clock import VirtualClock
from pytest_durable.runner import (
    Attempt,
    CheckpointCall,
    DurableEnvironment,
    DurableRunError,
    DurableSettings,
    EmittedUpdate,
    ErrorInfo,
    ExecutionBlockedError,
    ExecutionDriver,
    ExecutionResult,
    ExecutionStuckError,
    HandlerContractError,
    HandlerTimeoutError,
    InvocationFailedError,
    InvocationRecord,
    OperationView,
    TooManyInvocationsError,
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
    "VirtualClock",
]
