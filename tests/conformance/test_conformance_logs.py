"""The ExpectedLogs check (``conformance_logs.py``): records from stdout and logging, and the
count/after/regex rules, on hand-made records."""

from __future__ import annotations

import logging

from conformance_logs import LogCapture, check_logs

START = {"plugin": "P", "hook": "invocation-start", "first": True}
END = {"plugin": "P", "hook": "invocation-end", "status": "SUCCEEDED"}


def test_stdout_json_lines_and_log_records_are_collected_in_the_order_written():
    level = logging.getLogger().level
    with LogCapture().capturing() as logs:
        print('{"plugin": "P", "hook": "invocation-start", "first": true}')
        logging.getLogger().info("step ran for %s", "abc")
        print("plain text")
        logging.getLogger("botocore").info("not the handler's")
        logging.getLogger("conformance.a_library").error("the library failed")
    # Only this test's own records: a thread another test left behind may log a warning too.
    mine = [r for r in logs.records if r.get("logger") in (None, "root", "conformance.a_library")]
    assert mine == [
        START,
        {"level": "INFO", "message": "[INFO]\tstep ran for abc", "logger": "root"},
        {"message": "plain text"},
        {
            "level": "ERROR",
            "message": "[ERROR]\tthe library failed",
            "logger": "conformance.a_library",
        },
    ]
    assert logging.getLogger().level == level  # restored


def test_count_is_exact_and_fields_compare_with_their_type():
    records = [START, {**START, "first": 1}]
    assert check_logs([{"match": START, "count": 1}], records, {}) == []
    assert check_logs([{"match": {"first": True}, "count": 2}], records, {}) == [
        'ExpectedLogs[1] {"first": true}: 1 record(s), expected 2'
    ]
    assert check_logs([{"match": {"status": "FAILED"}, "count": 0}], records, {}) == []


def test_slashes_make_a_regular_expression_searched_in_the_field():
    records = [{"message": "[INFO]\tGreeting step running for: abc"}]
    assert check_logs([{"match": {"message": "/running for: abc/"}, "count": 1}], records, {}) == []
    assert check_logs([{"match": {"message": "/\\[ERROR\\]/"}, "count": 0}], records, {}) == []


def test_after_needs_an_earlier_record_for_every_match():
    expectation = [{"match": END, "count": 1, "after": [START]}]
    assert check_logs(expectation, [START, END], {}) == []
    (problem,) = check_logs(expectation, [END, START], {})
    assert "has no earlier" in problem


def test_placeholders_take_variables_and_history_bindings():
    records = [{"hook": "operation-start", "op": "c4ca4238"}]
    expectation = [{"match": {"hook": "operation-start", "op": "${ID1}"}, "count": 1}]
    assert check_logs(expectation, records, {"ID1": "c4ca4238"}) == []
    assert check_logs(expectation, records, {"ID1": "other"}) != []
