"""Constants the cassette tests share.

They live in a module of their own, not in ``conftest.py``: several test directories have a
``conftest.py``, and ``from conftest import ...`` picks whichever was imported last, so it broke
whenever another directory's conftest loaded first (``pytest tests/cassette tests/replay``).
"""

from __future__ import annotations

from pytest_durable.cassette.cloud.environment import Polling

#: Credentials the stand-in's client signs with: a recorded cassette must contain none of them.
ACCESS_KEY = "AKIAPYTESTDURABLE7Q2X"
SECRET_KEY = "pytest-durable-secret-Zx81kQ0wLmN3vB5cT7yR"
SESSION_TOKEN = "pytest-durable-session-token-FwoGZXIvYXdzEJr"
FAST = Polling(initial_delay=0.01, factor=1.5, max_delay=0.1, timeout=20)
