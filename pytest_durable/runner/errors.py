"""Why a run stopped before the execution ended. Each message says what happened and what to do."""

from __future__ import annotations


class DurableRunError(Exception):
    """A durable execution could not be driven to its end."""


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
