from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from cassette_constants import ACCESS_KEY, FAST, SECRET_KEY, SESSION_TOKEN
from cassette_handlers import BODIES

from pytest_durable import DurableEnvironment
from pytest_durable.cassette.cloud.environment import CloudEnvironment
from pytest_durable.cassette.standin import LambdaStandIn
from pytest_durable.transport.http import HttpEndpoint


@pytest.fixture(autouse=True)
def _no_step_bodies_carry_over() -> None:
    BODIES.clear()


class StandIn:
    """Lambda for the tests: the fake service behind Invoke on loopback HTTP, reached by a real
    boto3 client signing with known credentials."""

    def __init__(self, environment: DurableEnvironment) -> None:
        self.environment = environment
        self.lambda_ = LambdaStandIn(environment)
        self.endpoint = HttpEndpoint(self.lambda_)

    def client(self) -> object:
        session = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            aws_session_token=SESSION_TOKEN,
            region_name="eu-west-1",
        )
        return session.client("lambda", endpoint_url=self.endpoint.url)

    def cloud(self) -> CloudEnvironment:
        return CloudEnvironment(self.client(), polling=FAST, before_invoke=self.lambda_.register)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with DurableEnvironment(
        freeze_time=False, region="eu-west-1", account_id="210987654321"
    ) as env:
        stand_in = StandIn(env)
        with stand_in.endpoint:
            yield stand_in
            stand_in.lambda_.stop()


@pytest.fixture
def cassette_path(tmp_path: Path) -> Path:
    return tmp_path / "cassettes" / "test_orders.yaml"
