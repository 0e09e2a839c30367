"""Installing the plugin costs nothing to a session that never asks for a durable fixture.

pytest imports every installed ``pytest11`` plugin in every session (every xdist worker, every
handler subprocess run under pytest). These tests run real sessions in subprocesses and look at
what the plugin made them import, and check the lazy package exports that make that possible.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("boto3", "botocore", "aws_durable_execution_sdk_python", "vcr", "yaml")
LAZY_PACKAGES = ("pytest_durable", "pytest_durable.runner")

_PROBE = """
import sys

HEAVY = {heavy!r}


def test_plain():
    loaded = sorted(name for name in HEAVY if name in sys.modules)
    ours = sorted(name for name in sys.modules if name.startswith("pytest_durable"))
    print("LOADED", ",".join(loaded))
    print("OURS", ",".join(ours))
"""


def _session(pytester: pytest.Pytester, *args: str) -> dict[str, list[str]]:
    pytester.makepyfile(test_probe=_PROBE.format(heavy=HEAVY))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "-q", *args, timeout=120)
    result.assert_outcomes(passed=1)
    found: dict[str, list[str]] = {}
    for line in result.outlines:
        key, _, value = line.partition(" ")
        if key in ("LOADED", "OURS"):
            found[key] = [name for name in value.split(",") if name]
    return found


def test_a_session_without_durable_fixtures_imports_nothing_heavy(pytester):
    with_plugin = _session(pytester)
    without_plugin = _session(pytester, "-p", "no:durable")
    # Whatever other installed plugins import is theirs; the difference is ours.
    added = set(with_plugin["LOADED"]) - set(without_plugin["LOADED"])
    assert not added, f"the plugin imported {sorted(added)} in a session that never used it"
    assert without_plugin["OURS"] == []
    assert "pytest_durable.plugin" in with_plugin["OURS"]
    # The runner, the service and the transport stay unimported.
    assert not [
        name
        for name in with_plugin["OURS"]
        if name.startswith(("pytest_durable.service", "pytest_durable.transport"))
        or name == "pytest_durable.runner.environment"
    ]


def test_library_modules_are_not_assertion_rewritten(pytester, monkeypatch):
    # Found on sys.path, as from an installed wheel (an editable install's own finder is one
    # pytest's rewriting hook does not see through, which would make this test pass anyway).
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(
        test_loaders="""
        from aws_durable_execution_sdk_python import durable_execution


        @durable_execution
        def handler(event, context):
            return event


        def test_loader(durable):
            import pytest_durable.runner.environment as environment
            import pytest_durable.service.service as service

            assert durable.run(handler, 1).output == 1
            loaders = [type(m.__loader__).__name__ for m in (environment, service)]
            print("LOADERS", *loaders)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "-q", timeout=120)
    result.assert_outcomes(passed=1)
    loaders = [line for line in result.outlines if line.startswith("LOADERS")]
    assert loaders and "AssertionRewritingHook" not in loaders[0], loaders


# ------------------------------------------------------------------ the lazy exports


def _type_checking_names(package: str) -> set[str]:
    """Names the package's ``if TYPE_CHECKING:`` block imports (what type checkers see)."""
    module = importlib.import_module(package)
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom):
                    names.update(alias.asname or alias.name for alias in statement.names)
    return names


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_export_resolves_to_its_home(package):
    module = importlib.import_module(package)
    homes = module._HOMES
    assert set(module.__all__) == set(homes) == _type_checking_names(package)
    for name, home in homes.items():
        assert getattr(module, name) is getattr(importlib.import_module(home), name), name


def test_an_unknown_name_is_an_attribute_error():
    pytest_durable = importlib.import_module("pytest_durable")
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        pytest_durable.NoSuchThing  # noqa: B018
