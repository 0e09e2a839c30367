"""docs/api.md lists the public API, and each package's ``__all__`` is exactly what it lists."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API_PAGE = ROOT / "docs" / "api.md"
PACKAGES = ["pytest_durable", "pytest_durable.assertions", "pytest_durable.cassette"]


def _documented() -> dict[str, list[str]]:
    """Names in the first column of the tables under each ``## `package` `` heading."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in API_PAGE.read_text().splitlines():
        heading = re.fullmatch(r"## `([\w.]+)`", line)
        if heading:
            current = sections.setdefault(heading.group(1), [])
        elif line.startswith("## "):
            current = None
        elif current is not None:
            row = re.match(r"\| `(\w+)` \|", line)
            if row:
                current.append(row.group(1))
    return sections


def test_the_page_documents_exactly_these_packages() -> None:
    assert sorted(_documented()) == sorted(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_matches_the_page(package: str) -> None:
    module = importlib.import_module(package)
    documented = _documented()[package]
    assert len(documented) == len(set(documented)), "a name is listed twice"
    assert sorted(module.__all__) == sorted(documented)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_imports(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert missing == []


def _fixtures_defined() -> set[str]:
    """Every function of the package decorated ``@pytest.fixture`` (with or without arguments)."""
    found = set()
    for source in (ROOT / "pytest_durable").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if ast.unparse(target) == "pytest.fixture":
                        found.add(node.name)
    return found


def _fixtures_documented() -> set[str]:
    """Names in the first column of the fixtures table (a cell may list several)."""
    section = API_PAGE.read_text().split("## pytest fixtures", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`(\w+)`", line.split(" | ", 1)[0]))
    return names


def test_every_fixture_of_the_plugin_is_on_the_page() -> None:
    defined = _fixtures_defined()
    assert "durable" in defined  # the scan finds fixtures at all
    assert defined - _fixtures_documented() == set()
