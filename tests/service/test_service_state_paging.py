"""GetDurableExecutionState: pages of complete operations with Marker/MaxItems, read with the
current checkpoint token (docs/service-semantics.md#paging), and the envelope's first page handing
over to it (the event's NextMarker, docs/service-semantics.md#envelope)."""

import base64

import pytest
from service_helpers import (
    Env,
    Running,
    assert_output,
    assert_token_rejected,
    rejected,
    step_start,
    wait_start,
)

from pytest_durable.service import DurableService


def _page(run: Running, **kwargs):
    answer = run.env.service.get_durable_execution_state(
        DurableExecutionArn=run.arn, CheckpointToken=run.token, **kwargs
    )
    assert_output("GetDurableExecutionState", answer)
    return answer


@pytest.fixture
def seven_ops(run: Running) -> Running:
    run.cp(*(step_start(f"s{i}", Name=f"step {i}") for i in range(5)), wait_start("w"))
    return run  # the EXECUTION operation plus 6


def test_pages_of_max_items_cover_every_operation_once_in_order(seven_ops: Running):
    run = seven_ops
    everything = [op["Id"] for op in _page(run)["Operations"]]
    assert len(everything) == 7
    assert everything[0] == run.execution_id

    seen, marker, sizes = [], None, []
    while True:
        kwargs = {"MaxItems": 3} if marker is None else {"MaxItems": 3, "Marker": marker}
        page = _page(run, **kwargs)
        seen += [op["Id"] for op in page["Operations"]]
        sizes.append(len(page["Operations"]))
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == everything
    assert sizes == [3, 3, 1]


def test_the_last_page_has_no_next_marker(seven_ops: Running):
    assert "NextMarker" not in _page(seven_ops, MaxItems=7)
    assert "NextMarker" in _page(seven_ops, MaxItems=6)


def test_without_max_items_one_page_holds_everything(seven_ops: Running):
    page = _page(seven_ops)
    assert len(page["Operations"]) == 7
    assert "NextMarker" not in page


def test_an_empty_marker_means_the_first_page(seven_ops: Running):
    # The SDK passes the event's NextMarker, "" when there is none
    # (docs/service-semantics.md#envelope).
    assert _page(seven_ops, Marker="", MaxItems=2) == _page(seven_ops, MaxItems=2)


def test_paged_operations_are_complete(seven_ops: Running):
    page = _page(seven_ops, MaxItems=1000)
    by_id = {op["Id"]: op for op in page["Operations"]}
    assert by_id["s3"]["Name"] == "step 3"
    assert by_id["s3"]["SubType"] == "Step"
    assert by_id["w"]["WaitDetails"]["ScheduledEndTimestamp"] is not None
    assert by_id[seven_ops.execution_id]["ExecutionDetails"] == {
        "InputPayload": '{"hello": "world"}'
    }


def test_a_stale_token_is_rejected_for_every_page(seven_ops: Running):
    run = seven_ops
    stale = run.token
    marker = _page(run, MaxItems=2)["NextMarker"]
    run.cp()
    for kwargs in ({}, {"Marker": marker, "MaxItems": 2}):
        error = rejected(
            lambda kwargs=kwargs: run.env.service.get_durable_execution_state(
                DurableExecutionArn=run.arn, CheckpointToken=stale, **kwargs
            )
        )
        assert_token_rejected(error)


@pytest.mark.parametrize(
    "marker",
    [
        "not-base64!",
        base64.b64encode(b"page:99").decode(),  # beyond the end
        base64.b64encode(b"page:-1").decode(),
        base64.b64encode(b"other:2").decode(),
        base64.b64encode(b"page:two").decode(),
        base64.b64encode(b"\xff\xfe").decode(),
    ],
    ids=["garbage", "past-the-end", "negative", "wrong-kind", "not-a-number", "not-ascii"],
)
def test_a_bad_marker_is_rejected_as_an_invalid_parameter(seven_ops: Running, marker: str):
    error = rejected(lambda: _page(seven_ops, Marker=marker))
    assert "Marker" in error.message
    assert not error.message.startswith("Invalid checkpoint token")


def test_envelope_first_page_hands_over_to_get_state_with_the_envelope_token():
    # docs/service-semantics.md#envelope: a first page with a NextMarker makes the
    # SDK page the rest through GetDurableExecutionState with the envelope's token.
    env = Env(initial_page_size=2)
    arn = env.start()
    token = env.invoke(arn)
    env.checkpoint(arn, token, [step_start(f"s{i}") for i in range(4)])
    env.service.end_invocation(arn, {"Status": "PENDING"})
    # (steps stay STARTED; the invocation ended PENDING so the next one replays them)

    token = env.invoke(arn)
    first = env.envelope["InitialExecutionState"]
    assert len(first["Operations"]) == 2
    assert first["NextMarker"]
    rest, marker = [], first["NextMarker"]
    while marker:
        page = env.service.get_durable_execution_state(
            DurableExecutionArn=arn, CheckpointToken=token, Marker=marker, MaxItems=1000
        )
        rest += page["Operations"]
        marker = page.get("NextMarker", "")
    ids = [op["Id"] for op in first["Operations"]] + [op["Id"] for op in rest]
    assert ids == [arn.rsplit("/", 1)[-1], "s0", "s1", "s2", "s3"]


def test_get_state_on_an_unknown_execution_is_an_invalid_parameter():
    service = DurableService(lambda: 0)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/n/id"
    error = rejected(
        lambda: service.get_durable_execution_state(DurableExecutionArn=arn, CheckpointToken="A")
    )
    assert arn in error.message
