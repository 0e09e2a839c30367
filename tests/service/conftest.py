import pytest
from service_helpers import Env, Running


@pytest.fixture
def env() -> Env:
    return Env()


@pytest.fixture
def run(env: Env) -> Running:
    """An execution with its first invocation in progress."""
    return Running(env, env.start())
