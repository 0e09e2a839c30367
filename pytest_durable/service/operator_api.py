"""The operator APIs: read, list, stop, pause, resume and delete durable executions."""

from __future__ import annotations

from typing import Any

from pytest_durable.service.core import ServiceBase
from pytest_durable.service.errors import ResourceConflictException
from pytest_durable.service.model import ExecutionStatus, Wire, datetime_to_ms, ms_to_datetime
from pytest_durable.service.paging import DEFAULT_PAGE_SIZE, marker, parse_marker, without_data


class OperatorAPI(ServiceBase):
    def get_durable_execution(
        self,
        *,
        DurableExecutionArn: str,
        IncludeExecutionData: bool | None = None,
    ) -> Wire:
        with self._locked():
            execution = self.execution(DurableExecutionArn)
            include = IncludeExecutionData is not False
            answer: Wire = {
                "DurableExecutionArn": execution.arn,
                "DurableExecutionName": execution.name,
                "FunctionArn": execution.function_arn,
            }
            if include:
                answer["InputPayload"] = execution.input_payload
                if execution.result is not None:
                    answer["Result"] = execution.result
                if execution.error is not None:
                    answer["Error"] = dict(execution.error)
            answer["StartTimestamp"] = ms_to_datetime(execution.start_ms)
            answer["Status"] = execution.status.value
            if execution.end_ms is not None:
                answer["EndTimestamp"] = ms_to_datetime(execution.end_ms)
            answer["Version"] = execution.version
            answer["ExecutionDataIncluded"] = include
            answer["DurableConfig"] = {
                "RetentionPeriodInDays": execution.retention_period_days,
                "ExecutionTimeout": execution.execution_timeout_seconds,
            }
            if not execution.status.is_terminal:
                answer["ExpectedExecutionTimeoutTimestamp"] = ms_to_datetime(
                    execution.start_ms + execution.execution_timeout_seconds * 1000
                )
            return answer

    def get_durable_execution_history(
        self,
        *,
        DurableExecutionArn: str,
        IncludeExecutionData: bool | None = None,
        MaxItems: int | None = None,
        Marker: str | None = None,
        ReverseOrder: bool | None = None,
    ) -> Wire:
        with self._locked():
            events = list(self.execution(DurableExecutionArn).history)
        if ReverseOrder:
            events.reverse()
        start = parse_marker(Marker, len(events))
        page = events[start : start + (MaxItems or DEFAULT_PAGE_SIZE)]
        if not IncludeExecutionData:
            page = [without_data(event) for event in page]
        answer: Wire = {"Events": page}
        if start + len(page) < len(events):
            answer["NextMarker"] = marker(start + len(page))
        return answer

    def list_durable_executions_by_function(
        self,
        *,
        FunctionName: str,
        Qualifier: str | None = None,
        DurableExecutionName: str | None = None,
        Statuses: list[str] | None = None,
        StartedAfter: Any = None,
        StartedBefore: Any = None,
        ReverseOrder: bool | None = None,
        Marker: str | None = None,
        MaxItems: int | None = None,
    ) -> Wire:
        name = FunctionName.rsplit(":function:", maxsplit=1)[-1].split(":", maxsplit=1)[0]
        after = datetime_to_ms(StartedAfter) if StartedAfter is not None else None
        before = datetime_to_ms(StartedBefore) if StartedBefore is not None else None
        with self._locked():
            matches = [
                e
                for e in self._executions.values()
                if e.function_name == name
                and (Qualifier is None or e.version == Qualifier)
                and (DurableExecutionName is None or e.name == DurableExecutionName)
                and (not Statuses or e.status.value in Statuses)
                and (after is None or e.start_ms > after)
                and (before is None or e.start_ms < before)
            ]
        # Newest first by default, oldest first with ReverseOrder (as the console lists them).
        matches.sort(key=lambda e: e.start_ms, reverse=not ReverseOrder)
        start = parse_marker(Marker, len(matches))
        page = matches[start : start + (MaxItems or DEFAULT_PAGE_SIZE)]
        answer: Wire = {"DurableExecutions": [e.summary_wire() for e in page]}
        if start + len(page) < len(matches):
            answer["NextMarker"] = marker(start + len(page))
        return answer

    def stop_durable_execution(
        self,
        *,
        DurableExecutionArn: str,
        Error: Wire | None = None,
    ) -> Wire:
        with self._locked():
            execution = self.execution(DurableExecutionArn)
            if execution.status.is_terminal:
                raise ResourceConflictException(
                    f"Cannot stop a durable execution that is {execution.status.value}"
                )
            now = self.now_ms()
            self._finish(execution, ExecutionStatus.STOPPED, now, error=Error)
            return {"StopTimestamp": ms_to_datetime(now)}
