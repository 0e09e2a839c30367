"""Package exports resolved on first use (PEP 562 module ``__getattr__``).

The plugin is installed for every pytest session of the environment it is in, including those
that never run a durable test; importing a package must not import the SDK, botocore, vcrpy and
YAML just to expose names. A package lists where each name lives; an access imports that module
(after the first time, a lookup in ``sys.modules``) and reads the name from it.

The value is deliberately not kept in the package: if the module is imported again (pytester's
in-process runs restore ``sys.modules`` after each run), the package must hand out the new
module's objects, the same ones its sibling modules import, not the first run's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(namespace: dict[str, Any], homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``namespace`` (a package's ``globals()``) that reads each
    name from ``homes[name]``, the module it is defined in, importing it if need be."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(home), name)

    return __getattr__
