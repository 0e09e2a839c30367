"""The project stands on its own: no source points at a document outside the repository, and
every ``docs/<page>.md#<section>`` a source or a page cites exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["pytest_durable", "tests", "examples", "benchmarks", "docs", "README.md"]
# Documents of the team's shared reference folder, which is not part of the project.
OUTSIDE = re.compile(
    r"protocol\.md|landscape\.md|style\.md|\.\./shared|shared/(?:reference|conformance)"
    r"|faithful fake must do"
)
CITATION = re.compile(r"(?:docs/)?\b([\w-]+\.md)#([\w-]+)")


def _files() -> list[Path]:
    files: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        candidates = [path] if path.is_file() else [*path.rglob("*.py"), *path.rglob("*.md")]
        files.extend(p for p in candidates if ".venv" not in p.parts and p != Path(__file__))
    return sorted(files)


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    anchors = set()
    for line in page.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_no_source_points_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == [], (
        "cite the project's own docs (docs/service-semantics.md) instead:\n" + "\n".join(found)
    )


def test_every_cited_docs_section_exists() -> None:
    pages = {page.name: _anchors(page) for page in (ROOT / "docs").glob("*.md")}
    broken = [
        f"{path.relative_to(ROOT)}:{number}: {page}#{anchor}"
        for path in _files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for page, anchor in CITATION.findall(line)
        if page in pages and anchor not in pages[page]
    ]
    assert broken == [], "no such section:\n" + "\n".join(broken)
    assert "operations" in pages["service-semantics.md"]  # the check really reads the headings
