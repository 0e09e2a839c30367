"""Record a cloud-mode run through the loopback stand-in (a real boto3 client, signing with
real-looking credentials), then replay it offline with the network blocked."""

from __future__ import annotations

import socket

import pytest
import yaml
from cassette_constants import ACCESS_KEY, FAST, SECRET_KEY, SESSION_TOKEN
from cassette_handlers import BODIES, fulfilment, orders

from pytest_durable.cassette.local import RecordingEnvironment, save_local
from pytest_durable.cassette.recording.format import read_cassette
from pytest_durable.cassette.recording.network import block_network
from pytest_durable.cassette.recording.recorder import CloudSession, CloudSettings
from pytest_durable.cassette.replay.replayer import replay_execution
from pytest_durable.errors import (
    CassetteLeakError,
    CassetteMissingError,
    CassetteSourceError,
    CloudRunError,
    NetworkBlockedError,
)

COMMAND = "pytest 'tests/test_orders.py::test_ship' --durable-mode=cloud --durable-record-mode=once"


def session(path, mode, standin=None, **options):
    factory = None
    if standin is not None:

        def factory():
            return standin.client(), [ACCESS_KEY, SECRET_KEY, SESSION_TOKEN]

    return CloudSession(
        path,
        mode,
        test_id="tests/test_orders.py::test_ship",
        record_command=COMMAND,
        settings=CloudSettings(polling=FAST),
        client_factory=factory,
        **options,
    )


def record(path, standin, mode="once", **options):
    recording = session(path, mode, standin, **options)
    with recording as cloud:
        cloud.functions.mapping["*"] = "fulfilment"
        cloud.before_invoke = standin.lambda_.register
        cloud.on_callback("approval").succeed({"approved": True})
        result = cloud.run(fulfilment, {"items": ["a", "b"]})
        recording.finish(save=True)
    return result, recording


def test_record_then_replay_offline_with_the_network_blocked(standin, cassette_path):
    recorded, recording = record(cassette_path, standin)
    assert recording.written == [cassette_path]
    standin.endpoint.stop()  # nothing answers on loopback any more

    replay = session(cassette_path, "none")
    with replay as cloud:
        assert replay.replaying
        with pytest.raises(NetworkBlockedError):
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        cloud.on_callback("approval").succeed({"approved": True})
        replayed = cloud.run(fulfilment, {"items": ["a", "b"]})
        replay.finish(save=True)

    assert replay.written == []  # a replay never rewrites its cassette
    assert replayed.status == recorded.status == "SUCCEEDED"
    assert replayed.output == recorded.output
    assert replayed.arn == recorded.arn
    assert [(op.path, op.status) for op in replayed.all_operations()] == [
        (op.path, op.status) for op in recorded.all_operations()
    ]
    assert replayed.history == recorded.history


def test_a_cassette_contains_no_credential_or_signature(standin, cassette_path):
    record(cassette_path, standin)
    text = cassette_path.read_text()

    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN):
        assert secret not in text
    for header in (
        "Authorization",
        "AWS4-HMAC-SHA256",
        "Signature=",
        "X-Amz-Security-Token",
        "X-Amz-Date",
        "amz-sdk-invocation-id",
        "User-Agent",
        "ClientToken",
    ):
        assert header.lower() not in text.lower()


def test_the_cassette_holds_the_execution_and_the_interactions(standin, cassette_path):
    recorded, _ = record(cassette_path, standin)
    cassette = read_cassette(cassette_path)
    document = yaml.safe_load(cassette_path.read_text())

    assert cassette.source == "cloud"
    assert cassette.recorded["region"] == "eu-west-1"
    execution = cassette.execution(0)
    assert (execution.arn, execution.status, execution.function_name) == (
        recorded.arn,
        "SUCCEEDED",
        "fulfilment",
    )
    assert execution.input_payload == '{"items": ["a", "b"]}'
    assert execution.handler == "cassette_handlers:fulfilment"
    assert [op["Name"] for op in execution.operations if op["Type"] == "STEP"][:1] == ["reserve"]
    assert len(execution.history) == len(recorded.history)
    requests = [(i["request"]["method"], i["request"]["uri"]) for i in document["interactions"]]
    assert requests[0][0] == "POST" and requests[0][1].endswith("/functions/fulfilment/invocations")
    assert any(
        "/durable-execution-callbacks/" in uri and uri.endswith("/succeed") for _, uri in requests
    )
    assert any(uri.split("?")[0].endswith("/history") for _, uri in requests)


def test_the_account_id_is_masked_on_request(standin, cassette_path):
    record(cassette_path, standin, mask_account=True)
    text = cassette_path.read_text()
    assert "210987654321" not in text
    assert ":000000000000:function:fulfilment" in text

    with session(cassette_path, "none") as cloud:  # and it still replays
        cloud.on_callback("approval").succeed({"approved": True})
        assert cloud.run(fulfilment, {"items": ["a", "b"]}).status == "SUCCEEDED"


def test_record_mode_none_without_a_cassette_names_the_command(cassette_path):
    with pytest.raises(CassetteMissingError) as caught, session(cassette_path, "none"):
        pass
    assert COMMAND in str(caught.value)
    assert "record mode is 'none'" in str(caught.value)


def test_a_request_the_cassette_lacks_fails_offline(standin, cassette_path):
    record(cassette_path, standin)
    with (
        session(cassette_path, "none") as cloud,
        pytest.raises(CloudRunError, match=r"no recorded answer for this invoke.*record-mode=all"),
    ):
        cloud.run(fulfilment, {"items": ["something else"]})


def test_mode_once_replays_an_existing_cassette_and_all_records_again(standin, cassette_path):
    first, _ = record(cassette_path, standin)
    again, recording = record(cassette_path, standin, mode="once")
    assert recording.replaying and again.arn == first.arn

    fresh, recording = record(cassette_path, standin, mode="all")
    assert not recording.replaying and fresh.arn != first.arn
    cassette = read_cassette(cassette_path)
    assert [e.arn for e in cassette.executions] == [fresh.arn]
    assert first.arn not in cassette_path.read_text()


def test_new_episodes_keeps_what_matched_and_adds_what_is_new(standin, cassette_path):
    first, _ = record(cassette_path, standin)
    recording = session(cassette_path, "new_episodes", standin)
    with recording as cloud:
        cloud.before_invoke = standin.lambda_.register
        cloud.functions.mapping["*"] = "fulfilment"
        cloud.on_callback("approval").succeed({"approved": True})
        replayed = cloud.run(fulfilment, {"items": ["a", "b"]})
        other = cloud.run(orders, {}, function_name="orders")
        recording.finish(save=True)

    assert replayed.arn == first.arn
    cassette = read_cassette(cassette_path)
    assert {e.arn for e in cassette.executions} == {first.arn, other.arn}


def test_a_failed_test_writes_no_cassette(standin, cassette_path):
    recording = session(cassette_path, "once", standin)
    with recording as cloud:
        cloud.before_invoke = standin.lambda_.register
        cloud.run(orders, {})
        recording.finish(save=False)
    assert not cassette_path.exists()


def test_scrub_hooks_edit_the_document_and_leaks_are_refused(standin, cassette_path):
    def hide_items(document, path):
        for execution in document["executions"]:
            execution["input"] = "<redacted>"

    record(cassette_path, standin, scrub_hooks=[hide_items])
    assert read_cassette(cassette_path).execution(0).input_payload == "<redacted>"

    def leak(document, path):
        document["recorded"]["oops"] = SECRET_KEY

    with pytest.raises(CassetteLeakError, match=r"pyte\.\.\.") as caught:
        record(cassette_path.with_name("leaky.yaml"), standin, scrub_hooks=[leak])
    assert SECRET_KEY not in str(caught.value)
    assert not cassette_path.with_name("leaky.yaml").exists()


def test_a_local_cassette_cannot_replay_a_cloud_test(cassette_path):
    with RecordingEnvironment() as env:
        env.run(orders, {})
    save_local(env, cassette_path, "once")
    with (
        pytest.raises(CassetteSourceError, match="recorded from a local run"),
        session(cassette_path, "none"),
    ):
        pass


def test_replaying_runs_no_step_body_of_the_test_process(standin, cassette_path):
    record(cassette_path, standin)
    standin.lambda_.stop()  # the stand-in's own threads are done before counting bodies
    BODIES.clear()
    with session(cassette_path, "none") as cloud:
        cloud.on_callback("approval").succeed({"approved": True})
        cloud.run(fulfilment, {"items": ["a", "b"]})
    assert BODIES == []


def test_block_network_allows_what_it_is_told():
    with block_network(allow_hosts=["127.0.0.1"]):
        with pytest.raises(OSError) as caught:
            socket.create_connection(("127.0.0.1", 9), timeout=1)  # refused, but not blocked
        assert not isinstance(caught.value, NetworkBlockedError)
        with pytest.raises(NetworkBlockedError, match=r"10\.255\.255\.1"):
            socket.create_connection(("10.255.255.1", 80), timeout=1)
    sock = socket.socket()
    sock.close()


def test_an_execution_in_flight_is_recorded_as_it_stands(standin, cassette_path):
    recording = session(cassette_path, "once", standin)
    with recording as cloud:
        cloud.before_invoke = standin.lambda_.register
        execution = cloud.start(fulfilment, {"items": ["a"]}).run_until_blocked()
        assert [cb.name for cb in execution.callbacks] == ["approval"]

    recorded = read_cassette(cassette_path).execution(0)
    assert recorded.status == "RUNNING"
    assert [op["Status"] for op in recorded.operations if op.get("Name") == "approval"] == [
        "STARTED"
    ]
    BODIES.clear()  # the stand-in ran them while recording
    report = replay_execution(fulfilment, cassette_path)
    assert report.ok, str(report)
    assert report.replayed_status == "PENDING"
    assert BODIES == []

    with session(cassette_path, "none") as cloud:  # and the test itself replays offline
        execution = cloud.start(fulfilment, {"items": ["a"]}).run_until_blocked()
        assert [cb.name for cb in execution.callbacks] == ["approval"]
