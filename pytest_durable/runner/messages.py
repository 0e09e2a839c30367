"""Why an execution cannot go on: the messages of ExecutionBlockedError and ExecutionStuckError.

Each says what the execution waits for and what the test can do about it, down the chain of
chained invokes: a callback of a target is answered through the target's own driver
(``driver.invoked(name)``).
"""

from __future__ import annotations

from pytest_durable.service import (
    DurableService,
    Execution,
    ExecutionStatus,
    Operation,
    OperationStatus,
    OperationType,
)


def blocked_message(service: DurableService, arn: str) -> str:
    execution = service.execution(arn)
    if execution.status in (ExecutionStatus.PAUSED, ExecutionStatus.PAUSING):
        return (
            f"The execution is {execution.status.value}: nothing invokes it until it is "
            f"resumed (env.client.resume_durable_execution(DurableExecutionArn=...))."
        )
    return (
        f"The execution is suspended waiting for {_waits(service, execution)}, and nothing "
        f"will answer. Declare an answer before the run (durable.on_callback(name)"
        f".succeed(value)), or drive it step by step: driver = durable.start(handler, event); "
        f"driver.run_until_blocked(); driver.callback(name).succeed(value) (a chained target's "
        f"callback: driver.invoked(invoke_name).callback(name)); driver.run(). Or give the "
        f"execution a timeout (execution_timeout=...)."
    )


def _waits(service: DurableService, execution: Execution) -> str:
    described = []
    for operation in service.waiting_operations(execution.arn):
        text = f"{operation.type.value} {_name_to_answer(execution, operation)!r}"
        if operation.callback_id:
            text += f" (CallbackId {operation.callback_id})"
        child = _child(service, operation)
        if child is not None:
            text += (
                f": the execution {child.arn} that context.invoke({operation.function_name!r}) "
                f"started waits for {_waits(service, child)}"
            )
        described.append(text)
    return "; ".join(described) or "nothing"


def _name_to_answer(execution: Execution, operation: Operation) -> str:
    """The name a test answers the operation by: a ``wait_for_callback``'s own name rather than
    the name the SDK gives the callback inside it (``"<name> create callback id"``)."""
    parent = execution.operations.get(operation.parent_id or "")
    if (
        operation.type is OperationType.CALLBACK
        and parent is not None
        and parent.sub_type == "WaitForCallback"
        and parent.name
    ):
        return parent.name
    return operation.name or operation.id


def _child(service: DurableService, operation: Operation) -> Execution | None:
    if operation.type is not OperationType.CHAINED_INVOKE or not operation.child_execution_arn:
        return None
    found = [e for e in service.executions if e.arn == operation.child_execution_arn]
    return found[0] if found and not found[0].status.is_terminal else None


def stuck_message(execution: Execution) -> str:
    root = execution.execution_id
    unfinished = [
        f"{op.type.value} {op.name or op.id!r} is {op.status.value}"
        for op in execution.operations.values()
        if op.id != root and not op.status.is_terminal and op.status is not OperationStatus.READY
    ]
    return (
        "The handler returned PENDING, but the execution has nothing pending: no timer, "
        "callback or chained invoke can ever wake it. "
        + (
            "Unfinished operations: " + "; ".join(unfinished)
            if unfinished
            else "No operation is unfinished."
        )
        + " This usually means the handler swallowed the SDK's SuspendExecution."
    )
