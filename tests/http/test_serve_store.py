"""``pytest-durable serve --store PATH``: state that outlives the process.

The kill -9 test runs the real command twice on one store file, with a SIGKILL in between: an
execution waiting on a callback before the kill completes when the callback is sent after the
restart. The other tests check the pieces in-process: the snapshot of every kind of state, one
transaction per request committed before the answer, timers that came due during the downtime,
20 concurrent clients.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from http_helpers import boto3_client
from test_http_cli import serving

from pytest_durable import DurableEnvironment, cli
from pytest_durable.clock import VirtualClock
from pytest_durable.errors import StoreError
from pytest_durable.service import DurableService
from pytest_durable.service.snapshot import execution_from_json, execution_to_json
from pytest_durable.store import SqliteStore, StoredClock, StoringRouter
from pytest_durable.transport import Router
from pytest_durable.transport.http import HttpEndpoint

HERE = Path(__file__).parent
T0 = "2030-01-01T00:00:00Z"


def _poll(check, *, timeout: float = 20.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _callback_id(client, arn: str) -> str | None:
    events = client.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    for event in events:
        if event["EventType"] == "CallbackStarted":
            return str(event["CallbackStartedDetails"]["CallbackId"])
    return None


# ----------------------------------------------------------------- the real command, kill -9


def test_kill_9_loses_nothing_that_was_acknowledged(tmp_path):
    store = tmp_path / "serve.sqlite"
    arguments = ["--store", str(store), "--function", "approvals=store_handlers:approval"]
    with serving(*arguments, cwd=str(HERE)) as first:
        client = boto3_client(first.url)
        started = client.invoke(
            FunctionName="approvals", InvocationType="Event", Payload=json.dumps({"order": 7})
        )
        arn = started["DurableExecutionArn"]
        callback_id = _poll(lambda: _callback_id(client, arn), what="the approval callback")
        client.close()
        first.process.kill()  # SIGKILL: no clean shutdown, no final commit
        first.process.wait(timeout=10)
    with serving(*arguments, cwd=str(HERE)) as second:
        assert any("restored 1 execution" in line for line in second.banner), second.banner
        client = boto3_client(second.url)
        assert client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
        client.send_durable_execution_callback_success(CallbackId=callback_id, Result=b'"yes"')
        done = _poll(
            lambda: (
                (d := client.get_durable_execution(DurableExecutionArn=arn))["Status"] != "RUNNING"
                and d
            ),
            what="the execution to end",
        )
        assert done["Status"] == "SUCCEEDED", done
        assert json.loads(done["Result"]) == {
            "reserved": "reserved-7",
            "approval": '"yes"',  # create_callback().result() is the raw payload
            "shipped": "shipped-7",
        }
        client.close()


def test_a_store_that_is_not_one_is_a_usage_error(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a database, " * 100)
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--store", str(bad)])
    assert exited.value.code == 2
    assert "cannot be used as a pytest-durable store" in capsys.readouterr().err


# ----------------------------------------------------------------- snapshot of the state


def _rich_environment():
    """Executions with every kind of state: steps, a retry, a wait, a callback, a map, a child
    context, a pause with a ClientToken, a finished execution."""
    from aws_durable_execution_sdk_python import DurableContext, durable_execution  # noqa: PLC0415
    from aws_durable_execution_sdk_python.config import Duration  # noqa: PLC0415

    @durable_execution
    def rich(event, context: DurableContext):
        context.step(lambda _: {"n": 1}, name="first")
        context.wait(Duration.from_hours(1), name="nap")
        context.map([1, 2], lambda ctx, item, index, items: item * 2, name="double")
        context.run_in_child_context(lambda ctx: ctx.step(lambda _: "inner", name="in"), name="c")
        callback = context.create_callback(name="approval")
        return callback.result()

    env = DurableEnvironment(start=T0)
    env.__enter__()
    waiting = env.start(rich, {"x": 1}).run_until_blocked()
    done = env.start(rich, {"x": 2}).run_until_blocked()
    done.callback("approval").succeed("ok")
    done.run()
    env.client.pause_durable_execution(DurableExecutionArn=waiting.arn, ClientToken="pause-1")
    return env


def test_every_execution_survives_its_snapshot():
    env = _rich_environment()
    try:
        for execution in env.service.executions:
            assert execution_from_json(execution_to_json(execution)) == execution
    finally:
        env.__exit__(None, None, None)


def test_a_store_restores_an_equal_service(tmp_path):
    env = _rich_environment()
    try:
        with SqliteStore(tmp_path / "s.sqlite") as store:
            store.commit(env.service)
        restored = DurableService(env.clock.now_ms)
        with SqliteStore(tmp_path / "s.sqlite") as store:
            assert store.restore(restored) == 2
        assert {e.arn: e for e in restored.executions} == {e.arn: e for e in env.service.executions}
        # The callback index is rebuilt: the waiting execution's callback can be answered.
        [waiting] = [e for e in restored.executions if e.status.value == "PAUSED"]
        [callback] = [op for op in waiting.operations.values() if op.callback_id]
        restored.send_durable_execution_callback_success(
            CallbackId=callback.callback_id, Result=b'"later"'
        )
    finally:
        env.__exit__(None, None, None)


def test_a_commit_writes_only_what_changed_and_deletes_what_is_gone(tmp_path):
    env = _rich_environment()
    try:
        path = tmp_path / "s.sqlite"
        with SqliteStore(path) as store:
            store.commit(env.service)
            changes = _changes(store)
            store.commit(env.service)
            assert _changes(store) == changes  # nothing to save: no transaction at all
            [done] = [e for e in env.service.executions if e.status.value == "SUCCEEDED"]
            env.client.delete_durable_execution(DurableExecutionArn=done.arn)
            store.commit(env.service)
        rows = sqlite3.connect(path).execute("SELECT arn FROM executions").fetchall()
        assert [arn for (arn,) in rows] != [done.arn] and len(rows) == 1
    finally:
        env.__exit__(None, None, None)


def _changes(store: SqliteStore) -> int:
    return int(store._db.total_changes)


def test_a_store_of_another_version_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    SqliteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="store version 99"):
        SqliteStore(path)


# ----------------------------------------------------------------- restart semantics


def _wait_started(service: DurableService, seconds: int) -> str:
    """An execution whose handler checkpointed a WAIT of ``seconds`` and then suspended."""
    execution = service.start_execution("sleeper", "{}")
    envelope = service.begin_invocation(execution.arn)
    service.checkpoint_durable_execution(
        DurableExecutionArn=execution.arn,
        CheckpointToken=envelope["CheckpointToken"],
        Updates=[
            {
                "Id": "w1",
                "Type": "WAIT",
                "Action": "START",
                "SubType": "Wait",
                "WaitOptions": {"WaitSeconds": seconds},
            }
        ],
    )
    service.end_invocation(execution.arn, {"Status": "PENDING"})
    return execution.arn


def test_timers_due_during_the_downtime_fire_at_restart(tmp_path):
    clock = VirtualClock(VirtualClock().now())
    service = DurableService(clock.now_ms)
    arn = _wait_started(service, 60)
    with SqliteStore(tmp_path / "s.sqlite") as store:
        store.commit(service, mode="virtual")
        saved = store.clock
    assert saved is not None
    # Two minutes later in the wall clock: the clock resumes past the wait's end.
    resumed = saved.resumed_ms(saved.wall_ms + 120_000)
    assert resumed == saved.service_ms + 120_000
    later = VirtualClock()
    later.advance_to(resumed)
    restarted = DurableService(later.now_ms)
    with SqliteStore(tmp_path / "s.sqlite") as store:
        store.restore(restarted)
    assert restarted.fire_due_timers(arn) == ["w1"]
    assert restarted.execution(arn).operations["w1"].status.value == "SUCCEEDED"


def test_the_clock_never_resumes_earlier_than_it_was():
    assert StoredClock(5_000, 10_000, "virtual").resumed_ms(9_000) == 5_000


def test_an_invocation_the_process_died_in_ends_as_failed_and_is_retried(tmp_path):
    service = DurableService(VirtualClock().now_ms)
    execution = service.start_execution("worker", "{}")
    service.begin_invocation(execution.arn)  # then the process dies
    with SqliteStore(tmp_path / "s.sqlite") as store:
        store.commit(service)
    restarted = DurableService(VirtualClock().now_ms)
    with SqliteStore(tmp_path / "s.sqlite") as store:
        store.restore(restarted)
    again = restarted.execution(execution.arn)
    assert again.active_invocation is None
    assert again.invocations[-1].outcome == "CRASHED"
    assert again.invocations[-1].error["ErrorType"] == "Sandbox.Restarted"
    assert restarted.woke_since_last_invocation(execution.arn)  # Lambda re-invokes it
    restarted.begin_invocation(execution.arn)


def test_serve_restarted_on_a_store_fires_the_timers_that_came_due(tmp_path, capsys):
    path = tmp_path / "s.sqlite"
    service = DurableService(VirtualClock().now_ms)
    arn = _wait_started(service, 1)
    with SqliteStore(path) as store:
        store.commit(service, mode="real")
    time.sleep(1.2)  # the downtime: the wait ends while nothing serves
    args = cli.build_parser().parse_args(["serve", "--store", str(path)])
    args.time = "real"
    ready, stop = threading.Event(), threading.Event()
    server = threading.Thread(target=cli.serve, args=(args,), kwargs={"ready": ready, "stop": stop})
    server.start()
    try:
        assert ready.wait(timeout=10)
        out = capsys.readouterr().out
        assert "restored 1 execution(s)" in out
        url = re.search(r"on (http://\S+) ", out).group(1)  # type: ignore[union-attr]
        client = boto3_client(url)
        events = _poll(
            lambda: [
                e["EventType"]
                for e in client.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
                if e["EventType"] == "WaitSucceeded"
            ],
            timeout=10,
            what="WaitSucceeded",
        )
        assert events == ["WaitSucceeded"]
        client.close()
    finally:
        stop.set()
        server.join(timeout=10)
    with SqliteStore(path) as store:  # and the fired timer was committed
        reread = DurableService(VirtualClock().now_ms)
        store.restore(reread)
    assert reread.execution(arn).operations["w1"].status.value == "SUCCEEDED"


# ----------------------------------------------------------------- requests and the store


@pytest.fixture
def stored(tmp_path):
    """A service on loopback HTTP whose every answered request is committed to a store."""
    service = DurableService(VirtualClock().now_ms)
    store = SqliteStore(tmp_path / "s.sqlite")
    router = StoringRouter(Router(service), lambda: store.commit(service))
    with HttpEndpoint(router) as endpoint:
        yield service, store, endpoint.url
    store.close()


def _steps(service: DurableService, client, count: int, name: str) -> str:
    execution = service.start_execution(name, "{}")
    token = service.begin_invocation(execution.arn)["CheckpointToken"]
    for index in range(count):
        for action in ("START", "SUCCEED"):
            update = {"Id": f"s{index}", "Type": "STEP", "Action": action, "SubType": "Step"}
            if action == "SUCCEED":
                update["Payload"] = json.dumps(index)
            answer = client.checkpoint_durable_execution(
                DurableExecutionArn=execution.arn, CheckpointToken=token, Updates=[update]
            )
            token = answer["CheckpointToken"]
    return execution.arn


def test_an_answered_checkpoint_is_already_on_disk(stored):
    service, store, url = stored
    client = boto3_client(url)
    arn = _steps(service, client, 1, "one")
    reader = sqlite3.connect(store.path)  # another connection: sees committed data only
    (text,) = reader.execute("SELECT data FROM executions WHERE arn = ?", (arn,)).fetchone()
    assert execution_from_json(text).operations["s0"].status.value == "SUCCEEDED"
    reader.close()
    client.close()


def test_twenty_concurrent_clients_and_the_store_agree(stored):
    service, store, url = stored
    arns: list[str] = []
    errors: list[BaseException] = []

    def client_thread(index: int) -> None:
        client = boto3_client(url)
        try:
            arns.append(_steps(service, client, 3, f"client-{index}"))
        except BaseException as error:  # reported below, not lost on the thread
            errors.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=client_thread, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(arns) == 20
    restored = DurableService(VirtualClock().now_ms)
    with SqliteStore(store.path) as reread:
        assert reread.restore(restored) == 20
    for arn in arns:
        live, saved = service.execution(arn), restored.execution(arn)
        assert saved.operations == live.operations
        assert [op.status.value for op in saved.operations.values()][1:] == ["SUCCEEDED"] * 3


def test_a_store_keeps_its_kind_of_clock(tmp_path, capsys):
    path = tmp_path / "s.sqlite"
    with SqliteStore(path) as store:
        store.commit(DurableService(VirtualClock().now_ms), mode="virtual")
    for arguments in (["--time", "real"], ["--time", "virtual", "--start", "2030-01-01"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(["serve", "--store", str(path), *arguments])
        assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "keeps a virtual-time clock; this serve would run on real time" in err
    assert "already has a clock (it resumes where it stopped); drop --start" in err


def test_only_executions_the_service_handed_out_are_saved_again():
    service = DurableService(VirtualClock().now_ms)
    first = service.start_execution("a", "{}").arn
    second = service.start_execution("b", "{}").arn
    assert service.take_touched() == {first, second}
    assert service.take_touched() == set()
    service.fire_due_timers(second)
    assert service.take_touched() == {second}
