"""Every Python example in the docs and README runs, as a user would run it.

A block whose first line is ``# test-file`` is a test module: it is written to a temporary
directory and run by pytest in-process (no conftest: the plugin loads from its entry point).
A block whose first line is ``# script`` is executed as a plain script. Words after
``# test-file`` are pytest arguments for that run (``# test-file --durable-update-goldens``).
A block whose first line is ``# conftest`` is a ``conftest.py`` of hook implementations: a
session with it must start (pytest refuses an unknown hook or a wrong argument name) and have
each of its ``pytest_*`` functions registered as an implementation of that hook.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
_BLOCK = re.compile(r"```python\n(# (test-file|script|conftest)([^\n]*)\n.*?)```", re.DOTALL)


def _examples() -> list[pytest.param]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        for match in _BLOCK.finditer(text):
            line = text[: match.start()].count("\n") + 1
            found.append(
                pytest.param(
                    match.group(2),
                    match.group(1),
                    shlex.split(match.group(3)),
                    id=f"{document.name}:{line}",
                )
            )
    return found


EXAMPLES = _examples()


def test_the_docs_have_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize(("kind", "code", "args"), EXAMPLES)
def test_example_runs(kind: str, code: str, args: list[str], pytester: pytest.Pytester) -> None:
    if kind == "script":
        exec(compile(code, "<docs example>", "exec"), {"__name__": "__docs__"})
        return
    if kind == "conftest":
        _run_conftest(code, args, pytester)
        return
    pytester.makepyfile(test_example=code)
    outcome = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q", *args)
    passed = len(re.findall(r"^def test_", code, flags=re.MULTILINE))
    outcome.assert_outcomes(passed=passed)


HOOKS_REGISTERED = """
HOOKS = {hooks!r}


def test_every_hook_of_the_conftest_is_registered(request):
    manager = request.config.pluginmanager
    for name in HOOKS:
        plugins = [impl.plugin_name for impl in getattr(manager.hook, name).get_hookimpls()]
        assert any(plugin.endswith("conftest.py") for plugin in plugins), (name, plugins)
"""


def _run_conftest(code: str, args: list[str], pytester: pytest.Pytester) -> None:
    hooks = re.findall(r"^def (pytest_\w+)\(", code, flags=re.MULTILINE)
    assert hooks, "a conftest example implements no hook"
    pytester.makeconftest(code)
    pytester.makepyfile(test_hooks=HOOKS_REGISTERED.format(hooks=hooks))
    outcome = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q", *args)
    outcome.assert_outcomes(passed=1)
