"""Cassettes of real executions: record against AWS, replay offline, catch non-determinism.

- :mod:`.cloud`: cloud mode, the same test body against a deployed function (boto3 only);
- :mod:`.reconstruct`: operations rebuilt from an execution's history;
- :mod:`.standin`: Lambda's ``Invoke`` in front of the fake, for cloud mode without AWS;
- :mod:`.recording`: the cassette file, recording with vcrpy, replaying offline;
- :mod:`.local`: a local run saved as a cassette;
- :mod:`.replay`: the determinism replay (``Replayer``), of cassettes and of production
  executions, and the ``pytest-durable replay`` command;
- :mod:`.engine`: what a ``durable_cloud`` test runs (local or cloud, its cassette, its
  functions, cloud settings), on plain values from the pytest layer (``pytest_durable.plugin``).

Names are loaded on first use: ``pytest-durable serve`` and a plain ``import pytest_durable``
do not pay for YAML, vcrpy or the replayer.
"""

from __future__ import annotations

from pytest_durable.lazy import lazy_exports

_LAZY = {
    "Cassette": "pytest_durable.cassette.recording.format",
    "CassetteFormatError": "pytest_durable.errors",
    "RecordedExecution": "pytest_durable.cassette.recording.format",
    "read_cassette": "pytest_durable.cassette.recording.format",
    "write_cassette": "pytest_durable.cassette.recording.format",
    "Replayer": "pytest_durable.cassette.replay.replayer",
    "assert_replays": "pytest_durable.cassette.replay.replayer",
    "Divergence": "pytest_durable.cassette.replay.report",
    "NonDeterminismError": "pytest_durable.errors",
    "ReplayReport": "pytest_durable.cassette.replay.report",
    "replay_production": "pytest_durable.cassette.replay.bulk",
    "ReplaySummary": "pytest_durable.cassette.replay.bulk",
    "HistoryFileError": "pytest_durable.errors",
    "CloudEnvironment": "pytest_durable.cassette.cloud.environment",
    "CloudRunError": "pytest_durable.errors",
    "CloudTimeoutError": "pytest_durable.errors",
    "LambdaStandIn": "pytest_durable.cassette.standin",
    "CassetteMissingError": "pytest_durable.errors",
    "RecordingEnvironment": "pytest_durable.cassette.local",
    "local_cassette": "pytest_durable.cassette.local",
    "NetworkBlockedError": "pytest_durable.errors",
}


__getattr__ = lazy_exports(globals(), _LAZY)


__all__ = [
    "Cassette",
    "CassetteFormatError",
    "CassetteMissingError",
    "CloudEnvironment",
    "CloudRunError",
    "CloudTimeoutError",
    "Divergence",
    "HistoryFileError",
    "LambdaStandIn",
    "NetworkBlockedError",
    "NonDeterminismError",
    "RecordedExecution",
    "RecordingEnvironment",
    "ReplayReport",
    "ReplaySummary",
    "Replayer",
    "assert_replays",
    "local_cassette",
    "read_cassette",
    "replay_production",
    "write_cassette",
]
