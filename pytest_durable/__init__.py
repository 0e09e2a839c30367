"""pytest-durable: test AWS Lambda durable functions against a faithful fake of the service.

The public API is re-exported here; see docs/ for a guide.
"""

from pytest_durable.clock import VirtualClock
from pytest_durable.errors import (
    ClockPatchError,
    DurableRunError,
    DurableTestError,
    ExecutionBlockedError,
    ExecutionStuckError,
    HandlerContractError,
    HandlerProcessCrash,
    HandlerTimeoutError,
    InvocationFailedError,
    TooManyInvocationsError,
    UnusedStepMockError,
)
from pytest_durable.runner import (
    Attempt,
    CheckpointCall,
    DurableEnvironment,
    DurableSettings,
    EmittedUpdate,
    ErrorInfo,
    ExecutionDriver,
    ExecutionResult,
    InvocationRecord,
    OperationView,
)
from pytest_durable.runner.callbacks import CallbackHandle, CallbackResponder, Failure
from pytest_durable.runner.lambda_process import SubprocessHandler
from pytest_durable.runner.mocks import StepCall, StepMock

__all__ = [
    "Attempt",
    "CallbackHandle",
    "CallbackResponder",
    "CheckpointCall",
    "ClockPatchError",
    "DurableEnvironment",
    "DurableRunError",
    "DurableSettings",
    "DurableTestError",
    "EmittedUpdate",
    "ErrorInfo",
    "ExecutionBlockedError",
    "ExecutionDriver",
    "ExecutionResult",
    "ExecutionStuckError",
    "Failure",
    "HandlerContractError",
    "HandlerProcessCrash",
    "HandlerTimeoutError",
    "InvocationFailedError",
    "InvocationRecord",
    "OperationView",
    "StepCall",
    "StepMock",
    "SubprocessHandler",
    "TooManyInvocationsError",
    "UnusedStepMockError",
    "VirtualClock",
]
