"""The in-process transport: a real boto3 ``lambda`` client whose requests never leave the process.

botocore serializes every call exactly as for AWS; a ``before-send`` handler (the hook botocore
offers for this, and the one moto uses) hands the prepared request to the :class:`Router` and
returns its answer as an ``AWSResponse``, which botocore's real parser turns into the result or
a ``ClientError``. Credentials and region are fixed dummies: the client never reads the user's
AWS configuration or environment, so a test cannot reach, or need, a real account.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore import UNSIGNED
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from pytest_durable.transport.router import HttpResponse, Router, botocore_session

DUMMY_ENDPOINT = "https://lambda.{region}.amazonaws.com"


class _RawBody:
    """The minimal raw-response object ``AWSResponse.content`` reads (``stream()``)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


Send = Callable[[AWSPreparedRequest], AWSResponse]
Sleep = Callable[[float], object]


def _new_client(
    region: str, user_agent_extra: str, send: Send, retry_sleep: Callable[[], Sleep | None]
) -> Any:
    """A botocore ``lambda`` client whose every prepared request is answered by ``send``.

    Retries follow botocore's defaults for the SDK's client (standard mode, same ClientToken on
    each attempt), so fault-injected 5xx/429 answers are retried as they would be against AWS;
    their backoff passes with the sleep ``retry_sleep()`` gives (the runner's: the virtual
    clock), or in real time if it gives None.
    """
    client = botocore_session().create_client(
        "lambda",
        region_name=region,
        endpoint_url=DUMMY_ENDPOINT.format(region=region),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # a dummy, never a real secret
        config=Config(
            connect_timeout=5,
            read_timeout=50,
            user_agent_extra=user_agent_extra or None,
            retries={"mode": "standard", "total_max_attempts": 3},
            # In-process requests are not signed: nothing checks a signature here, and signing
            # is ~20% of a checkpoint's cost. Serialization and parsing are untouched.
            signature_version=UNSIGNED,
        ),
    )

    def before_send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        return send(request)

    client.meta.events.register("before-send.lambda", before_send)
    _sleep_retries_with(client, retry_sleep)
    return client


def _sleep_retries_with(client: Any, retry_sleep: Callable[[], Sleep | None]) -> None:
    """Make botocore's retry backoff pass with the current ``retry_sleep()``. Its standard-mode
    ``RetryHandler`` computes each delay with ``_retry_policy.compute_retry_delay`` and the
    endpoint then sleeps that long in real time; the wrapper spends the delay with the given
    sleep and has the endpoint wait 0 s. Without these pieces, retries wait in real time."""
    emitter = getattr(client.meta.events, "_emitter", None)
    handlers = getattr(emitter, "_handlers", None)
    if handlers is None or not hasattr(handlers, "prefix_search"):  # pragma: no cover
        return
    for handler in handlers.prefix_search("needs-retry.lambda"):
        policy = getattr(getattr(handler, "__self__", None), "_retry_policy", None)
        compute = getattr(policy, "compute_retry_delay", None)
        if compute is None:  # pragma: no cover - another botocore's retry handler
            continue

        def spend(context: Any, compute: Callable[[Any], float] = compute) -> float:
            delay = compute(context)
            sleep = retry_sleep()
            if sleep is None:
                return delay
            sleep(delay)
            return 0.0

        policy.compute_retry_delay = spend  # type: ignore[union-attr]


def _answer(router: Router, request: AWSPreparedRequest) -> HttpResponse:
    url = urllib.parse.urlsplit(request.url)
    path = url.path + (f"?{url.query}" if url.query else "")
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    elif hasattr(body, "read"):
        body = body.read()
    return router.handle(request.method, path, _text_headers(request), body)


def _text_headers(request: AWSPreparedRequest) -> dict[str, str]:
    """The request's headers as the HTTP transport hands them to the router: text.

    botocore keeps some header values as bytes after signing (``X-Amz-Invocation-Type`` of an
    ``Invoke``, for one); over a socket they arrive as ISO-8859-1 text, so they are read the same
    way here and one router sees one shape from both transports.
    """
    return {
        name: value.decode("iso-8859-1") if isinstance(value, bytes) else value
        for name, value in request.headers.items()
    }


def _response(request: AWSPreparedRequest, answer: HttpResponse) -> AWSResponse:
    """botocore's response for an answer. An answer the router marks ``lost`` (an injected
    ``lose_answer``) is botocore's ``ReadTimeoutError`` instead: the request was applied, the
    client saw nothing, and botocore retries it as it retries a timeout from AWS."""
    if answer.lost:
        raise ReadTimeoutError(endpoint_url=request.url)
    return AWSResponse(request.url, answer.status, answer.headers, _RawBody(answer.body))


def make_client(
    router: Router,
    *,
    region: str = "us-east-1",
    user_agent_extra: str = "",
    retry_sleep: Sleep | None = None,
) -> Any:
    """A boto3 ``lambda`` client wired to ``router`` without a socket, for as long as it lives;
    ``retry_sleep`` replaces the real sleep between botocore's retries."""
    return _new_client(
        region,
        user_agent_extra,
        lambda request: _response(request, _answer(router, request)),
        lambda: retry_sleep,
    )


# ----------------------------------------------------------------------------- reuse
#
# Building a botocore client costs milliseconds (its class has a method per operation of the
# whole Lambda API, its event hooks are copied from the session), and every test's environment
# needs one for the SDK. So environments lease clients one after another: while leased, a
# client's requests go to that environment's router; when it is returned, to nothing. A client
# is taken back only if it is as good as new. Its one piece of state that outlives a request is
# botocore's retry quota, which only a retried call draws down, and only an error answer is
# retried; so a lease that saw an error answer (or a failure to answer) retires its client, and
# the next environment builds a fresh one. Requests that arrive after the lease ended (from a
# handler thread still running after its test gave up on it) get an error, never another
# environment's service.


class _Lease:
    def __init__(self, router: Router, retry_sleep: Sleep | None) -> None:
        self.router = router
        self.retry_sleep = retry_sleep
        self.as_good_as_new = True


class _LeasableClient:
    def __init__(self, region: str, user_agent_extra: str) -> None:
        self.lease: _Lease | None = None
        self.client = _new_client(region, user_agent_extra, self._send, self._retry_sleep)

    def _retry_sleep(self) -> Sleep | None:
        lease = self.lease
        return lease.retry_sleep if lease is not None else None

    def _send(self, request: AWSPreparedRequest) -> AWSResponse:
        lease = self.lease
        if lease is None:
            raise RuntimeError(
                "pytest-durable: a request reached the SDK client of a DurableEnvironment that "
                "has already closed (a handler thread outlived its test?)"
            )
        try:
            answer = _answer(lease.router, request)
        except BaseException:
            lease.as_good_as_new = False
            raise
        if answer.status >= 300:
            lease.as_good_as_new = False
        return _response(request, answer)


#: Idle clients kept per (region, user agent): enough for environments nested a few deep.
MAX_IDLE_CLIENTS = 4
_idle: dict[tuple[str, str], list[_LeasableClient]] = {}
_idle_lock = threading.Lock()


@contextmanager
def leased_client(
    router: Router,
    *,
    region: str = "us-east-1",
    user_agent_extra: str = "",
    retry_sleep: Sleep | None = None,
) -> Iterator[Any]:
    """A boto3 ``lambda`` client wired to ``router`` for the duration, reused across
    environments of this process (see the comment above); ``retry_sleep`` as for
    :func:`make_client`, for this lease."""
    key = (region, user_agent_extra)
    with _idle_lock:
        idle = _idle.get(key)
        leasable = idle.pop() if idle else None
    if leasable is None:
        leasable = _LeasableClient(region, user_agent_extra)
    lease = _Lease(router, retry_sleep)
    leasable.lease = lease
    try:
        yield leasable.client
    finally:
        leasable.lease = None
        if lease.as_good_as_new:
            with _idle_lock:
                bucket = _idle.setdefault(key, [])
                if len(bucket) < MAX_IDLE_CLIENTS:
                    bucket.append(leasable)
