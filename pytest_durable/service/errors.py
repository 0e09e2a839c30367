"""Errors the durable-execution service answers with.

Each error carries the AWS error code (the name botocore reads from ``X-Amzn-ErrorType`` or
``__type``), the HTTP status the Lambda API uses for it, and a message. The codes are those the
botocore ``lambda`` model declares for the durable APIs; the SDK classifies them by code and, for
``InvalidParameterValueException``, by whether the message starts with "Invalid checkpoint token"
(``aws_durable_execution_sdk_python/exceptions.py::BotoClientError._classify_error_category``).
"""

from __future__ import annotations

from typing import ClassVar

# The SDK retries an invocation only for InvalidParameterValueException messages with this prefix.
INVALID_TOKEN_PREFIX = "Invalid checkpoint token"


class ServiceError(Exception):
    """An error answer from the service: code, HTTP status and message, as on the wire."""

    code: ClassVar[str] = "ServiceException"
    status: ClassVar[int] = 500
    error_kind: ClassVar[str] = "Service"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_wire(self) -> dict[str, str]:
        """The JSON error body. Real Lambda sends ``Type`` and ``message``; ``__type`` is added so
        any JSON-protocol parser finds the code even without the ``X-Amzn-ErrorType`` header."""
        return {"__type": self.code, "Type": self.error_kind, "message": self.message}


class InvalidParameterValueException(ServiceError):
    code = "InvalidParameterValueException"
    status = 400
    error_kind = "User"


class InvalidCheckpointTokenError(InvalidParameterValueException):
    """A stale, foreign or spent checkpoint token. The SDK treats it as retryable."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"{INVALID_TOKEN_PREFIX}: {detail}")


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"
    status = 404
    error_kind = "User"


class ResourceConflictException(ServiceError):
    code = "ResourceConflictException"
    status = 409
    error_kind = "User"


class CallbackTimeoutException(ServiceError):
    code = "CallbackTimeoutException"
    status = 400
    error_kind = "User"


class TooManyRequestsException(ServiceError):
    code = "TooManyRequestsException"
    status = 429
    error_kind = "User"


class ServiceException(ServiceError):
    code = "ServiceException"
    status = 500
    error_kind = "Service"


class KMSAccessDeniedException(ServiceError):
    code = "KMSAccessDeniedException"
    status = 502
    error_kind = "Service"


class KMSDisabledException(ServiceError):
    code = "KMSDisabledException"
    status = 502
    error_kind = "Service"


class KMSInvalidStateException(ServiceError):
    code = "KMSInvalidStateException"
    status = 502
    error_kind = "Service"


class KMSNotFoundException(ServiceError):
    code = "KMSNotFoundException"
    status = 502
    error_kind = "Service"
