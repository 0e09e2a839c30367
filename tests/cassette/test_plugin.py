"""The pytest layer: ``durable_cloud`` in local mode, in cloud mode against the stand-in with
recording, offline replay; ``durable_replay``; options, markers, ini options and hooks."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from pytest_durable.cassette.recording.format import read_cassette

TEST_MODULE = textwrap.dedent(
    """
    import pytest
    from aws_durable_execution_sdk_python import DurableContext, durable_execution
    from aws_durable_execution_sdk_python.config import Duration


    @durable_execution
    def orders(event, context: DurableContext):
        reserved = context.step(lambda _: f"res-{event['order']}", name="reserve")
        context.wait(Duration.from_hours(1), name="cool-off")
        approval = context.create_callback(name="approval")
        return {"reserved": reserved, "approval": approval.result()}


    def test_ship(durable_cloud):
        durable_cloud.on_callback("approval").succeed("yes")
        result = durable_cloud.run(orders, {"order": "o-1"})
        assert result.status == "SUCCEEDED"
        assert result.output == {"reserved": "res-o-1", "approval": "yes"}
        assert [op.name for op in result.operations] == ["reserve", "cool-off", "approval"]
    """
)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def _cassette(pytester: pytest.Pytester, test: str = "test_ship"):
    return pytester.path / "fixtures" / "cassettes" / "test_orders" / f"{test}.yaml"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_orders=TEST_MODULE)
    return pytester


def test_durable_cloud_is_the_local_fake_by_default(project):
    _run(project).assert_outcomes(passed=1)
    assert not _cassette(project).exists()


def test_record_through_the_stand_in_then_replay_offline(project):
    recorded = _run(
        project, "--durable-mode=cloud", "--durable-standin", "--durable-record-mode=once"
    )
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["*pytest-durable cassettes*", "recorded: *test_ship.yaml"])
    cassette = read_cassette(_cassette(project))
    assert cassette.source == "cloud"
    assert cassette.recorded["endpoint"] == "http://standin.invalid"
    assert cassette.execution(0).handler == "test_orders:orders"

    replayed = _run(project, "--durable-mode=cloud")  # record mode none, no stand-in: offline
    replayed.assert_outcomes(passed=1)
    assert "recorded:" not in replayed.stdout.str()


def test_cloud_mode_without_a_cassette_names_the_command(project):
    result = _run(project, "--durable-mode=cloud")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*No cassette for test_orders.py::test_ship*",
            "*pytest 'test_orders.py::test_ship' --durable-mode=cloud --durable-record-mode=once",
        ]
    )


def test_the_mode_can_come_from_the_environment_and_ini(project, monkeypatch):
    project.makeini("[pytest]\ndurable_record_mode = once\n")
    monkeypatch.setenv("PYTEST_DURABLE_MODE", "cloud")
    _run(project, "--durable-standin").assert_outcomes(passed=1)
    assert read_cassette(_cassette(project)).source == "cloud"


def test_a_failing_test_records_nothing(project):
    project.makepyfile(test_orders=TEST_MODULE.replace('"approval": "yes"', '"approval": "no"'))
    result = _run(
        project, "--durable-mode=cloud", "--durable-standin", "--durable-record-mode=once"
    )
    result.assert_outcomes(failed=1)
    assert not _cassette(project).exists()


def test_a_local_run_is_saved_as_a_cassette_on_request(project):
    _run(project, "--durable-record-mode=once").assert_outcomes(passed=1)
    cassette = read_cassette(_cassette(project))
    assert cassette.source == "local"
    assert cassette.interactions == []
    assert cassette.execution(0).handler == "test_orders:orders"


def test_the_scrub_hook_also_sees_local_cassettes(project):
    # Regression: only cloud-mode cassettes went through pytest_durable_scrub_cassette.
    project.makeconftest(
        """
        def pytest_durable_scrub_cassette(document, path, config):
            document["recorded"]["scrubbed-by"] = "conftest"
        """
    )
    _run(project, "--durable-record-mode=once").assert_outcomes(passed=1)
    document = yaml.safe_load(_cassette(project).read_text())
    assert document["source"] == "local"
    assert document["recorded"]["scrubbed-by"] == "conftest"


def test_function_names_from_marker_ini_and_hook(pytester):
    pytester.makeini("[pytest]\ndurable_functions =\n    test_names:first = first-from-ini\n")
    pytester.makeconftest(
        """
        def pytest_durable_function_name(handler, default, item):
            if default == "third":
                return "third-from-hook"
        """
    )
    pytester.makepyfile(
        test_names="""
        import pytest
        from aws_durable_execution_sdk_python import durable_execution

        @durable_execution
        def first(event, context):
            return 1

        @durable_execution
        def second(event, context):
            return 2

        @durable_execution
        def third(event, context):
            return 3

        @pytest.mark.durable_function("second-from-marker", handler=second)
        def test_names(durable_cloud):
            assert [durable_cloud.run(h).output for h in (first, second, third)] == [1, 2, 3]
        """
    )
    _run(
        pytester, "--durable-mode=cloud", "--durable-standin", "--durable-record-mode=once"
    ).assert_outcomes(passed=1)
    cassette = read_cassette(pytester.path / "fixtures/cassettes/test_names/test_names.yaml")
    assert [e.function_name for e in cassette.executions] == [
        "first-from-ini",
        "second-from-marker",
        "third-from-hook",
    ]


def test_scrub_and_matcher_hooks(project):
    project.makeconftest(
        """
        def pytest_durable_scrub_cassette(document, path, config):
            document["recorded"]["scrubbed-by"] = "conftest"

        def pytest_durable_request_matchers(config):
            if config.getoption("--durable-record-mode") == "none":
                def never(live, recorded):
                    raise AssertionError("refused by the conftest matcher")
                return [never]
        """
    )
    _run(
        project, "--durable-mode=cloud", "--durable-standin", "--durable-record-mode=once"
    ).assert_outcomes(passed=1)
    document = yaml.safe_load(_cassette(project).read_text())
    assert document["recorded"]["scrubbed-by"] == "conftest"

    refused = _run(project, "--durable-mode=cloud", "--durable-record-mode=none")
    refused.assert_outcomes(failed=1)
    refused.stdout.fnmatch_lines(["*refused by the conftest matcher*"])


def test_durable_replay_checks_the_code_against_recorded_executions(project):
    _run(project, "--durable-record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(
        test_determinism="""
        from aws_durable_execution_sdk_python import DurableContext, durable_execution
        from aws_durable_execution_sdk_python.config import Duration
        from test_orders import orders


        @durable_execution
        def orders_renamed(event, context: DurableContext):
            reserved = context.step(lambda _: "x", name="reserve-stock")
            context.wait(Duration.from_hours(1), name="cool-off")
            approval = context.create_callback(name="approval")
            return {"reserved": reserved, "approval": approval.result()}


        def test_unchanged(durable_replay):
            [report] = durable_replay.check(orders, "test_orders/test_ship")
            assert report.ok

        def test_renamed(durable_replay):
            durable_replay.check(orders_renamed, "test_orders/test_ship.yaml")
        """
    )
    result = _run(project, "test_determinism.py")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*NonDeterminismError: Determinism replay of *test_ship.yaml*: 1 divergence.",
            "*renamed   STEP 'reserve' (#1 at the top level) is now named 'reserve-stock'",
        ]
    )


def test_the_cassette_marker_names_the_file(project):
    project.makepyfile(
        test_orders=TEST_MODULE.replace(
            "def test_ship", "@pytest.mark.durable_cassette('shared/orders')\ndef test_ship"
        )
    )
    _run(project, "--durable-record-mode=once").assert_outcomes(passed=1)
    assert (project.path / "fixtures/cassettes/shared/orders.yaml").is_file()


def test_a_failing_local_run_shows_its_timeline(project):
    project.makepyfile(test_orders=TEST_MODULE.replace('"approval": "yes"', '"approval": "no"'))
    result = _run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*durable timeline*", "*StepSucceeded*reserve*"])


def test_a_local_run_never_overwrites_a_cloud_cassette(project):
    _run(
        project, "--durable-mode=cloud", "--durable-standin", "--durable-record-mode=once"
    ).assert_outcomes(passed=1)
    before = _cassette(project).read_text()

    result = _run(project, "--durable-record-mode=all")
    # Our warning is asserted by its text, not by the session's warning count: an in-process
    # pytester session also warns that already-imported plugin modules cannot be rewritten
    # whenever an earlier test in the same worker imported them (xdist decides which do).
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*not overwriting*recorded in cloud mode*"])
    assert _cassette(project).read_text() == before
