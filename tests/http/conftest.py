import os
from collections.abc import Iterator

import pytest
from http_helpers import Served


@pytest.fixture(autouse=True)
def _no_aws_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """The boto3 clients here are plain ``boto3`` ones: keep the machine's AWS setup out."""
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def served() -> Iterator[Served]:
    """A DurableService on a hand-driven clock behind a loopback HttpEndpoint, with a boto3
    client given the endpoint's URL."""
    served = Served()
    yield served
    served.close()
