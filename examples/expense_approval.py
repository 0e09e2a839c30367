"""An expense-approval workflow: wait for a human, then call another function.

The workflow, in order:

1. ``validate``: a step that checks the claim and computes how much needs approval.
2. ``manager-approval``: ``context.wait_for_callback``. Its submitter step sends the callback id
   to the approvals inbox (:data:`approvals_inbox`, a fake with no I/O); a manager answers
   through ``SendDurableExecutionCallbackSuccess`` with ``{"approved": bool, "by": name}``, or
   fails it. Nobody answering within 3 days times the claim out, and the manager's tool must
   send a heartbeat at least every 24 hours while the claim is open in it.
3. ``reimburse``: ``context.invoke`` of the ``payments`` function (a separate durable function,
   deployed on its own) with the amount and the employee; it returns a payment reference.

Rejected or timed-out claims end with status ``"rejected"`` or ``"expired"`` instead of paying.
"""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.exceptions import CallbackError, CallbackTimeoutError

APPROVAL_TIMEOUT = Duration.from_days(3)
APPROVAL_HEARTBEAT = Duration.from_hours(24)


class ApprovalsInbox:
    """Stands in for the tool managers use: it receives the callback ids to answer."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def submit(self, callback_id: str, claim: dict[str, Any]) -> None:
        self.requests.append({"callback_id": callback_id, "claim": claim})


approvals_inbox = ApprovalsInbox()


@durable_step
def validate(_ctx, claim: dict[str, Any]) -> dict[str, Any]:
    if claim["amount"] <= 0:
        raise ValueError(f"claim {claim['id']} has no amount")
    return {"id": claim["id"], "employee": claim["employee"], "amount": claim["amount"]}


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    claim = context.step(validate(event))

    def submit(callback_id: str, _ctx: Any) -> None:
        approvals_inbox.submit(callback_id, claim)

    try:
        answer = context.wait_for_callback(
            submit,
            name="manager-approval",
            config=WaitForCallbackConfig(
                timeout=APPROVAL_TIMEOUT, heartbeat_timeout=APPROVAL_HEARTBEAT
            ),
        )
    except CallbackTimeoutError as error:
        return {"claim": claim["id"], "status": "expired", "reason": str(error)}
    except CallbackError as error:
        return {"claim": claim["id"], "status": "rejected", "reason": str(error)}

    decision = json.loads(answer)  # the callback result is the raw body the manager sent
    if not decision["approved"]:
        return {"claim": claim["id"], "status": "rejected", "by": decision["by"]}

    payment = context.invoke(
        "payments",
        {"employee": claim["employee"], "amount": claim["amount"]},
        name="reimburse",
    )
    return {
        "claim": claim["id"],
        "status": "paid",
        "by": decision["by"],
        "payment": payment["reference"],
    }


@durable_execution
def payments(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    """The ``payments`` function the workflow invokes (its own durable function)."""
    reference = context.step(
        lambda _: f"PAY-{event['employee']}-{event['amount']}", name="transfer"
    )
    context.wait(Duration.from_hours(1), name="settlement")
    return {"reference": reference}
