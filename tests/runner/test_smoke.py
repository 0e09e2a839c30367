import datetime

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def seven_day_wait(event, context: DurableContext):
    before = context.step(lambda _: datetime.datetime.now(datetime.UTC).isoformat(), name="before")
    context.wait(Duration.from_days(7))
    after = context.step(lambda _: datetime.datetime.now(datetime.UTC).isoformat(), name="after")
    return {"before": before, "after": after}


def test_seven_day_wait_moves_the_handlers_clock(durable):
    result = durable.run(seven_day_wait)
    assert result.status == "SUCCEEDED"
    before = datetime.datetime.fromisoformat(result.output["before"])
    after = datetime.datetime.fromisoformat(result.output["after"])
    assert datetime.timedelta(days=7) <= after - before < datetime.timedelta(days=7, seconds=5)
    assert len(result.invocations) == 2


@pytest.mark.durable(start=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))
def test_marker_sets_the_start_time(durable):
    result = durable.run(seven_day_wait)
    assert result.output["before"].startswith("2030-01-01")
    assert result.output["after"].startswith("2030-01-08")
