"""Assertions on what a run emitted: checkpoint updates, operations, history, goldens, timeline.

This layer sits above the runner (which never imports it): it reads ``ExecutionResult`` and the
service's history and matches them against expectations in AWS's conformance format.
"""

from pytest_durable.assertions.conformance import (
    Requirement,
    assert_conforms,
    assert_history_matches,
    check_history,
    load_requirement,
    load_requirements,
)
from pytest_durable.assertions.golden import GoldenFiles
from pytest_durable.assertions.history import fetch_history
from pytest_durable.assertions.matching import ANY, MatchReport
from pytest_durable.assertions.timeline import render_timeline
from pytest_durable.assertions.updates import ExpectedUpdates
from pytest_durable.errors import MismatchError

__all__ = [
    "ANY",
    "ExpectedUpdates",
    "GoldenFiles",
    "MatchReport",
    "MismatchError",
    "Requirement",
    "assert_conforms",
    "assert_history_matches",
    "check_history",
    "fetch_history",
    "load_requirement",
    "load_requirements",
    "render_timeline",
]
