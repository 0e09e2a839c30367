"""Cassettes of real executions: record against AWS, replay offline, catch non-determinism.

- :mod:`.format`: the cassette file (executions + HTTP interactions, readable YAML);
- :mod:`.reconstruct`: operations rebuilt from an execution's history;
- :mod:`.cloud`: cloud mode, the same test body against a deployed function (boto3 only);
- :mod:`.standin`: Lambda's ``Invoke`` in front of the fake, for cloud mode without AWS;
- :mod:`.vcr_bridge`, :mod:`.scrub`, :mod:`.network`: vcrpy for these APIs, what never reaches
  a cassette, the offline guarantee;
- :mod:`.modes`, :mod:`.recorder`, :mod:`.local`: record modes, one cloud-mode test's
  cassette, a local run saved as a cassette;
- :mod:`.replayer`, :mod:`.report`, :mod:`.seams`, :mod:`.positions`: the determinism replay;
- :mod:`.pytest_plugin`, :mod:`.cli`: the pytest fixtures and the ``replay`` command.

Names are loaded on first use: ``pytest-durable serve`` and a plain ``import pytest_durable``
do not pay for YAML, vcrpy or the replayer.
"""

from __future__ import annotations

from pytest_durable.lazy import lazy_exports

_LAZY = {
    "Cassette": "pytest_durable.cassette.format",
    "CassetteFormatError": "pytest_durable.errors",
    "RecordedExecution": "pytest_durable.cassette.format",
    "read_cassette": "pytest_durable.cassette.format",
    "write_cassette": "pytest_durable.cassette.format",
    "Replayer": "pytest_durable.cassette.replayer",
    "assert_replays": "pytest_durable.cassette.replayer",
    "replay_cassette": "pytest_durable.cassette.replayer",
    "replay_execution": "pytest_durable.cassette.replayer",
    "Divergence": "pytest_durable.cassette.report",
    "NonDeterminismError": "pytest_durable.errors",
    "OperationRef": "pytest_durable.cassette.report",
    "ReplayReport": "pytest_durable.cassette.report",
    "CloudEnvironment": "pytest_durable.cassette.cloud",
    "CloudExecution": "pytest_durable.cassette.cloud",
    "CloudRunError": "pytest_durable.errors",
    "CloudTimeoutError": "pytest_durable.errors",
    "Polling": "pytest_durable.cassette.cloud",
    "FunctionMap": "pytest_durable.cassette.functions",
    "LambdaStandIn": "pytest_durable.cassette.standin",
    "CloudSession": "pytest_durable.cassette.recorder",
    "CloudSettings": "pytest_durable.cassette.recorder",
    "CassetteMissingError": "pytest_durable.errors",
    "RecordMode": "pytest_durable.cassette.modes",
    "RecordingEnvironment": "pytest_durable.cassette.local",
    "local_cassette": "pytest_durable.cassette.local",
    "save_local": "pytest_durable.cassette.local",
    "block_network": "pytest_durable.cassette.network",
    "NetworkBlockedError": "pytest_durable.errors",
}


__getattr__ = lazy_exports(globals(), _LAZY)


__all__ = [
    "Cassette",
    "CassetteFormatError",
    "CassetteMissingError",
    "CloudEnvironment",
    "CloudExecution",
    "CloudRunError",
    "CloudSession",
    "CloudSettings",
    "CloudTimeoutError",
    "Divergence",
    "FunctionMap",
    "LambdaStandIn",
    "NetworkBlockedError",
    "NonDeterminismError",
    "OperationRef",
    "Polling",
    "RecordMode",
    "RecordedExecution",
    "RecordingEnvironment",
    "ReplayReport",
    "Replayer",
    "assert_replays",
    "block_network",
    "local_cassette",
    "read_cassette",
    "replay_cassette",
    "replay_execution",
    "save_local",
    "write_cassette",
]
