"""The cassette file: readable YAML in a fixed order, exact bodies, round trips."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from cassette_handlers import fulfilment

from pytest_durable.cassette.local import RecordingEnvironment, local_cassette
from pytest_durable.cassette.recording.format import (
    Cassette,
    decode_body,
    encode_body,
    iso,
    parse_iso,
    read_cassette,
    write_cassette,
)
from pytest_durable.errors import CassetteFormatError


@pytest.fixture
def recorded(tmp_path):
    with RecordingEnvironment() as env:
        env.on_callback().succeed("yes")
        env.run(fulfilment, {"items": ["a"]})
    cassette = local_cassette(env, test="tests/x.py::test_y")
    return cassette, write_cassette(cassette, tmp_path / "deep" / "dir" / "c.yaml")


def test_a_cassette_round_trips(recorded):
    cassette, path = recorded
    loaded = read_cassette(path)

    assert loaded.to_document() == cassette.to_document()
    assert loaded.executions[0].operations == cassette.executions[0].operations
    assert loaded.executions[0].history == cassette.executions[0].history
    assert loaded.path == path


def test_the_document_has_a_fixed_readable_order(recorded):
    _, path = recorded
    text = path.read_text()
    document = yaml.safe_load(text)

    assert text.startswith("# pytest-durable cassette.")
    assert list(document) == ["format", "source", "recorded", "executions", "interactions"]
    assert list(document["executions"][0])[:6] == [
        "name",
        "arn",
        "function",
        "handler",
        "input",
        "status",
    ]
    assert document["executions"][0]["handler"] == "cassette_handlers:fulfilment"
    assert document["source"] == "local"
    # Timestamps are text, to the millisecond, in UTC.
    assert document["executions"][0]["history"][0]["EventTimestamp"].endswith("Z")
    assert "!!" not in text  # no YAML tags: plain data any tool reads


def test_writing_the_same_run_twice_gives_the_same_text(recorded, tmp_path):
    _, path = recorded
    again = write_cassette(read_cassette(path), tmp_path / "again.yaml")
    assert again.read_text() == path.read_text()


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (b'{"a":1,"b":[true,null]}', {"json": {"a": 1, "b": [True, None]}}),
        (b'{"a": 1, "b": "x"}', {"json": {"a": 1, "b": "x"}, "spaced": True}),
        (b'{"b":1, "a":2}', {"string": '{"b":1, "a":2}'}),
        (b"plain text", {"string": "plain text"}),
        (b"", {"string": ""}),
        (None, {"string": ""}),
    ],
)
def test_bodies_are_stored_as_json_only_when_that_is_exact(raw, stored):
    assert encode_body(raw) == stored
    assert decode_body(stored) == (raw or b"")


def test_timestamps_are_millisecond_utc_text():
    moment = dt.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    assert iso(moment) == "2030-01-02T03:04:05.678Z"
    assert parse_iso("2030-01-02T03:04:05.678Z") == moment.replace(microsecond=678000)


def test_a_file_that_is_not_a_cassette_is_refused(tmp_path):
    other = tmp_path / "vcr.yaml"
    other.write_text("interactions: []\nversion: 1\n")
    with pytest.raises(CassetteFormatError, match="not a pytest-durable cassette"):
        read_cassette(other)
    newer = tmp_path / "newer.yaml"
    newer.write_text("format: 99\n")
    with pytest.raises(CassetteFormatError, match="Re-record it"):
        read_cassette(newer)


def test_executions_are_found_by_index_name_or_arn(recorded):
    cassette, _ = recorded
    first = cassette.executions[0]
    assert cassette.execution(0) is cassette.execution(first.name) is cassette.execution(first.arn)
    with pytest.raises(LookupError, match="No recorded execution 'nope'"):
        cassette.execution("nope")
    assert Cassette().executions == []
