"""What a new user runs into in the first hour: directory defaults with markers on top, a
forgotten ``@durable_execution``, settings that are wrong, events that are not JSON, a missing
cassette. Each through the real SDK, in a pytester project as a user would write it."""

from __future__ import annotations

import datetime
import functools
import textwrap

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration

from pytest_durable import DurableEnvironment, HandlerContractError
from pytest_durable.assertions import ExpectedUpdates

HANDLERS = textwrap.dedent(
    """
    from aws_durable_execution_sdk_python import DurableContext, durable_execution
    from aws_durable_execution_sdk_python.config import Duration


    @durable_execution
    def two_days(event, context: DurableContext):
        context.wait(Duration.from_days(2))
        return "done"
    """
)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q", *args)


# ----------------------------------------------------------------- item 3: durable_config


def test_durable_config_sets_directory_defaults_and_markers_win(pytester: pytest.Pytester):
    pytester.makepyfile(handlers=HANDLERS)
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def durable_config():
            return {"execution_timeout": 3600, "start": "2030-01-01T00:00:00Z"}
        """
    )
    pytester.makepyfile(
        test_defaults="""
        import datetime
        import pytest
        from handlers import two_days

        def test_the_directory_default_applies(durable):
            result = durable.run(two_days)
            assert result.status == "TIMED_OUT"
            assert result.start.year == 2030

        @pytest.mark.durable(execution_timeout=datetime.timedelta(days=5))
        def test_a_marker_wins_over_the_directory_default(durable):
            result = durable.run(two_days)
            assert result.status == "SUCCEEDED"
            assert result.start.year == 2030  # the other defaults still apply

        @pytest.mark.durable(execution_timeout=5 * 86400)
        class TestAClassMarker:
            def test_it_wins_too(self, durable):
                assert durable.run(two_days).status == "SUCCEEDED"
        """
    )
    _run(pytester).assert_outcomes(passed=3)


def test_an_old_durable_settings_override_keeps_working_and_no_longer_drops_markers(
    pytester: pytest.Pytester,
):
    pytester.makepyfile(handlers=HANDLERS)
    pytester.makeconftest(
        """
        import pytest
        from pytest_durable import DurableSettings

        @pytest.fixture
        def durable_settings():
            return DurableSettings(execution_timeout=3600)
        """
    )
    pytester.makepyfile(
        test_old="""
        import pytest
        from handlers import two_days

        def test_the_override_applies(durable):
            assert durable.run(two_days).status == "TIMED_OUT"

        @pytest.mark.durable(execution_timeout=5 * 86400)
        def test_the_marker_is_not_lost(durable):
            assert durable.run(two_days).status == "SUCCEEDED"
        """
    )
    _run(pytester).assert_outcomes(passed=2)


def test_a_durable_config_of_the_wrong_kind_is_a_clear_usage_error(pytester: pytest.Pytester):
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def durable_config():
            return [("execution_timeout", 3600)]
        """
    )
    pytester.makepyfile(test_x="def test_x(durable):\n    pass\n")
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*durable_config must return a dict of settings*"])


# ----------------------------------------------------------------- item 4: the decorator


def test_a_forgotten_decorator_is_refused_up_front(durable):
    def handler(event, context: DurableContext):
        return context.step(lambda _: 1, name="one")

    with pytest.raises(HandlerContractError, match=r"@durable_execution") as caught:
        durable.run(handler)
    assert "handler" in str(caught.value)
    assert durable.service.executions == []  # nothing was started


def test_a_forgotten_decorator_without_annotations_fails_on_the_first_invocation(durable):
    def handler(event, context):
        context.wait(Duration.from_days(1))
        return "done"

    with pytest.raises(HandlerContractError, match=r"context\.wait.*@durable_execution") as caught:
        durable.run(handler)
    assert isinstance(caught.value.__cause__, AttributeError)
    assert len(durable.service.executions[0].invocations) == 1  # not retried 5 times


def test_decorated_handlers_and_their_wrappers_are_accepted(durable):
    @durable_execution
    def decorated(event, context: DurableContext):
        return context.step(lambda _: event + 1, name="add")

    @functools.wraps(decorated)
    def logged(event, context):
        return decorated(event, context)

    assert durable.run(decorated, 1).output == 2
    assert durable.run(logged, 2).output == 3


# ----------------------------------------------------------------- item 5: small things


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("max_invocations", 0, "max_invocations must be a whole number of at least 1"),
        ("max_failed_invocations", -1, "max_failed_invocations must be a whole number"),
        ("invocation_wall_timeout", 0, "invocation_wall_timeout must be a positive number"),
        ("freeze_time", "no", "freeze_time must be True or False"),
    ],
)
def test_impossible_settings_are_refused_up_front(setting, value, message):
    with pytest.raises(ValueError, match=message):
        DurableEnvironment(**{setting: value})


def test_a_misspelt_setting_suggests_the_closest(pytester: pytest.Pytester):
    with pytest.raises(TypeError, match=r"execution_timout \(did you mean execution_timeout\?\)"):
        DurableEnvironment(execution_timout=60)
    pytester.makepyfile(
        test_typo="""
        import pytest

        @pytest.mark.durable(max_invocation=3)
        def test_x(durable):
            pass
        """
    )
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.durable on test_typo.py::test_x*max_invocation (did you mean*"]
    )


def test_an_event_that_is_not_json_says_so_and_how_to_fix_it(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        return event

    with pytest.raises(TypeError, match=r"The event is not JSON serializable.*isoformat"):
        durable.run(handler, {"at": datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)})
    assert durable.service.executions == []


def test_a_missing_cassette_is_a_short_error_with_the_command(pytester: pytest.Pytester):
    pytester.makepyfile(handlers=HANDLERS)
    pytester.makepyfile(
        test_cloud="""
        from handlers import two_days

        def test_cloud(durable_cloud):
            durable_cloud.run(two_days)
        """
    )
    result = _run(pytester, "--durable-mode=cloud")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*No cassette*", "*--durable-record-mode=once*"])
    # The message, not pages of the plugin's source.
    assert "def durable_cloud(" not in result.stdout.str()
    assert len(result.stdout.lines) < 30, result.stdout.str()


# ----------------------------------------------------------------- item 6: what the docs promise


def test_a_check_report_prints_as_its_explanation(durable):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.step(lambda _: 1, name="one")

    result = durable.run(handler)
    report = ExpectedUpdates().add("STEP", "START", Name="two").check(result)
    assert not report.ok
    assert str(report) == report.explain()
    assert "mismatch" in str(report) and "MatchReport(" not in str(report)
