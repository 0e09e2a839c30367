"""The ``pytest-durable`` command line.

``pytest-durable serve`` runs the fake durable-execution service on loopback HTTP, for handlers
and tools in other processes: point ``AWS_ENDPOINT_URL_LAMBDA`` at the printed URL.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import threading
from collections.abc import Sequence

from pytest_durable.clock import VirtualClock
from pytest_durable.service import DurableService
from pytest_durable.transport import Router
from pytest_durable.transport.http import HttpEndpoint

TIMER_TICK_SECONDS = 0.05


def _parse_start(text: str) -> _dt.datetime:
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--start must be an ISO-8601 date-time such as 2030-01-01T00:00:00Z, got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-durable",
        description="Tools of pytest-durable, the fake AWS Lambda durable-execution service.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the fake durable-execution API on loopback HTTP",
        description=(
            "Serve the 12 durable-execution APIs of the Lambda API on HTTP. Timers (waits, "
            "retry delays, callback and execution timeouts) fire on the service's clock."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    serve.add_argument(
        "--time",
        choices=("real", "virtual"),
        default="real",
        help=(
            "real: the service's clock is the wall clock; virtual: it starts at --start and "
            "ticks at the real rate from there (default real)"
        ),
    )
    serve.add_argument(
        "--start",
        type=_parse_start,
        default=None,
        help="virtual start time, ISO-8601 (with --time virtual; default now)",
    )
    serve.add_argument("--region", default="us-east-1", help="region used in ARNs")
    return parser


def _fire_timers_forever(service: DurableService, stop: threading.Event) -> None:
    while not stop.wait(TIMER_TICK_SECONDS):
        for execution in service.executions:
            service.fire_due_timers(execution.arn)


def serve(args: argparse.Namespace, *, ready: threading.Event | None = None) -> int:
    if args.time == "real" and args.start is not None:
        print("pytest-durable: --start needs --time virtual", file=sys.stderr)
        return 2
    clock = VirtualClock(args.start)
    service = DurableService(clock.now_ms, region=args.region)
    endpoint = HttpEndpoint(Router(service), host=args.host, port=args.port)
    stop = threading.Event()
    timers = threading.Thread(
        target=_fire_timers_forever, args=(service, stop), name="timers", daemon=True
    )
    timers.start()
    print(f"pytest-durable: durable-execution service on {endpoint.url} ({args.time} time)")
    print("Export these for the AWS SDKs (the credentials are dummies, never checked):")
    print(f"export AWS_ENDPOINT_URL_LAMBDA={endpoint.url}")
    print("export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing")
    print(f"export AWS_DEFAULT_REGION={args.region}")
    sys.stdout.flush()
    if ready is not None:
        ready.set()
    try:
        endpoint.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
