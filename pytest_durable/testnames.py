"""Names of tests for the files kept per test (golden files, cassettes)."""

from __future__ import annotations

from typing import Protocol


class _Node(Protocol):
    nodeid: str
    name: str


def qualified_test_name(node: _Node) -> str:
    """The test's name within its module, classes included (``TestA.test_x[1]``): two tests of
    the same name in different classes must not share a golden file or a cassette."""
    within_module = node.nodeid.split("::", 1)[1] if "::" in node.nodeid else node.name
    return within_module.replace("::", ".")
