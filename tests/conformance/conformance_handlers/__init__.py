"""Our own Python handlers for AWS's conformance requirements, one per requirement.

Each is written from the requirement's English ``handler``/``invocations`` text with the released
SDK. ``HANDLERS`` maps a requirement id to a builder: it takes the test's ``durable`` environment
(to register the functions a handler invokes, or to wait until a START is persisted before
crashing) and returns a fresh handler with fresh state, since several handlers count attempts
across invocations.
"""

from conformance_handlers import (  # noqa: F401  (each module registers its handlers)
    callback,
    child,
    invoke,
    map,
    parallel,
    plugin,
    step,
    wait,
    wait_for_callback,
    wait_for_condition,
)
from conformance_handlers.common import HANDLERS

__all__ = ["HANDLERS"]
