"""How the SDK and Lambda reacted to each injected fault, read from what the run recorded.

The fault plan (``transport/faults.py``) records what it injected and how often the client sent
the same request again; the service records how each invocation ended. Put side by side, they
say what the fault did: botocore retried it away, the invocation crashed and Lambda re-invoked,
the execution failed, or the sandbox died and Lambda re-invoked.
"""

from __future__ import annotations

import dataclasses

from pytest_durable.service import Execution
from pytest_durable.transport.faults import InjectedFault


def reactions(injected: list[InjectedFault], execution: Execution) -> tuple[InjectedFault, ...]:
    """The faults injected into calls for ``execution``, each with its ``reaction`` filled in."""
    found = []
    for fault in injected:
        if fault.arn != execution.arn:
            continue
        found.append(dataclasses.replace(fault, reaction=_reaction(fault, execution)))
    return tuple(found)


def _reaction(fault: InjectedFault, execution: Execution) -> str:
    invocations = execution.invocations
    index = fault.invocation
    invocation = invocations[index] if index is not None and index < len(invocations) else None
    last = index is not None and index == len(invocations) - 1
    retried = f"retried by botocore ({fault.retries}x)" if fault.retries else ""
    if fault.kind == "kill_sandbox":
        if invocation is None or invocation.outcome != "CRASHED":
            return "nothing was killed (no in-process invocation)"
        return "sandbox died; Lambda re-invoked" if not last else "sandbox died"
    if fault.kind == "lose_answer" and fault.retries:
        return f"{retried}; the retry was answered from the idempotency cache"
    if invocation is None:
        return retried or "answered to a caller outside any invocation"
    if invocation.outcome == "CRASHED":
        then = "Lambda re-invoked" if not last else "the run stopped"
        return ", then ".join(filter(None, [retried, f"invocation crashed; {then}"]))
    if last and execution.status.value == "FAILED":
        return ", then ".join(filter(None, [retried, "the SDK failed the execution"]))
    return retried or "no visible effect"
