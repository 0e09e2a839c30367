"""Stateful fuzzing of the service through a real botocore client (hypothesis).

Random batches of OperationUpdates, valid and invalid, sent with current, stale and replayed
tokens and ClientTokens while the virtual clock moves, with these invariants after every call:

- only ClientErrors the botocore model declares for the API ever come back (no bug of the fake,
  no undeclared code);
- a rejected batch changes nothing: the execution's state is identical before and after;
- tokens are strictly chained: every accepted batch returns a token never seen before, and every
  earlier token is refused as "Invalid checkpoint token";
- a ClientToken replay within 15 virtual minutes gets the identical answer;
- the history has at most one terminal event per operation (an attempt's event, which carries
  ``RetryDetails``, is not one).

CI runs at least 2,000 batches (derandomized, a few seconds); ``benchmarks/service_fuzz.py``
runs 10,000+ with fresh randomness.
"""

from __future__ import annotations

import pickle
import random
from typing import Any

import hypothesis.strategies as st
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from pytest_durable.service import DurableService
from pytest_durable.transport import Router, make_client
from pytest_durable.transport.faults import declared_errors

T0 = 1_700_000_000_000
CHECKPOINT = "CheckpointDurableExecution"
IDEMPOTENCY_WINDOW_MS = 15 * 60 * 1000
_TERMINAL = ("Succeeded", "Failed", "Cancelled", "TimedOut", "Stopped")
IDS = ["a", "b", "c", "d", "ctx", "e"]

_PAYLOADS = [None, '"x"', "1", '{"k": [1, 2]}', '"é"']
_ACTIONS = {
    "STEP": ["START", "SUCCEED", "FAIL", "RETRY"],
    "WAIT": ["START", "CANCEL", "SUCCEED"],
    "CALLBACK": ["START", "CANCEL"],
    "CONTEXT": ["START", "SUCCEED", "FAIL"],
    "EXECUTION": ["SUCCEED", "FAIL"],
}
_SUB_TYPES = {
    "STEP": "Step",
    "WAIT": "Wait",
    "CALLBACK": "Callback",
    "CONTEXT": "RunInChildContext",
}
_TYPES = ["STEP"] * 4 + ["WAIT"] * 2 + ["CALLBACK", "CONTEXT"] * 2 + ["EXECUTION"]


def _update_pool(size: int) -> list[dict[str, Any]]:
    """A fixed pool of OperationUpdates, valid and invalid, that batches are drawn from: drawing
    from a list is far cheaper than composing each update, so CI sends more batches per second."""
    pick = random.Random(0)
    pool = []
    for _ in range(size):
        op_type = pick.choice(_TYPES)
        update: dict[str, Any] = {
            "Id": pick.choice(IDS),
            "Type": op_type,
            "Action": pick.choice(_ACTIONS[op_type]),
        }
        if op_type != "EXECUTION":
            update["SubType"] = _SUB_TYPES[op_type]
            if pick.random() < 0.5:
                update["Name"] = pick.choice(["n1", "n2"])
            if pick.random() < 0.2:
                update["ParentId"] = pick.choice(["ctx", "nope"])
        payload = pick.choice(_PAYLOADS)
        if payload is not None:
            update["Payload"] = payload
        if update["Action"] in ("FAIL", "RETRY") and pick.random() < 0.5:
            update["Error"] = {"ErrorType": "E", "ErrorMessage": "boom"}
        if op_type == "WAIT" and update["Action"] == "START":
            update["WaitOptions"] = {"WaitSeconds": pick.choice([1, 5, 30])}
        if op_type == "STEP" and update["Action"] == "RETRY":
            update["StepOptions"] = {"NextAttemptDelaySeconds": pick.choice([1, 10])}
        if op_type == "CALLBACK" and update["Action"] == "START":
            update["CallbackOptions"] = {"TimeoutSeconds": pick.choice([0, 20])}
        pool.append(update)
    return pool


_POOL = _update_pool(600)


def _from_pool(index: int) -> dict[str, Any]:
    return _POOL[index]


_batch = st.lists(st.integers(0, len(_POOL) - 1).map(_from_pool), max_size=4)
_client_token = st.one_of(st.none(), st.uuids().map(str))


def _visible(execution: Any, now_ms: int) -> bytes:
    """Everything the service holds for an execution, as bytes (expired idempotency entries
    are housekeeping a later call may drop, not state)."""
    state = dict(vars(execution))
    state["idempotency_cache"] = {
        key: entry
        for key, entry in execution.idempotency_cache.items()
        if now_ms - entry.created_ms < IDEMPOTENCY_WINDOW_MS
    }
    return pickle.dumps(state)


class ServiceMachine(RuleBasedStateMachine):
    batches = 0

    def __init__(self) -> None:
        super().__init__()
        self.now = [T0]
        self.service = DurableService(lambda: self.now[0])
        self.client = make_client(Router(self.service))
        self.seen_tokens: set[str] = set()
        self.spent_tokens: list[str] = []
        self._new_execution()

    # (params, response, virtual ms) of accepted calls made with a ClientToken.
    replays: list[tuple[dict[str, Any], dict[str, Any], int]]

    def _new_execution(self) -> None:
        self.arn = self.service.start_execution("orders", "{}").arn
        self.token: str | None = self.service.begin_invocation(self.arn)["CheckpointToken"]
        assert self.token not in self.seen_tokens
        self.seen_tokens.add(self.token)
        self.spent_tokens = []
        self.replays = []

    @property
    def execution(self) -> Any:
        return self.service.execution(self.arn)

    def _call(self, params: dict[str, Any]) -> dict[str, Any] | None:
        before = _visible(self.execution, self.now[0])
        ServiceMachine.batches += 1
        try:
            answer = self.client.checkpoint_durable_execution(**params)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            assert code in declared_errors(CHECKPOINT), f"undeclared error {code}: {error}"
            after = _visible(self.execution, self.now[0])
            assert after == before, f"a rejected batch changed the state: {error}"
            return None
        answer.pop("ResponseMetadata", None)
        return answer

    @rule(batches=st.lists(st.tuples(_batch, _client_token), min_size=1, max_size=10))
    def checkpoints(self, batches: list[tuple[list[dict[str, Any]], str | None]]) -> None:
        """Several batches in a row, each with the token the previous answer gave."""
        for batch, client_token in batches:
            self.checkpoint(batch, client_token)

    def checkpoint(self, batch: list[dict[str, Any]], client_token: str | None) -> None:
        if self.token is None:  # the execution ended: go on with a new one
            self._new_execution()
        params: dict[str, Any] = {
            "DurableExecutionArn": self.arn,
            "CheckpointToken": self.token,
            "Updates": batch,
        }
        if client_token is not None:
            params["ClientToken"] = client_token
        answer = self._call(params)
        if answer is None:
            return
        if client_token is not None:
            self.replays.append((params, answer, self.now[0]))
        new_token = answer.get("CheckpointToken")
        self.spent_tokens.append(self.token)
        if new_token is None:  # the batch completed the execution (or it paused)
            self.token = None
            return
        assert new_token not in self.seen_tokens, "a token was issued twice"
        self.seen_tokens.add(new_token)
        self.token = new_token

    @rule(index=st.integers(0, 50), batch=_batch)
    def stale_token(self, index: int, batch: list[dict[str, Any]]) -> None:
        if not self.spent_tokens:
            return
        stale = self.spent_tokens[index % len(self.spent_tokens)]
        params = {"DurableExecutionArn": self.arn, "CheckpointToken": stale, "Updates": batch}
        before = _visible(self.execution, self.now[0])
        ServiceMachine.batches += 1
        try:
            self.client.checkpoint_durable_execution(**params)
        except ClientError as error:
            assert error.response["Error"]["Message"].startswith("Invalid checkpoint token")
            assert _visible(self.execution, self.now[0]) == before
        else:
            raise AssertionError("a spent token was accepted")

    @rule(index=st.integers(0, 50))
    def replay(self, index: int) -> None:
        if not self.replays:
            return
        params, answer, at = self.replays[index % len(self.replays)]
        if self.now[0] - at >= IDEMPOTENCY_WINDOW_MS:
            return
        ServiceMachine.batches += 1
        again = self.client.checkpoint_durable_execution(**params)
        again.pop("ResponseMetadata", None)
        assert again == answer, "a ClientToken replay got a different answer"

    @rule(seconds=st.sampled_from([0, 1, 3, 10, 60, 600]))
    def advance(self, seconds: int) -> None:
        self.now[0] += seconds * 1000

    @rule()
    def reinvoke(self) -> None:
        if self.execution.status.is_terminal:
            return
        if self.execution.active_invocation is not None:
            self.service.end_invocation(self.arn, {"Status": "PENDING"})
            if self.token is not None:
                self.spent_tokens.append(self.token)
        if self.execution.status.is_terminal:  # e.g. PENDING with nothing to wait for
            self._new_execution()
            return
        self.token = self.service.begin_invocation(self.arn)["CheckpointToken"]
        assert self.token not in self.seen_tokens
        self.seen_tokens.add(self.token)

    @invariant()
    def one_terminal_event_per_operation(self) -> None:
        terminal: dict[str, int] = {}
        for event in self.execution.history:
            details = next((v for k, v in event.items() if k.endswith("Details")), {})
            # A StepFailed/StepSucceeded with RetryDetails is an attempt (a retry, a
            # wait_for_condition poll), not the step's end.
            if "RetryDetails" in details:
                continue
            if event["EventType"].endswith(_TERMINAL) and "Id" in event:
                terminal[event["Id"]] = terminal.get(event["Id"], 0) + 1
        repeated = {op_id: n for op_id, n in terminal.items() if n > 1}
        assert not repeated, f"operations with more than one terminal event: {repeated}"


def run_service_fuzz(examples: int, steps: int, *, derandomize: bool) -> int:
    """Run the machine; returns how many batches were sent."""
    ServiceMachine.batches = 0
    run_state_machine_as_test(
        ServiceMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            derandomize=derandomize,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    return ServiceMachine.batches


def test_service_fuzz_through_botocore():
    assert run_service_fuzz(30, 100, derandomize=True) >= 2000
