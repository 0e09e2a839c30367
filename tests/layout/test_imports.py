"""Imports inside the package point down the layers and never form a circle.

The graph is read from the source (every ``import`` of a ``pytest_durable`` module, inside
functions too, since a lazy import is still a dependency); imports under ``if TYPE_CHECKING:``
are left out, as they exist for annotations only and never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_durable"

# Lower ranks never import higher ones (docs/architecture.md). Equal ranks may not import each
# other either, except within one package.
RANKS = {
    "errors": 0,
    "parsing": 0,
    "lazy": 0,
    "testnames": 0,
    "hooks": 0,
    "options": 0,
    "service": 1,
    "time_patching": 1,
    "clock": 2,
    "transport": 2,
    "runner": 3,
    "store": 3,  # serve --store: the service's state in SQLite
    "marker_settings": 4,
    "assertions": 4,
    "cassette": 5,
    "plugin": 6,
    "cli": 6,
    "": 6,  # the package's own __init__ (its exports are resolved lazily, by name)
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                for alias in child.names:
                    submodule = f"{child.module}.{alias.name}"
                    found.add(submodule if submodule in modules else child.module)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text()))
    return {name for name in found if name in modules}


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: _imports(path, modules) - {name} for name, path in paths.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                connect(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            connect(module)
    return components


def test_no_import_circle_inside_the_package() -> None:
    graph = _graph()
    assert len(graph) > 40 and sum(map(len, graph.values())) > 100  # the graph was really read
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_point_down_the_layers() -> None:
    graph = _graph()
    unranked = sorted({_layer(module) for module in graph} - set(RANKS))
    assert unranked == [], f"give these a rank in RANKS: {unranked}"
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if _layer(module) != _layer(target) and RANKS[_layer(target)] >= RANKS[_layer(module)]
    )
    assert upward == []
