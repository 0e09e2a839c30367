import pytest
from transport_helpers import Wired


@pytest.fixture
def wired() -> Wired:
    """A DurableService on a hand-driven clock, its Router, and a real botocore client."""
    return Wired()
