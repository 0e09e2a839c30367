"""The conformance matching rules, one by one (docs/assertions.md#matching-rules)."""

from __future__ import annotations

import re

import pytest

from pytest_durable.assertions import ANY, MismatchError, assert_history_matches
from pytest_durable.assertions.matching import (
    generate_variables,
    match_events,
    match_sequence,
    match_value,
    substitute,
)


def _events(*events):
    return [{"EventId": i + 1, **event} for i, event in enumerate(events)]


HISTORY = _events(
    {"EventType": "ExecutionStarted", "Id": "exec"},
    {"EventType": "StepStarted", "Id": "a1", "Name": "charge", "StepStartedDetails": {}},
    {
        "EventType": "StepSucceeded",
        "Id": "a1",
        "Name": "charge",
        "StepSucceededDetails": {
            "Result": {"Payload": '"ok"'},
            "RetryDetails": {"CurrentAttempt": 2},
        },
    },
    {"EventType": "InvocationCompleted", "InvocationCompletedDetails": {"RequestId": "r-1"}},
)


def test_only_the_keys_written_are_compared():
    assert match_value({"a": 1}, {"a": 1, "b": 2}).ok
    assert match_value({"a": {"x": 1}}, {"a": {"x": 1, "y": 2}}).ok
    report = match_value({"a": {"x": 1}}, {"a": {"x": 2}})
    assert [str(m) for m in report.mismatches] == ["a > x: expected 1, got 2"]


def test_star_matches_any_value_but_the_key_must_be_there():
    assert match_value({"t": "*"}, {"t": "2030-01-01"}).ok
    assert match_value({"t": ANY}, {"t": {"nested": [1]}}).ok
    report = match_value({"t": "*"}, {})
    assert not report.ok
    assert "missing" in str(report.mismatches[0])


def test_empty_map_means_dont_care_even_when_absent():
    assert match_value({"Error": {}}, {"Error": {"Payload": {"ErrorType": "X"}}}).ok
    assert match_value({"Error": {}}, {}).ok
    assert match_value({"Details": {}}, {"Details": "anything"}).ok


def test_regex_must_match_the_actual_value_including_numbers():
    assert match_value({"T": "${/.*TransientError$/}"}, {"T": "mod.TransientError"}).ok
    assert not match_value({"T": "${/.*TransientError$/}"}, {"T": "ValueError"}).ok
    assert match_value({"D": "${/^[0-5]$/}"}, {"D": 3}).ok
    assert not match_value({"D": "${/^[0-5]$/}"}, {"D": 7}).ok
    assert not match_value({"D": "${/^[0-5]$/}"}, {}).ok


def test_placeholders_bind_on_first_use_and_must_resolve_consistently():
    report = match_value(
        [{"Id": "${ID1}"}, {"Id": "${ID2}", "ParentId": "${ID1}"}],
        [{"Id": "ctx"}, {"Id": "step", "ParentId": "ctx"}],
    )
    assert report.ok
    assert report.bindings == {"ID1": "ctx", "ID2": "step"}

    report = match_value(
        [{"Id": "${ID1}"}, {"ParentId": "${ID1}"}], [{"Id": "ctx"}, {"ParentId": "other"}]
    )
    assert [str(m) for m in report.mismatches] == [
        "[1] > ParentId: ${ID1} is bound to 'ctx', got 'other'"
    ]


def test_placeholders_bind_to_any_type_and_can_be_preset():
    assert match_value({"n": "${N}", "m": "${N}"}, {"n": 3, "m": 3}).ok
    assert not match_value({"n": "${N}"}, {"n": 4}, bindings={"N": 3}).ok


def test_a_placeholder_inside_a_string_binds_to_the_part_it_covers():
    report = match_value(
        {"a": '"${NAME}"', "b": "hello ${NAME}!"}, {"a": '"abc"', "b": "hello abc!"}
    )
    assert report.ok and report.bindings == {"NAME": "abc"}
    assert not match_value({"a": '"${N}"', "b": "x-${N}"}, {"a": '"abc"', "b": "x-abd"}).ok
    assert match_value({"a": "${X}-${X}"}, {"a": "ab-ab"}).ok
    assert not match_value({"a": "${X}-${X}"}, {"a": "ab-ac"}).ok
    # Regex characters around a placeholder are literal.
    assert match_value({"a": "(${X}).*"}, {"a": "(q).*"}).ok
    assert not match_value({"a": "(${X}).*"}, {"a": "(q)xx"}).ok


def test_everything_else_is_literal_equality():
    assert match_value({"a": None}, {"a": None}).ok
    assert not match_value({"a": None}, {}).ok
    assert not match_value({"flag": True}, {"flag": 1}).ok
    assert not match_value({"n": 1}, {"n": True}).ok
    assert match_value({"n": 1}, {"n": 1.0}).ok
    assert not match_value({"a": "x"}, {"a": "X"}).ok


def test_lists_match_item_by_item_and_need_the_same_length():
    assert match_value({"l": ["a", "*"]}, {"l": ["a", "b"]}).ok
    report = match_value({"l": ["a"]}, {"l": ["a", "b"]})
    assert str(report.mismatches[0]) == "l: expected 1 item(s), got 2"
    assert not match_value({"l": ["a"]}, {"l": "a"}).ok


def test_events_are_matched_by_event_id_and_unlisted_events_are_ignored():
    expected = [
        {"EventType": "StepSucceeded", "EventId": 3, "Id": "${ID1}"},
        {"EventType": "InvocationCompleted", "EventId": 4, "InvocationCompletedDetails": {}},
    ]
    assert match_events(expected, HISTORY).ok
    # Listed out of order still matches: EventId decides.
    assert match_events(list(reversed(expected)), HISTORY).ok


def test_an_event_id_the_history_does_not_have_is_a_mismatch():
    report = match_events([{"EventType": "ExecutionSucceeded", "EventId": 9}], HISTORY)
    assert [str(m) for m in report.mismatches] == [
        "EventId 9 (ExecutionSucceeded): no event with EventId 9 (the history has 4 events)"
    ]
    report = match_events([{"EventType": "StepStarted"}], HISTORY)
    assert "has no EventId" in str(report.mismatches[0])


def test_report_lists_every_mismatch_and_a_diff_where_matches_read_as_written():
    expected = [
        {
            "EventType": "StepSucceeded",
            "EventId": 3,
            "Id": "${ID1}",
            "StepSucceededDetails": {
                "Result": {"Payload": '"fine"'},
                "RetryDetails": {"CurrentAttempt": 1},
            },
        }
    ]
    report = match_events(expected, HISTORY)
    assert len(report.mismatches) == 2
    text = report.explain()
    assert "history: 2 mismatch(es)" in text
    assert "EventId 3 (StepSucceeded) > StepSucceededDetails > Result > Payload" in text
    assert "-      Payload: '\"fine\"'" in text
    assert "+      Payload: '\"ok\"'" in text
    assert "-      CurrentAttempt: 1" in text
    assert "+      CurrentAttempt: 2" in text
    # Matched values are shown as the expectation wrote them: no noise in the diff.
    assert "+  Id: ${ID1}" not in text and "-  Id: ${ID1}" not in text


def test_assert_history_matches_raises_an_assertion_error_with_the_diff():
    with pytest.raises(MismatchError) as caught:
        assert_history_matches(HISTORY, [{"EventId": 2, "EventType": "WaitStarted"}])
    assert isinstance(caught.value, AssertionError)
    assert "expected 'WaitStarted', got 'StepStarted'" in str(caught.value)
    assert caught.value.report.mismatches[0].actual == "StepStarted"
    report = assert_history_matches(HISTORY, [{"EventId": 2, "Id": "${S}"}])
    assert report.bindings == {"S": "a1"}


def test_sequences_match_by_position_and_report_missing_and_extra_items():
    assert match_sequence([{"a": 1}], [{"a": 1, "b": 2}]).ok
    report = match_sequence([{"a": 1}, {"a": 2}], [{"a": 1}])
    assert str(report.mismatches[0]) == "#1: expected, but not sent"
    report = match_sequence([], [{"a": 1}])
    assert str(report.mismatches[0]) == "#0: sent, but not expected"


def test_variables_generate_random_strings_and_substitute_into_strings():
    values = generate_variables({"A": "${GEN_STR:8}", "B": "fixed"})
    assert re.fullmatch(r"[A-Za-z0-9]{8}", values["A"])
    assert values["B"] == "fixed"
    assert generate_variables({"A": "${GEN_STR:8}"}) != generate_variables({"A": "${GEN_STR:8}"})
    document = {"Payload": '"${A}"', "Id": "${ID1}", "list": ["Hello, ${A}!", 3]}
    assert substitute(document, {"A": "xyz"}) == {
        "Payload": '"xyz"',
        "Id": "${ID1}",
        "list": ["Hello, xyz!", 3],
    }
