"""docs/api.md lists the public API, and each package's ``__all__`` is exactly what it lists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

API_PAGE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
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
