"""README's layout table matches the tree: every path it names exists, and every module and
package of ``pytest_durable`` is named by a row."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pytest_durable"


def _named_paths() -> set[str]:
    """Paths in the first column of the "## Layout" table. A cell may list several, the later
    ones relative to the first one's directory: `pytest_durable/clock.py`, `time_patching.py`."""
    text = (ROOT / "README.md").read_text()
    table = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    paths: set[str] = set()
    for line in table.splitlines():
        cells = line.split("|")
        if len(cells) < 3:
            continue
        names = re.findall(r"`([^`]+)`", cells[1])
        if not names:
            continue
        first = names[0].rstrip("/")
        directory = first.rsplit("/", 1)[0] if "/" in first else ""
        paths.add(first)
        paths.update(f"{directory}/{name}".rstrip("/") for name in names[1:])
    return paths


def _tree() -> set[str]:
    """Every module and package of pytest_durable, as paths from the repository root."""
    found = set()
    for path in PACKAGE.rglob("*"):
        if "__pycache__" in path.parts or path.name in ("__init__.py", "py.typed"):
            continue
        is_package = path.is_dir() and (path / "__init__.py").exists()
        if is_package or (path.suffix == ".py" and path.parent == PACKAGE):
            found.add(str(path.relative_to(ROOT)))
    return found


def test_every_named_path_exists() -> None:
    missing = sorted(path for path in _named_paths() if not (ROOT / path).exists())
    assert missing == []


def test_every_module_and_package_has_a_row() -> None:
    named = _named_paths()
    unnamed = sorted(path for path in _tree() if path not in named)
    assert unnamed == [], f"add these to README's layout table: {unnamed}"
