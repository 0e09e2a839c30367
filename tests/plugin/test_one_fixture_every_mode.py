"""Item 7 of issue 14: the same ``durable`` test body runs local, in cloud mode and from its
cassette, by marker and option alone (as one ``@pytest.mark.vcr`` does with pytest-recording);
a verb only the local fake has fails in cloud mode with a message that says so."""

from __future__ import annotations

import textwrap

import pytest

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


    @pytest.mark.durable_cloud
    def test_ship(durable, request):
        durable.on_callback("approval").succeed("yes")
        result = durable.run(orders, {"order": "o-1"})
        assert result.status == "SUCCEEDED"
        assert result.output == {"reserved": "res-o-1", "approval": "yes"}
        assert [op.name for op in result.operations] == ["reserve", "cool-off", "approval"]
        print(f"MODE={durable.mode}")


    def test_local_only(durable):
        assert durable.mode == "local"  # unmarked tests stay local in every mode
    """
)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-s", *args)


def _cassette(pytester: pytest.Pytester):
    return pytester.path / "fixtures" / "cassettes" / "test_orders" / "test_ship.yaml"


def test_the_same_body_runs_local_then_cloud_then_from_the_cassette(pytester: pytest.Pytester):
    pytester.makepyfile(test_orders=TEST_MODULE)

    local = _run(pytester)
    local.assert_outcomes(passed=2)
    local.stdout.fnmatch_lines(["*MODE=local*"])
    assert not _cassette(pytester).exists()

    recorded = _run(
        pytester, "--durable-mode=cloud", "--durable-standin", "--durable-record-mode=once"
    )
    recorded.assert_outcomes(passed=2)
    recorded.stdout.fnmatch_lines(["*MODE=cloud*", "recorded: *test_ship.yaml"])
    assert _cassette(pytester).is_file()

    replayed = _run(pytester, "--durable-mode=cloud")  # no stand-in, record mode none: offline
    replayed.assert_outcomes(passed=2)
    replayed.stdout.fnmatch_lines(["*MODE=cloud*"])
    assert "recorded:" not in replayed.stdout.str()


def test_the_marker_can_fix_the_mode_and_local_only_verbs_say_why(pytester: pytest.Pytester):
    pytester.makepyfile(test_orders=TEST_MODULE)
    _run(pytester, "--durable-mode=cloud", "--durable-standin", "--durable-record-mode=once")
    pytester.makepyfile(
        test_forced=textwrap.dedent(
            """
            import pytest
            from pytest_durable import LocalOnlyError
            from test_orders import orders


            @pytest.mark.durable_cloud(mode="cloud")
            @pytest.mark.durable_cassette("test_orders/test_ship")
            def test_forced_cloud_replays_without_the_option(durable):
                durable.on_callback("approval").succeed("yes")
                assert durable.run(orders, {"order": "o-1"}).status == "SUCCEEDED"
                with pytest.raises(LocalOnlyError, match=r"durable\\.clock is not available"):
                    durable.clock.advance(60)
                with pytest.raises(LocalOnlyError, match="deployed functions"):
                    durable.register_function("other", result=1)


            @pytest.mark.durable_cloud(mode="local")
            def test_forced_local(durable):
                assert durable.mode == "local"


            @pytest.mark.durable_cloud(mode="lamda")
            def test_a_bad_mode(durable):
                pass
            """
        )
    )
    result = _run(pytester, "test_forced.py")  # the session is local; the marker decides
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*durable_cloud(mode=...)*must be one of local, cloud*"])
