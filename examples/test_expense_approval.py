"""Tests of the expense-approval workflow, as a team would write them.

The manager's answer is given two ways: declared before the run (``durable.on_callback``), and
interactively (start, run until the workflow waits for the manager, answer, run on). The
``payments`` function the workflow invokes is registered as a durable function of the test.
"""

from __future__ import annotations

import datetime
import time

import pytest
from expense_approval import approvals_inbox, handler, payments

CLAIM = {"id": "c-42", "employee": "ana", "amount": 180}


# Hours of virtual time in far less wall time; seconds of room for a loaded CI machine.
AT_ONCE = 5.0


class _Real:
    perf_counter = time.perf_counter  # wall time, untouched by the virtual clock


@pytest.fixture(autouse=True)
def clean_inbox():
    approvals_inbox.requests.clear()
    yield
    approvals_inbox.requests.clear()


@pytest.fixture
def with_payments(durable):
    durable.register_durable_function("payments", payments)
    return durable


def test_approved_claim_is_paid_through_the_payments_function(with_payments):
    durable = with_payments
    durable.on_callback("manager-approval").after(hours=6).succeed({"approved": True, "by": "lee"})

    started = _Real.perf_counter()
    result = durable.run(handler, CLAIM)

    assert _Real.perf_counter() - started < AT_ONCE
    assert result.status == "SUCCEEDED"
    assert result.output == {
        "claim": "c-42",
        "status": "paid",
        "by": "lee",
        "payment": "PAY-ana-180",
    }
    approval = result.operation("manager-approval")
    assert approval.sub_type == "WaitForCallback"
    assert approval.end - approval.start >= datetime.timedelta(hours=6)
    reimburse = result.operation("reimburse")
    assert reimburse.type == "CHAINED_INVOKE"
    # The payments function's own one-hour settlement ran on the same virtual clock.
    assert reimburse.end - reimburse.start >= datetime.timedelta(hours=1)
    assert len(approvals_inbox.requests) == 1


def test_manager_answers_interactively(with_payments):
    durable = with_payments
    driver = durable.start(handler, CLAIM).run_until_blocked()

    # The submitter sent the callback id to the inbox; answer it by id, as the tool would.
    [request] = approvals_inbox.requests
    assert request["claim"]["amount"] == 180
    driver.callback(id=request["callback_id"]).succeed({"approved": True, "by": "kim"})

    result = driver.run()
    assert result.output["status"] == "paid"
    assert result.output["by"] == "kim"


def test_rejected_claim_is_not_paid(with_payments):
    durable = with_payments
    durable.on_callback("manager-approval").succeed({"approved": False, "by": "lee"})
    result = durable.run(handler, CLAIM)
    assert result.output == {"claim": "c-42", "status": "rejected", "by": "lee"}
    with pytest.raises(LookupError):
        result.operation("reimburse")


def test_a_failed_callback_rejects_the_claim(durable):
    durable.on_callback("manager-approval").fail("PolicyViolation", "receipts missing")
    result = durable.run(handler, CLAIM)
    assert result.output["status"] == "rejected"
    assert "receipts missing" in result.output["reason"]


def test_unanswered_claim_expires_after_three_days_with_daily_heartbeats(durable):
    # The manager's tool keeps the claim open with a heartbeat every 20 hours, but nobody
    # decides: the 3-day timeout expires.
    durable.on_callback("manager-approval").heartbeat(every=datetime.timedelta(hours=20), times=5)
    started = _Real.perf_counter()
    result = durable.run(handler, CLAIM)
    assert _Real.perf_counter() - started < AT_ONCE
    assert result.output["status"] == "expired"
    callback = next(op for op in result.all_operations() if op.type == "CALLBACK")
    assert callback.status == "TIMED_OUT"
    assert callback.error.type == "Callback.Timeout"
    assert callback.end - callback.start == datetime.timedelta(days=3)


def test_silent_manager_tool_trips_the_heartbeat_timeout(durable):
    driver = durable.start(handler, CLAIM).run_until_blocked()
    driver.advance(datetime.timedelta(hours=25))
    assert driver.done
    result = driver.result()
    assert result.output["status"] == "expired"
    callback = next(op for op in result.all_operations() if op.type == "CALLBACK")
    assert callback.error.type == "Callback.Heartbeat"


def test_invalid_claim_fails_before_asking_anyone(durable):
    result = durable.run(handler, {**CLAIM, "amount": 0})
    assert result.status == "FAILED"
    assert "has no amount" in str(result.error)
    assert approvals_inbox.requests == []
