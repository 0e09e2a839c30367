"""Which deployed function a local handler is, in cloud mode.

A test calls ``durable_cloud.run(handler, event)`` with the handler object it imports; in cloud
mode that handler must be found as a deployed Lambda function. The name is resolved, first match
wins, from:

1. ``function_name=`` passed to ``run``/``start``;
2. a ``pytest_durable_function_name`` hook implementation (pytest only);
3. the environment: ``PYTEST_DURABLE_FUNCTION_<KEY>``, where KEY is the handler's
   ``module:qualname`` or bare ``qualname``, upper-cased with every other character as ``_``
   (``order_workflow:handler`` -> ``PYTEST_DURABLE_FUNCTION_ORDER_WORKFLOW_HANDLER``), then
   ``PYTEST_DURABLE_FUNCTION`` for every handler;
4. the mapping (``@pytest.mark.durable_function`` over the ``durable_functions`` ini option),
   keyed the same way, ``*`` for every handler;
5. the handler's own name, as the local runner names functions.

Deployment-specific names (``orders-dev-3F2A``) belong in the environment, so CI and laptops
differ without code changes. A value may be a name, ``name:qualifier`` or a function ARN.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_durable.runner.environment import function_name_for

ENV_PREFIX = "PYTEST_DURABLE_FUNCTION"
NameHook = Callable[[Any, str], str | None]


def handler_keys(handler: Any) -> tuple[str, ...]:
    """``("module:qualname", "qualname")`` of a handler (or just its name if it has no module)."""
    qualname = getattr(handler, "__qualname__", None) or getattr(handler, "__name__", None)
    if qualname is None:
        qualname = type(handler).__name__
    module = getattr(handler, "__module__", None)
    return (f"{module}:{qualname}", qualname) if module else (qualname,)


def handler_reference(handler: Any) -> str | None:
    """``module:qualname`` of a handler defined at module level (importable by the CLI)."""
    keys = handler_keys(handler)
    return keys[0] if len(keys) == 2 and "<" not in keys[0] else None


def env_name(key: str) -> str:
    return f"{ENV_PREFIX}_" + re.sub(r"[^A-Za-z0-9]", "_", key).upper()


def parse_mapping_lines(lines: list[str]) -> dict[str, str]:
    """``handler = function`` lines (the ``durable_functions`` ini option)."""
    mapping = {}
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, sep, value = text.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"durable_functions: expected 'handler = function-name', got {line!r}")
        mapping[key.strip()] = value.strip()
    return mapping


@dataclass
class FunctionMap:
    """Resolves handlers to deployed function names (see the module doc for the order)."""

    mapping: dict[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    hook: NameHook | None = None

    def resolve(self, handler: Any, explicit: str | None = None) -> str:
        if explicit:
            return explicit
        default = function_name_for(handler)
        if self.hook is not None:
            chosen = self.hook(handler, default)
            if chosen:
                return chosen
        keys = handler_keys(handler)
        for key in keys:
            value = self.environ.get(env_name(key))
            if value:
                return value
        if self.environ.get(ENV_PREFIX):
            return self.environ[ENV_PREFIX]
        for key in (*keys, "*"):
            if key in self.mapping:
                return self.mapping[key]
        return default
