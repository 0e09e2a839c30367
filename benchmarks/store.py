"""What ``serve --store`` costs per request: the same checkpoints over loopback HTTP, with and
without the SQLite store committing each one before its answer.

    python benchmarks/store.py                 # 20 clients x 10 steps, 5 alternated rounds
    python benchmarks/store.py --clients 1 --steps 200 --rounds 3

Each round runs both configurations (alternated, a fresh service, store file and clients for
each, ``gc.collect()`` before each) and the table shows medians and the ratio. Every run is
checked: each execution ends with all its steps SUCCEEDED, and with the store, a service
restored from the file has the same operations.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pytest_durable.clock import VirtualClock
from pytest_durable.service import DurableService
from pytest_durable.store import SqliteStore, StoringRouter
from pytest_durable.transport import Router
from pytest_durable.transport.http import HttpEndpoint, make_http_client


def _client_run(service: DurableService, client: Any, steps: int, name: str) -> str:
    execution = service.start_execution(name, "{}")
    token = service.begin_invocation(execution.arn)["CheckpointToken"]
    for index in range(steps):
        for action in ("START", "SUCCEED"):
            update: dict[str, Any] = {
                "Id": f"s{index}",
                "Type": "STEP",
                "Action": action,
                "SubType": "Step",
            }
            if action == "SUCCEED":
                update["Payload"] = json.dumps(index)
            token = client.checkpoint_durable_execution(
                DurableExecutionArn=execution.arn, CheckpointToken=token, Updates=[update]
            )["CheckpointToken"]
    return execution.arn


def run(*, stored: bool, clients: int, steps: int) -> float:
    service = DurableService(VirtualClock().now_ms)
    directory = Path(tempfile.mkdtemp())
    store = SqliteStore(directory / "serve.sqlite") if stored else None
    router: Router = Router(service)
    if store is not None:
        router = StoringRouter(router, lambda: store.commit(service))
    with HttpEndpoint(router) as endpoint:
        botos = [make_http_client(endpoint.url) for _ in range(clients)]
        arns: list[str] = []
        threads = [
            threading.Thread(
                target=lambda i=i: arns.append(_client_run(service, botos[i], steps, f"c{i}"))
            )
            for i in range(clients)
        ]
        gc.collect()
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        for client in botos:
            client.close()
    assert len(arns) == clients, "a client failed"
    for arn in arns:
        statuses = [op.status.value for op in service.execution(arn).operations.values()]
        assert statuses[1:] == ["SUCCEEDED"] * steps, statuses
    if store is not None:
        store.close()
        restored = DurableService(VirtualClock().now_ms)
        with SqliteStore(store.path) as reread:
            reread.restore(restored)
        for arn in arns:
            assert restored.execution(arn).operations == service.execution(arn).operations
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    run(stored=True, clients=2, steps=2)  # warm-up
    memory, stored = [], []
    for _ in range(args.rounds):
        memory.append(run(stored=False, clients=args.clients, steps=args.steps))
        stored.append(run(stored=True, clients=args.clients, steps=args.steps))
    requests = args.clients * args.steps * 2
    in_memory, on_disk = statistics.median(memory), statistics.median(stored)
    print(f"{args.clients} clients x {args.steps} steps = {requests} checkpoint requests")
    print(f"in memory   {in_memory:.3f} s  ({in_memory / requests * 1e3:.2f} ms/request)")
    print(f"--store     {on_disk:.3f} s  ({on_disk / requests * 1e3:.2f} ms/request)")
    print(f"ratio       {on_disk / in_memory:.2f}x")


if __name__ == "__main__":
    main()
