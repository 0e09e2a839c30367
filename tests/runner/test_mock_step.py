"""``durable.mock_step``: a step's outcome declared by the test, checkpointed like a real step.

What "like a real step" means is checked by running the same handler twice, once with a body
that really returns or raises, once with the body mocked, and comparing what reached the
service: the OperationUpdates of every checkpoint and the history events.
"""

from __future__ import annotations

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

from pytest_durable import DurableEnvironment
from pytest_durable.errors import UnusedStepMockError

RAN: list[str] = []


class CardDeclined(Exception):
    pass


def _charge_body(outcome):
    def charge(_step_context):
        RAN.append("charge")
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return charge


def _checkout(charge_body, retries: int = 3, retryable=None):
    strategy = RetryStrategyConfig(
        max_attempts=retries,
        jitter_strategy=JitterStrategy.NONE,  # the same delays in both runs
        retryable_error_types=retryable,
    )
    config = StepConfig(retry_strategy=create_retry_strategy(strategy))

    @durable_execution
    def checkout(event, context: DurableContext):
        reserved = context.step(lambda _: "reserved", name="reserve")
        try:
            charged = context.step(charge_body, name="charge", config=config)
        except Exception as error:  # the SDK raises a StepError after the last attempt
            return {"reserved": reserved, "failed": str(error)}
        return {"reserved": reserved, "charged": charged}

    return checkout


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()


def _shape(result):
    """What reached the service, without what differs between any two runs (ids, times)."""
    updates = [
        {key: value for key, value in update.items() if key not in ("Id", "ParentId")}
        for call in result.checkpoints
        for update in call.updates
    ]
    events = [
        (event["EventType"], event.get("SubType"), _details(event))
        if event["EventType"].startswith(("Execution", "Invocation"))
        else (event["EventType"], event.get("Name"), _details(event))
        for event in result.history
    ]
    return updates, events


def _details(event):
    details = dict(event.get(f"{event['EventType']}Details") or {})
    for key in ("ScheduledEndTimestamp", "StartTimestamp", "EndTimestamp", "RequestId"):
        details.pop(key, None)
    return details


def _run(handler, mock=None, **declared):
    with DurableEnvironment(start="2030-01-01T00:00:00Z") as env:
        handle = env.mock_step("charge", **declared) if declared else None
        result = env.run(handler, {"order": 1})
    return result, handle


def test_a_mocked_result_is_checkpointed_like_the_real_step():
    real, _ = _run(_checkout(_charge_body({"id": "ch_1"})))
    assert RAN == ["charge"]
    RAN.clear()
    mocked, mock = _run(_checkout(_charge_body("never")), result={"id": "ch_1"})
    assert RAN == []
    assert mocked.output == {"reserved": "reserved", "charged": {"id": "ch_1"}}
    assert _shape(mocked) == _shape(real)
    assert [(call.attempt, call.outcome) for call in mock.calls] == [(1, {"id": "ch_1"})]


def test_a_mocked_error_retries_by_the_steps_strategy_like_the_real_step():
    real, _ = _run(_checkout(_charge_body(CardDeclined("insufficient funds"))))
    assert RAN == ["charge"] * 3
    RAN.clear()
    mocked, mock = _run(_checkout(_charge_body("never")), error=CardDeclined("insufficient funds"))
    assert RAN == []
    assert mocked.output == real.output
    assert "insufficient funds" in mocked.output["failed"]
    assert [call.attempt for call in mock.calls] == [1, 2, 3]
    assert _shape(mocked) == _shape(real)
    step = mocked.operation("charge")
    assert step.status == "FAILED"
    assert step.error.type == "test_mock_step.CardDeclined"  # the SDK qualifies the type


def test_attempts_give_each_attempt_its_outcome():
    flaky = [TimeoutError("gateway"), TimeoutError("gateway"), {"id": "ch_2"}]
    result, mock = _run(_checkout(_charge_body("never"), retries=5), attempts=flaky)
    assert result.output["charged"] == {"id": "ch_2"}
    assert [call.attempt for call in mock.calls] == [1, 2, 3]
    retries = [u for c in result.checkpoints for u in c.updates if u.get("Action") == "RETRY"]
    assert [u["Error"]["ErrorType"] for u in retries] == ["TimeoutError", "TimeoutError"]
    assert RAN == []


def test_an_error_the_strategy_does_not_retry_fails_at_once():
    handler = _checkout(_charge_body("never"), retries=5, retryable=[TimeoutError])
    result, mock = _run(handler, error=CardDeclined("stolen card"))
    assert [call.attempt for call in mock.calls] == [1]
    assert [
        u["Action"] for c in result.checkpoints for u in c.updates if u["Name"] == "charge"
    ] == [
        "START",
        "FAIL",
    ]


def test_an_exception_class_is_raised_as_an_instance():
    result, _ = _run(_checkout(_charge_body("never"), retries=1), error=CardDeclined)
    assert result.operation("charge").error.type.endswith("CardDeclined")


def test_every_step_of_the_name_is_mocked_and_others_run():
    @durable_execution
    def packing(event, context: DurableContext):
        return context.map(
            ["a", "b"],
            lambda ctx, item, index, items: ctx.step(lambda _: RAN.append(item), name="pack"),
            name="pack-all",
        ).get_results()

    with DurableEnvironment() as env:
        mock = env.mock_step("pack", result="packed")
        result = env.run(packing, {})
    assert result.output == ["packed", "packed"]
    assert len(mock.calls) == 2
    assert RAN == []


def test_a_mock_that_never_matched_fails_naming_the_steps_that_ran():
    with pytest.raises(UnusedStepMockError) as caught, DurableEnvironment() as env:
        env.mock_step("chrage", result={"id": "ch_1"})
        env.run(_checkout(_charge_body({"id": "ch_1"})), {})
    message = str(caught.value)
    assert "mock_step('chrage') never matched" in message
    assert "Steps that ran: 'reserve', 'charge'" in message


def test_a_failing_test_is_not_masked_by_an_unused_mock():
    with pytest.raises(ZeroDivisionError), DurableEnvironment() as env:
        env.mock_step("charge", result=1)
        raise ZeroDivisionError


def test_mocks_end_with_their_environment():
    with DurableEnvironment() as env:
        env.mock_step("charge", result={"id": "mocked"})
        env.run(_checkout(_charge_body("never")), {})
    result, _ = _run(_checkout(_charge_body({"id": "real"})))
    assert result.output["charged"] == {"id": "real"}
    assert RAN == ["charge"]


def test_only_the_declaring_environment_is_mocked():
    with DurableEnvironment() as mocked:
        mocked.mock_step("charge", result={"id": "mocked"})
        with DurableEnvironment() as plain:  # the SDK talks to one environment at a time
            real = plain.run(_checkout(_charge_body({"id": "real"})), {})
        assert real.output["charged"] == {"id": "real"}
        assert mocked.run(_checkout(_charge_body("never")), {}).output["charged"] == {
            "id": "mocked"
        }


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({}, "takes exactly one of result=, error= or attempts="),
        ({"result": 1, "error": ValueError()}, "takes exactly one of"),
        ({"error": "boom"}, "takes an exception or exception class"),
        ({"attempts": []}, "non-empty list of outcomes"),
    ],
)
def test_bad_declarations_are_refused(declared, message):
    with DurableEnvironment() as env, pytest.raises((TypeError, ValueError), match=message):
        env.mock_step("charge", **declared)


def test_in_pytest_an_unused_mock_fails_the_test(pytester):
    pytester.makepyfile(
        """
        from aws_durable_execution_sdk_python import durable_execution

        @durable_execution
        def handler(event, context):
            return context.step(lambda _: 1, name="reserve")

        def test_it(durable):
            durable.mock_step("charge", result=2)
            durable.run(handler, {})
        """
    )
    outcome = pytester.runpytest_inprocess("-p", "no:randomly", "-q")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(["*mock_step('charge') never matched*Steps that ran: 'reserve'*"])


def test_cloud_mode_refuses_mocks_with_the_reason():
    from pytest_durable.cassette.cloud.environment import CloudEnvironment  # noqa: PLC0415
    from pytest_durable.errors import LocalOnlyError  # noqa: PLC0415

    with pytest.raises(LocalOnlyError, match="step bodies run inside Lambda"):
        CloudEnvironment(client=None).mock_step("charge", result=1)
