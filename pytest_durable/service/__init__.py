"""A pure, in-memory model of the Lambda durable-execution API (no I/O, no pytest, no SDK)."""

from pytest_durable.errors import (
    INVALID_TOKEN_PREFIX,
    InvalidCheckpointTokenError,
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
    ServiceError,
)
from pytest_durable.service.invocation_output import MAX_IDLE_PENDING_INVOCATIONS
from pytest_durable.service.model import (
    Execution,
    ExecutionStatus,
    Operation,
    OperationAction,
    OperationStatus,
    OperationType,
    ms_to_datetime,
)
from pytest_durable.service.service import DurableService, InvocationEnd

__all__ = [
    "INVALID_TOKEN_PREFIX",
    "MAX_IDLE_PENDING_INVOCATIONS",
    "DurableService",
    "Execution",
    "ExecutionStatus",
    "InvalidCheckpointTokenError",
    "InvalidParameterValueException",
    "InvocationEnd",
    "Operation",
    "OperationAction",
    "OperationStatus",
    "OperationType",
    "ResourceConflictException",
    "ResourceNotFoundException",
    "ServiceError",
    "ms_to_datetime",
]
