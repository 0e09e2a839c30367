"""Every exception pytest-durable raises, under one root a user can catch: ``DurableTestError``.

One module, so a reader finds every failure the tool can report in one place, and a caller can
write ``except DurableTestError`` without knowing which layer raised. Where an error is also a
kind of builtin error (an assertion, a missing file, a blocked socket), it keeps that base too, so
``pytest.raises(AssertionError)`` and ``except OSError`` still see it.

Misuse of an argument (a wrong type, a negative duration, an unknown name) raises the builtin
``TypeError``, ``ValueError`` or ``LookupError`` with a message that names the argument: those are
programming errors to fix, not outcomes to catch.

The service's errors carry the AWS error code (the name botocore reads from ``X-Amzn-ErrorType``
or ``__type``), the HTTP status the Lambda API uses for it, and a message. The codes are those the
botocore ``lambda`` model declares for the durable APIs; the SDK classifies them by code and, for
``InvalidParameterValueException``, by whether the message starts with "Invalid checkpoint token"
(``aws_durable_execution_sdk_python/exceptions.py::BotoClientError._classify_error_category``;
see docs/service-semantics.md#errors).
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # for annotations only: this module imports nothing of the package at run time
    from pytest_durable.assertions.matching import MatchReport
    from pytest_durable.cassette.replay.report import ReplayReport

# The SDK retries an invocation only for InvalidParameterValueException messages with this prefix.
INVALID_TOKEN_PREFIX = "Invalid checkpoint token"


class DurableTestError(Exception):
    """The root of every pytest-durable error."""


# ---------------------------------------------------------------- the service's answers (wire)


class ServiceError(DurableTestError):
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


class BatchRejected(InvalidParameterValueException):
    """A batch refused as a whole; the message names the update and the broken rule."""


class UnknownOperationException(ServiceError):
    code = "UnknownOperationException"
    status = 404
    error_kind = "User"


class MethodNotAllowedException(ServiceError):
    code = "MethodNotAllowedException"
    status = 405
    error_kind = "User"


class RequestTooLargeException(ServiceError):
    code = "RequestTooLargeException"
    status = 413
    error_kind = "User"


class InvalidRequestContentException(ServiceError):
    """Lambda's code for a request it cannot frame or whose headers are invalid (model docs:
    "a request header is invalid"): a bad Content-Length, broken chunks, a bad request line."""

    code = "InvalidRequestContentException"
    status = 400
    error_kind = "User"


class FakeServiceBugError(DurableTestError, RuntimeError):
    """An unexpected exception inside the fake service: a bug in pytest-durable, not in the code
    under test. Raised to the in-process caller (never answered as a 500 that botocore would
    retry), with the original exception chained and its traceback in the message."""

    def __init__(self, api: str, error: BaseException) -> None:
        trace = "".join(traceback.format_exception(error)).rstrip()
        super().__init__(
            f"pytest-durable's fake service failed on {api} with {type(error).__name__}: {error}."
            f" This is a bug in pytest-durable, not in your handler; please report it with this "
            f"traceback:\n{trace}"
        )
        self.api = api
        self.error = error


class DurableExecutionAlreadyStartedException(ServiceError):
    """Invoke's error for a DurableExecutionName reused with a different payload (model: 409)."""

    code: ClassVar[str] = "DurableExecutionAlreadyStartedException"
    status: ClassVar[int] = 409
    error_kind: ClassVar[str] = "User"


# ---------------------------------------------------------------- running an execution


class DurableRunError(DurableTestError):
    """A durable execution could not be driven to its end."""

    #: The execution as the run left it (an ``ExecutionResult``), when the error ends a run
    #: whose execution the service settled itself, e.g. failed for an invalid handler output.
    result: Any = None


def hide_frames_of_run_errors(excinfo: Any) -> bool:
    """A ``__tracebackhide__`` for the frames that drive a run: pytest leaves them out of a
    failure whose error is a :class:`DurableRunError` (its message says what stopped the run;
    the frames are only the scheduler's), so the failure points at the test's own line. For
    any other error, a bug in the fake included, they stay."""
    return bool(excinfo.errisinstance(DurableRunError))


class HandlerContractError(DurableRunError):
    """The handler's answer is not a durable invocation output."""


class ExecutionStuckError(DurableRunError):
    """The handler suspended (PENDING) but nothing it could wait for is pending."""


class ExecutionBlockedError(DurableRunError):
    """The execution waits for something only the test can provide (a callback answer)."""


class InvocationFailedError(DurableRunError):
    """The handler crashed on too many consecutive invocations."""


class TooManyInvocationsError(DurableRunError):
    """The execution needed more invocations than the run allows."""


class UnusedStepMockError(DurableTestError, AssertionError):
    """A step declared with ``mock_step`` never reached its body: the test fails, naming the
    steps that did run."""


class HandlerTimeoutError(DurableTestError, RuntimeError):
    """The handler did not return within the wall-clock limit (it is hung, not slow in virtual
    time: durable waits never block). Its sandbox was killed (``runner/sandbox.py``): nothing
    more of that invocation reaches the service, and the process can exit at once."""


class SandboxDied(DurableTestError):
    """Raised on the request an injected ``kill_sandbox`` hit. An ``Exception`` (unlike
    :class:`SandboxKilled`): the SDK's checkpoint loop catches it and fails every thread waiting
    on the checkpoint, so the dead invocation's threads unwind rather than wait forever."""


class SandboxKilled(BaseException):
    """Raised in the threads of a killed sandbox (``runner/sandbox.py``): the invocation they
    belong to is over. A ``BaseException``, like the ``SystemExit`` it stands for, so neither
    the SDK nor ordinary ``except Exception`` blocks take it for a failure to report. As an
    invocation's outcome it is a crash, reported as Lambda reports a runtime that died."""

    error_type = "Runtime.ExitError"


class HandlerProcessCrash(DurableTestError, RuntimeError):
    """The handler raised (or the process died) in the child process."""

    def __init__(self, error_type: str, message: str, stack: str) -> None:
        super().__init__(f"{error_type}: {message}\n--- in the handler process ---\n{stack}")
        self.error_type = error_type


class CloudRunError(DurableRunError):
    """A cloud-mode run could not proceed (not a durable function, a request that failed)."""


class LocalOnlyError(DurableTestError, AttributeError):
    """A verb of the local fake (the virtual clock, the service, registered invoke targets) was
    used in cloud mode, where the execution runs in Lambda."""


class CloudTimeoutError(CloudRunError):
    """The execution did not end within the polling timeout."""


# ---------------------------------------------------------------- time


class ClockPatchError(DurableTestError, RuntimeError):
    """A user's time tool (time-machine, freezegun) in a durable test asked for something the
    durable clock cannot do: go back in time, or tick on every read. The message says what to
    do instead."""


# ---------------------------------------------------------------- assertions


class MismatchError(DurableTestError, AssertionError):
    """An expectation did not match; ``report`` has every mismatch and the diff."""

    def __init__(self, report: MatchReport, hint: str = "") -> None:
        self.report = report
        super().__init__(report.explain() + (f"\n\n{hint}" if hint else ""))


# ---------------------------------------------------------------- cassettes and replay


class CassetteFormatError(DurableTestError, ValueError):
    """The file is not a pytest-durable cassette this version can read."""


class StoreError(DurableTestError, RuntimeError):
    """A ``serve --store`` file cannot be used: not a store, another version, unreadable."""


class HistoryFileError(DurableTestError, ValueError):
    """A saved file given to a production replay is not a durable execution's history or
    state."""


class CassetteMissingError(DurableTestError, FileNotFoundError):
    """Record mode ``none`` and no cassette: the message names the command that records it."""


class CassetteSourceError(DurableTestError, RuntimeError):
    """A cassette recorded from a local run cannot replay a cloud-mode test offline."""


class CassetteLeakError(DurableTestError, RuntimeError):
    """A cassette about to be written contains a credential or signature; it was not written."""


class NetworkBlockedError(DurableTestError, OSError):
    """A connection was attempted while pytest-durable replays a cassette offline."""


class ReplayUnsupportedError(DurableTestError, RuntimeError):
    """The installed SDK lacks a point the replay relies on; it would have to run step bodies."""


class ReplayDivergenceError(DurableTestError, AssertionError):
    """Re-invocation fuzzing found the handler replaying differently from a clean run; the
    message names the first diverging operation and the likely cause."""


class NonDeterminismError(DurableTestError, AssertionError):
    """The current code does not replay a recorded execution; the message is the report."""

    def __init__(self, report: ReplayReport) -> None:
        super().__init__(str(report))
        self.report = report
