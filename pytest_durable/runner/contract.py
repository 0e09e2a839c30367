"""A handler forgot ``@durable_execution``: say so, naming the decorator, instead of letting
Lambda's retries end in an ``AttributeError`` about ``LambdaContext``.

Lambda calls a handler as ``handler(event, lambda_context)``. The SDK's decorator turns that
into ``body(input, durable_context)``; without it the body gets the Lambda context and fails on
its first ``context.step(...)``. Two checks:

- up front, before anything runs: a plain function whose context parameter is annotated
  ``DurableContext`` and that is not the SDK's wrapper (nor wraps it, through ``__wrapped__``)
  is a durable body without its decorator;
- after an invocation crashed: an ``AttributeError`` raised on the very Lambda context we
  passed, for a name ``DurableContext`` has, is the same mistake in a body without annotations.

Other callables (a ``SubprocessHandler``, a class with ``__call__``, a function that delegates
to a decorated handler) are left alone: they may well be durable handlers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from pytest_durable.errors import HandlerContractError

_FIX = (
    "Decorate it with @durable_execution (from aws_durable_execution_sdk_python import "
    "durable_execution): Lambda passes the handler a Lambda context, and the decorator turns it "
    "into the DurableContext that has step, wait, map, parallel and the rest."
)


@cache
def _sdk_wrapper_code() -> Any:
    """The code object of the function ``@durable_execution`` returns (the same for every
    handler it decorates)."""

    def body(event: Any, context: DurableContext) -> None:  # pragma: no cover - never run
        return None

    return durable_execution(body).__code__


def is_durable_handler(handler: Callable[..., Any]) -> bool:
    """Whether ``handler`` is, or wraps, a function the SDK's decorator returned."""
    seen: set[int] = set()
    current: Any = handler
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "__code__", None) is _sdk_wrapper_code():
            return True
        current = getattr(current, "__wrapped__", None)
    return False


def _annotated_durable(function: Callable[..., Any]) -> bool:
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    if len(parameters) < 2:
        return False
    annotation = parameters[1].annotation
    # A string under `from __future__ import annotations`.
    return annotation is DurableContext or annotation == "DurableContext"


def _name(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)


def check_handler(handler: Callable[..., Any]) -> None:
    """Refuse, before it runs, a durable body passed without ``@durable_execution``."""
    if (
        inspect.isfunction(handler)
        and not is_durable_handler(handler)
        and _annotated_durable(handler)
    ):
        raise HandlerContractError(
            f"The handler {_name(handler)} takes a DurableContext but is not decorated with "
            f"@durable_execution. {_FIX}"
        )


def missing_decorator(
    handler: Callable[..., Any], exception: BaseException | None, lambda_context: object
) -> HandlerContractError | None:
    """The error to raise at once for a crash that is a missing decorator, else None."""
    if (
        isinstance(exception, AttributeError)
        and getattr(exception, "obj", None) is lambda_context
        and hasattr(DurableContext, str(getattr(exception, "name", "")))
    ):
        error = HandlerContractError(
            f"The handler {_name(handler)} called context.{exception.name} on the Lambda "
            f"context: it is not decorated with @durable_execution. {_FIX}"
        )
        error.__cause__ = exception
        return error
    return None
