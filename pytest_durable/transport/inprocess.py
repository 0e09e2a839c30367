"""The in-process transport: a real boto3 ``lambda`` client whose requests never leave the process.

botocore serializes every call exactly as for AWS; a ``before-send`` handler (the hook botocore
offers for this, and the one moto uses) hands the prepared request to the :class:`Router` and
returns its answer as an ``AWSResponse``, which botocore's real parser turns into the result or
a ``ClientError``. Credentials and region are fixed dummies: the client never reads the user's
AWS configuration or environment, so a test cannot reach, or need, a real account.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

from botocore import UNSIGNED
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

from pytest_durable.transport.router import Router, botocore_session

DUMMY_ENDPOINT = "https://lambda.{region}.amazonaws.com"


class _RawBody:
    """The minimal raw-response object ``AWSResponse.content`` reads (``stream()``)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def make_client(router: Router, *, region: str = "us-east-1", user_agent_extra: str = "") -> Any:
    """A boto3 ``lambda`` client wired to ``router`` without a socket.

    Retries follow botocore's defaults for the SDK's client (standard mode, same ClientToken on
    each attempt), so fault-injected 5xx/429 answers are retried as they would be against AWS.
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

    def send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        url = urllib.parse.urlsplit(request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif hasattr(body, "read"):
            body = body.read()
        answer = router.handle(request.method, path, dict(request.headers.items()), body)
        return AWSResponse(request.url, answer.status, answer.headers, _RawBody(answer.body))

    client.meta.events.register("before-send.lambda", send)
    return client
