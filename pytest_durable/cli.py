"""The ``pytest-durable`` command line.

``pytest-durable serve`` runs the fake durable-execution service on loopback HTTP, for handlers
and tools in other processes: export the printed variables and point ``AWS_ENDPOINT_URL_LAMBDA``
at the printed URL. It runs until SIGINT (Ctrl-C) or SIGTERM, then stops cleanly with status 0.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import ipaddress
import os
import shlex
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from importlib import metadata
from types import FrameType
from typing import Any

from pytest_durable.cassette.replay.cli import add_replay_command, run_replay
from pytest_durable.clock import VirtualClock
from pytest_durable.errors import ServiceError, StoreError
from pytest_durable.parsing import resolve_reference, split_reference
from pytest_durable.runner import DurableEnvironment
from pytest_durable.service import DurableService
from pytest_durable.store import SqliteStore, attach_store
from pytest_durable.transport import Router
from pytest_durable.transport.faults import FaultPlan
from pytest_durable.transport.http import (
    DEFAULT_IDLE_TIMEOUT_SECONDS,
    DEFAULT_MAX_CONNECTIONS,
    HttpEndpoint,
)
from pytest_durable.transport.router import DURABLE_OPERATIONS

TIMER_TICK_SECONDS = 0.05
SAVE_EVERY_TICKS = 10


def _parse_start(text: str) -> _dt.datetime:
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--start must be an ISO-8601 date-time such as 2030-01-01T00:00:00Z, got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)


def _port(text: str) -> int:
    # Checked here so that a bad port is a usage error (status 2), not a traceback from bind().
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be 0..65535, got {text!r}")
    return port


def _function(text: str) -> tuple[str, str]:
    name, _, target = text.partition("=")
    try:
        split_reference(target)
    except ValueError:
        valid = False
    else:
        valid = bool(name)
    if not valid:
        raise argparse.ArgumentTypeError(
            f"--function takes NAME=MODULE:HANDLER (e.g. orders=app.handlers:handler), got {text!r}"
        )
    return name, target


def _load_handler(target: str) -> Any:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return resolve_reference(target)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the endpoint on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def _version() -> str:
    try:
        return metadata.version("pytest-durable")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-durable",
        description="Tools of pytest-durable, the fake AWS Lambda durable-execution service.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the fake durable-execution API on loopback HTTP",
        description=(
            "Serve the 12 durable-execution APIs of the Lambda API on HTTP. Timers (waits, "
            "retry delays, callback and execution timeouts) fire on the service's clock. "
            "Stop with Ctrl-C or SIGTERM."
        ),
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help=(
            "address to bind (default 127.0.0.1); an address other machines can reach needs "
            "--allow-remote"
        ),
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help=(
            "allow a --host that is not loopback: the fake has no authentication, so anyone who "
            "reaches the port can read and change every execution"
        ),
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="VERB:API[:KEY=VALUE,...]",
        help=(
            "inject a fault: throttle, fail, lose_answer or delay, into calls of API, e.g. "
            "throttle:CheckpointDurableExecution:times=2, "
            "fail:CheckpointDurableExecution:code=KMSDisabledException,on_call=3, "
            "delay:GetDurableExecutionState:seconds=2; repeatable"
        ),
    )
    serve.add_argument(
        "--idle-timeout",
        type=float,
        default=DEFAULT_IDLE_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=(
            "close a connection that sends nothing for this long "
            f"(default {DEFAULT_IDLE_TIMEOUT_SECONDS:g})"
        ),
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help=f"answer 429 past N open connections (default {DEFAULT_MAX_CONNECTIONS})",
    )
    serve.add_argument("--port", type=_port, default=0, help="port (default 0: a free one)")
    serve.add_argument(
        "--time",
        choices=("real", "virtual"),
        default=None,
        help=(
            "real: the service's clock is the wall clock; virtual: it starts at --start and "
            "ticks at the real rate from there, and with --function jumps over waits (default "
            "real, or virtual with --function)"
        ),
    )
    serve.add_argument(
        "--function",
        action="append",
        default=[],
        type=_function,
        metavar="NAME=MODULE:HANDLER",
        help=(
            "serve Lambda's Invoke (InvocationType Event) for function NAME by running the "
            "@durable_execution handler MODULE:HANDLER (importable from the current directory) "
            "as a durable execution, like in tests; repeatable"
        ),
    )
    serve.add_argument(
        "--start",
        type=_parse_start,
        default=None,
        help="virtual start time, ISO-8601 (with --time virtual; default now)",
    )
    serve.add_argument("--region", default="us-east-1", help="region used in ARNs")
    serve.add_argument(
        "--store",
        metavar="PATH",
        help=(
            "keep executions, tokens, timers, callbacks and the clock in this SQLite file "
            "(created if missing): every answered request is saved before its answer, so a "
            "restart, or kill -9, loses nothing acknowledged (default: in memory)"
        ),
    )
    add_replay_command(commands)
    return parser


def _fire_timers_forever(
    service: DurableService,
    stop: threading.Event,
    save: Callable[[], None] | None = None,
) -> None:
    """Fire due timers every tick; with a store, ``save`` what they changed (and, every
    ``SAVE_EVERY_TICKS``, what the runner changed outside any request)."""
    ticks = 0
    while not stop.wait(TIMER_TICK_SECONDS):
        fired = False
        for execution in service.executions:
            try:
                fired = bool(service.fire_due_timers(execution.arn)) or fired
            except ServiceError:
                # An execution deleted between the listing and this call is gone; one error
                # must not end this thread, and with it every other execution's timers.
                continue
        ticks += 1
        if save is not None and (fired or ticks % SAVE_EVERY_TICKS == 0):
            try:
                save()
            except (sqlite3.Error, OSError) as error:  # keep serving; say it once per failure
                print(f"pytest-durable: could not save to the store: {error}", file=sys.stderr)


def serve(
    args: argparse.Namespace,
    *,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Serve until ``stop`` is set, or SIGINT/SIGTERM arrives (on the main thread)."""
    functions: list[tuple[str, str]] = getattr(args, "function", []) or []
    store = SqliteStore(args.store) if getattr(args, "store", None) else None
    with ExitStack() as resources:
        start = args.start
        if store is not None:
            resources.callback(store.close)
            start = _resumed_start(store, args)
        if functions:
            # Lambda's part too: Invoke starts executions of local handlers, driven by the
            # runner on its virtual clock (waits finish at once), as in tests.
            from pytest_durable.cassette.standin import LambdaStandIn  # noqa: PLC0415

            environment = resources.enter_context(
                DurableEnvironment(start=start, region=args.region)
            )
            clock, service = environment.clock, environment.service
            standin = LambdaStandIn(environment)
            for name, target in functions:
                standin.register(name, _load_handler(target))
            resources.callback(standin.stop)
            router: Router = standin
        else:
            clock = VirtualClock(start)
            service = DurableService(clock.now_ms, region=args.region)
            router = Router(service)
        save: Callable[[], None] | None = None
        notes: list[str] = []
        if store is not None:
            router, save, restored = attach_store(store, service, router, mode=args.time)
            resources.callback(save)  # the last changes, on a clean stop
            notes.append(f"Store {store.path}: restored {restored} execution(s)")
            if functions:
                for execution in service.executions:
                    standin.adopt(execution.arn)  # Lambda's part goes on where it stopped
        return _serve(
            args, clock, service, router, functions, ready=ready, stop=stop, save=save, notes=notes
        )


def _resumed_start(store: SqliteStore, args: argparse.Namespace) -> _dt.datetime | None:
    """The clock of a store resumes at its saved time plus the downtime (real time: now)."""
    saved = store.clock
    start: _dt.datetime | None = args.start
    if saved is None or args.time == "real":
        return start
    return _dt.datetime.fromtimestamp(saved.resumed_ms() / 1000, _dt.UTC)


def _check_store(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A store that cannot be opened, or whose clock contradicts the flags, is a usage error."""
    try:
        with SqliteStore(args.store) as store:
            saved = store.clock
    except StoreError as error:
        parser.error(str(error))
    if saved is None:
        return
    if saved.mode != args.time:
        parser.error(
            f"--store {args.store} keeps a {saved.mode}-time clock; this serve would run on "
            f"{args.time} time. Use the same --time (and --function) as when it was created, "
            f"or a new store file."
        )
    if args.start is not None:
        parser.error(
            f"--store {args.store} already has a clock (it resumes where it stopped); drop --start"
        )


def _serve(
    args: argparse.Namespace,
    clock: VirtualClock,
    service: DurableService,
    router: Router,
    functions: list[tuple[str, str]],
    *,
    ready: threading.Event | None,
    stop: threading.Event | None,
    save: Callable[[], None] | None = None,
    notes: Sequence[str] = (),
) -> int:
    for spec in getattr(args, "fault", []):
        router.faults.declare(spec)  # checked by main(): a bad spec is a usage error
    try:
        endpoint = HttpEndpoint(
            router,
            host=args.host,
            port=args.port,
            idle_timeout=getattr(args, "idle_timeout", DEFAULT_IDLE_TIMEOUT_SECONDS),
            max_connections=getattr(args, "max_connections", DEFAULT_MAX_CONNECTIONS),
        )
    except OSError as error:
        print(f"pytest-durable: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    stop = stop or threading.Event()
    restore = _stop_on_signals(stop)
    # With --function, the environment's scheduler fires every timer (and moves virtual time);
    # without, the bare service needs its timers fired as the clock passes them. A store also
    # saves, on this tick, what changed outside any request.
    timers = threading.Thread(
        target=_fire_timers_forever, args=(service, stop, save), name="timers", daemon=True
    )
    try:
        endpoint.start()
        if not functions or save is not None:
            timers.start()
        print(
            f"pytest-durable: durable-execution service on {endpoint.url} ({args.time} time, "
            f"now {clock.now().isoformat(timespec='seconds')})"
        )
        for note in notes:
            print(note)
        if not is_loopback(args.host):
            host, port = endpoint.bound_address
            print(
                f"pytest-durable: WARNING: listening on {host}:{port}, reachable from other "
                f"machines; the fake has no authentication: anyone who reaches it can read and "
                f"change every execution",
                file=sys.stderr,
                flush=True,
            )
        for rule in router.faults.rules:
            print(f"Fault: {rule.kind} {rule.api} (times={rule.times})")
        for name, target in functions:
            print(f"Invoke (InvocationType Event) of {name} runs {target}")
        print("Export these for the AWS SDKs (the credentials are dummies, never checked):")
        for name, value in endpoint.environment(args.region).items():
            print(f"export {name}={shlex.quote(value)}")
        # Flushed at once: a parent process reads the URL from a pipe, which is block-buffered.
        sys.stdout.flush()
        if ready is not None:
            ready.set()
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        endpoint.stop()
        if timers.is_alive():
            timers.join(timeout=1)
        restore()
    print("pytest-durable: stopped", flush=True)
    return 0


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGINT and SIGTERM set ``stop`` (only possible on the main thread); returns a
    function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        if args.time is None:
            args.time = "virtual" if args.function else "real"
        if args.time == "real" and args.start is not None:
            parser.error("--start needs --time virtual")  # exits with status 2
        if args.time == "real" and args.function:
            parser.error("--function runs executions on virtual time; drop --time real")
        if not is_loopback(args.host) and not args.allow_remote:
            parser.error(
                f"--host {args.host} is reachable from other machines, and the fake has no "
                f"authentication; bind 127.0.0.1 (the default), or add --allow-remote if you "
                f"really mean to expose it"
            )
        if args.idle_timeout <= 0 or args.max_connections < 1:
            parser.error("--idle-timeout must be > 0 and --max-connections at least 1")
        for spec in args.fault:  # a bad fault is a usage error, before anything binds
            try:
                FaultPlan(now_ms=lambda: 0, durable_apis=DURABLE_OPERATIONS).declare(spec)
            except ValueError as error:
                parser.error(f"--fault: {error}")
        for _, target in args.function:  # a handler that cannot be imported is a usage error
            try:
                _load_handler(target)
            except (ImportError, AttributeError) as error:
                parser.error(f"--function: cannot import {target}: {error}")
        if args.store:
            _check_store(parser, args)
        return serve(args)
    if args.command == "replay":
        return run_replay(args)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
