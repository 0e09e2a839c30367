"""Our service's histories against the expected histories of real executions.

For every requirement of the suites the spine can run (step, wait, child, map), run our own handler
for it (``conformance_handlers.py``) through the ``durable`` fixture and match the result and the
history with the published matching rules. Where our history differs, the expectation is not
touched: the case is marked xfail with the difference, and reported.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conformance_handlers import HANDLERS

from pytest_durable.assertions import assert_conforms, load_requirements

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "requirements"
SUITES = ("step", "wait", "child", "map")

#: Requirement id -> why our run cannot match (a known service difference, or an SDK limit).
KNOWN_DIFFERENCES: dict[str, str] = {}


def _cases() -> list[pytest.param]:
    if not CONFORMANCE.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{CONFORMANCE} not found"))]
    cases = []
    for requirement in load_requirements(CONFORMANCE, SUITES):
        marks = []
        if requirement.id in KNOWN_DIFFERENCES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[requirement.id]))
        cases.append(pytest.param(requirement, marks=marks, id=requirement.id))
    return cases


def test_every_requirement_of_the_spine_suites_has_a_handler():
    if not CONFORMANCE.is_dir():
        pytest.skip(f"{CONFORMANCE} not found")
    ids = {r.id for r in load_requirements(CONFORMANCE, SUITES)}
    assert ids == set(HANDLERS)


@pytest.mark.parametrize("requirement", _cases())
def test_history_matches_the_real_service(requirement, durable):
    handler = HANDLERS[requirement.id](durable)
    result = durable.run(handler, requirement.input)
    assert_conforms(result, requirement)
