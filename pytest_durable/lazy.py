"""Package exports resolved on first use (PEP 562 module ``__getattr__``).

The plugin is installed for every pytest session of the environment it is in, including those
that never run a durable test; importing a package must not import the SDK, botocore, vcrpy and
YAML just to expose names. A package lists where each name lives; the first access imports that
module and keeps the value in the package's namespace, so later accesses are plain lookups.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(namespace: dict[str, Any], homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``namespace`` (a package's ``globals()``) that imports each
    name from ``homes[name]``, the module it is defined in, on first access."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    return __getattr__
