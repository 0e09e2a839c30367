"""The marker form of fault injection, as a user's test module uses it."""

import pytest

from pytest_durable.cassette.cloud.environment import CloudEnvironment
from pytest_durable.errors import LocalOnlyError

MODULE = """
import pytest

from pytest_durable.cassette.cloud.environment import CloudEnvironment
from pytest_durable.errors import LocalOnlyError
from aws_durable_execution_sdk_python import durable_execution

@durable_execution
def handler(event, context):
    return [context.step(lambda _: i, name=f"s{i}") for i in range(3)]

pytestmark = pytest.mark.durable_fault("throttle", "CheckpointDurableExecution", times=1)

@pytest.mark.durable_fault("kill_sandbox", after_checkpoint=2)
def test_marked(durable):
    result = durable.run(handler, {})
    assert result.status == "SUCCEEDED"
    assert [f.kind for f in result.faults] == ["throttle", "kill_sandbox"]
    assert len(result.invocations) == 2

def test_module_marker_only(durable):
    result = durable.run(handler, {})
    assert [f.kind for f in result.faults] == ["throttle"]
"""


def test_faults_declared_by_markers(pytester: pytest.Pytester):
    pytester.makepyfile(test_marked=MODULE)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q").assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("marker", "complaint"),
    [
        ('durable_fault("explode")', "takes a verb first"),
        ('durable_fault("fail", "CheckpointDurableExecution", "Nope")', "declares no 'Nope'"),
        ('durable_fault("throttle", "CheckpointDurableExecution", tims=1)', "unknown keyword"),
    ],
)
def test_a_bad_fault_marker_is_a_usage_error(pytester: pytest.Pytester, marker, complaint):
    pytester.makepyfile(
        test_bad=f"import pytest\n\n@pytest.mark.{marker}\ndef test_it(durable):\n    pass\n"
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    assert complaint in result.stdout.str() + result.stderr.str()
    assert result.ret != 0


@pytest.mark.parametrize(
    ("name", "reason"), [("faults", "only the local fake injects"), ("fuzz", "local sandboxes")]
)
def test_cloud_mode_refuses_faults_and_fuzzing_with_the_reason(name, reason):
    with pytest.raises(LocalOnlyError, match=reason):
        getattr(CloudEnvironment(client=None), name)
