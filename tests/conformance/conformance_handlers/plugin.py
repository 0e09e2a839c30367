"""Handlers for the plugin suite (10-x): instrumentation plugins of the SDK 3.0 plugin API.

A plugin is registered as a factory (``durable_execution(plugins=[factory])``); the SDK asks it
for one :class:`DurableInstrumentationPlugin` per invocation. The plugins here print one JSON
object per hook to stdout, as the requirements describe; the test reads those lines back as the
requirement's ``ExpectedLogs`` (see ``conformance_logs.py``).
"""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.plugin import (
    DurableInstrumentationPlugin,
    InvocationEndInfo,
    InvocationStartInfo,
    OperationEndInfo,
    OperationInfo,
    OperationStartInfo,
    OperationType,
    UserFunctionEndInfo,
    UserFunctionStartInfo,
)

from conformance_handlers.common import NO_RETRY, requirement, retry

# ----------------------------------------------------------------------------- the plugins


class JsonLinePlugin(DurableInstrumentationPlugin):
    """Prints ``{"plugin": <label>, "hook": ..., ...}`` per hook, stamped with the execution ARN
    it was given at invocation start. Operation and attempt hooks report STEP operations only."""

    def __init__(self, label: str, hooks: frozenset[str]) -> None:
        self.label = label
        self.hooks = hooks
        self.arn: str | None = None

    def emit(self, hook: str, **fields: Any) -> None:
        if hook in self.hooks:
            record = {"plugin": self.label, "hook": hook, **fields, "durableExecutionArn": self.arn}
            print(json.dumps(record), flush=True)

    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        self.arn = info.execution_arn
        self.emit("invocation-start", first=info.is_first_invocation)

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        self.emit("invocation-end", status=info.status.value)

    def on_operation_start(self, info: OperationStartInfo) -> None:
        if _is_step(info):
            self.emit("operation-start", op=info.operation_id)

    def on_operation_end(self, info: OperationEndInfo) -> None:
        if _is_step(info):
            self.emit("operation-end", op=info.operation_id, status=info.status.value)

    def on_user_function_start(self, info: UserFunctionStartInfo) -> None:
        if _is_step(info):
            self.emit("attempt-start", n=info.attempt, op=info.operation_id)

    def on_user_function_end(self, info: UserFunctionEndInfo) -> None:
        if _is_step(info):
            self.emit(
                "attempt-end", n=info.attempt, outcome=info.outcome.value, op=info.operation_id
            )


class FaultyPlugin(JsonLinePlugin):
    """Logs like :class:`JsonLinePlugin`, then raises from every hook it logged from."""

    def emit(self, hook: str, **fields: Any) -> None:
        super().emit(hook)
        raise RuntimeError(f"{self.label} fails in {hook}")


def _is_step(info: OperationInfo) -> bool:
    return info.operation_type is OperationType.STEP


class Factory:
    """What the SDK registers: it builds a fresh plugin for every invocation."""

    def __init__(self, label: str, *hooks: str, plugin: type[JsonLinePlugin] = JsonLinePlugin):
        self.label = label
        self.hooks = frozenset(hooks)
        self.plugin = plugin

    def create_plugin(self, info: InvocationStartInfo, /) -> DurableInstrumentationPlugin:
        return self.plugin(self.label, self.hooks)


INVOCATION = ("invocation-start", "invocation-end")
OPERATION = ("operation-start", "operation-end")
ATTEMPT = ("attempt-start", "attempt-end")


def _greeting_handler(*factories: Factory, log_running: bool = False):
    @durable_execution(plugins=list(factories))
    def handler(event, context: DurableContext):
        def greet(step_context: StepContext) -> str:
            if log_running:
                step_context.logger.info(f"Greeting step running for: {event}")
            return f"Hello, {event}!"

        return context.step(greet, name="greet")

    return handler


# ----------------------------------------------------------------------------- plugin 10-x


@requirement("10-1")
def plugin_invocation_hooks(env):
    return _greeting_handler(Factory("CONFPLUGIN", *INVOCATION), log_running=True)


@requirement("10-2")
def plugin_operation_hooks(env):
    return _greeting_handler(Factory("CONFPLUGIN", *OPERATION))


@requirement("10-3")
def plugin_attempt_hooks(env):
    attempts = {"n": 0}

    @durable_execution(plugins=[Factory("CONFPLUGIN", *ATTEMPT)])
    def handler(event, context: DurableContext):
        def unreliable(step_context: StepContext) -> str:
            attempts["n"] += 1
            if attempts["n"] == 1:
                raise RuntimeError("the first attempt fails")
            return "Operation succeeded"

        return context.step(unreliable, name="unreliable", config=retry(attempts=3, delay=1))

    return handler


@requirement("10-4")
def plugin_errors_are_isolated(env):
    return _greeting_handler(
        Factory("CONFPLUGIN-FAULTY", *INVOCATION, *OPERATION, *ATTEMPT, plugin=FaultyPlugin)
    )


@requirement("10-5")
def plugin_several(env):
    return _greeting_handler(
        Factory("CONFPLUGIN-A", *INVOCATION), Factory("CONFPLUGIN-B", *INVOCATION)
    )


@requirement("10-6")
def plugin_first_invocation_flag(env):
    @durable_execution(plugins=[Factory("CONFPLUGIN", *INVOCATION)])
    def handler(event, context: DurableContext):
        context.wait(Duration.from_seconds(2))

    return handler


@requirement("10-7")
def plugin_sees_failure(env):
    @durable_execution(plugins=[Factory("CONFPLUGIN", *INVOCATION)])
    def handler(event, context: DurableContext):
        def failing(step_context: StepContext) -> str:
            raise RuntimeError("this step always fails")

        return context.step(failing, name="failing", config=NO_RETRY)

    return handler
