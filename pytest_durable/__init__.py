"""pytest-durable: test AWS Lambda durable functions against a faithful fake of the service.

The public API is re-exported here; see docs/ for a guide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_durable.lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, the table below
    from pytest_durable.cassette.replay.checker import ReplayChecker
    from pytest_durable.clock import VirtualClock
    from pytest_durable.errors import (
        ClockPatchError,
        DurableRunError,
        DurableTestError,
        ExecutionBlockedError,
        ExecutionStuckError,
        FakeServiceBugError,
        HandlerContractError,
        HandlerProcessCrash,
        HandlerTimeoutError,
        InvocationFailedError,
        LocalOnlyError,
        ReplayDivergenceError,
        StoreError,
        TooManyInvocationsError,
        UnusedStepMockError,
    )
    from pytest_durable.plugin.fixtures import DurableEndpoint
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
    from pytest_durable.runner.fuzzing import FuzzReport
    from pytest_durable.runner.lambda_process import SubprocessHandler
    from pytest_durable.runner.mocks import StepCall, StepMock
    from pytest_durable.store import SqliteStore
    from pytest_durable.transport.faults import FaultPlan, InjectedFault

_HOMES = {
    "VirtualClock": "pytest_durable.clock",
    "ClockPatchError": "pytest_durable.errors",
    "DurableRunError": "pytest_durable.errors",
    "DurableTestError": "pytest_durable.errors",
    "ExecutionBlockedError": "pytest_durable.errors",
    "ExecutionStuckError": "pytest_durable.errors",
    "FakeServiceBugError": "pytest_durable.errors",
    "ReplayDivergenceError": "pytest_durable.errors",
    "HandlerContractError": "pytest_durable.errors",
    "HandlerProcessCrash": "pytest_durable.errors",
    "HandlerTimeoutError": "pytest_durable.errors",
    "InvocationFailedError": "pytest_durable.errors",
    "LocalOnlyError": "pytest_durable.errors",
    "TooManyInvocationsError": "pytest_durable.errors",
    "UnusedStepMockError": "pytest_durable.errors",
    "Attempt": "pytest_durable.runner",
    "CheckpointCall": "pytest_durable.runner",
    "DurableEnvironment": "pytest_durable.runner",
    "DurableSettings": "pytest_durable.runner",
    "EmittedUpdate": "pytest_durable.runner",
    "ErrorInfo": "pytest_durable.runner",
    "ExecutionDriver": "pytest_durable.runner",
    "ExecutionResult": "pytest_durable.runner",
    "InvocationRecord": "pytest_durable.runner",
    "OperationView": "pytest_durable.runner",
    "CallbackHandle": "pytest_durable.runner.callbacks",
    "CallbackResponder": "pytest_durable.runner.callbacks",
    "Failure": "pytest_durable.runner.callbacks",
    "SubprocessHandler": "pytest_durable.runner.lambda_process",
    "StepCall": "pytest_durable.runner.mocks",
    "StepMock": "pytest_durable.runner.mocks",
    "SqliteStore": "pytest_durable.store",
    "StoreError": "pytest_durable.errors",
    "FuzzReport": "pytest_durable.runner.fuzzing",
    "FaultPlan": "pytest_durable.transport.faults",
    "InjectedFault": "pytest_durable.transport.faults",
    "DurableEndpoint": "pytest_durable.plugin.fixtures",
    "ReplayChecker": "pytest_durable.cassette.replay.checker",
}
__getattr__ = lazy_exports(globals(), _HOMES)

__all__ = [
    "Attempt",
    "CallbackHandle",
    "CallbackResponder",
    "CheckpointCall",
    "ClockPatchError",
    "DurableEndpoint",
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
    "FakeServiceBugError",
    "FaultPlan",
    "FuzzReport",
    "HandlerContractError",
    "HandlerProcessCrash",
    "HandlerTimeoutError",
    "InjectedFault",
    "InvocationFailedError",
    "InvocationRecord",
    "LocalOnlyError",
    "OperationView",
    "ReplayChecker",
    "ReplayDivergenceError",
    "SqliteStore",
    "StepCall",
    "StepMock",
    "StoreError",
    "SubprocessHandler",
    "TooManyInvocationsError",
    "UnusedStepMockError",
    "VirtualClock",
]
