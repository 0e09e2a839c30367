"""The operator APIs: read, list, stop, pause, resume and delete durable executions."""

from __future__ import annotations

from typing import Any

from pytest_durable.errors import InvalidParameterValueException, ResourceConflictException
from pytest_durable.parsing import parse_function_name
from pytest_durable.service.core import (
    IDEMPOTENCY_WINDOW_MS,
    MAX_TIMEOUT_SECONDS,
    ServiceBase,
    named_root,
)
from pytest_durable.service.history import record_event, result_of
from pytest_durable.service.model import (
    Execution,
    ExecutionStatus,
    PauseState,
    Wire,
    datetime_to_ms,
    ms_to_datetime,
)
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
            pause = execution.pause
            if pause is not None:
                details: Wire = {"PauseRequestTimestamp": ms_to_datetime(pause.request_ms)}
                if pause.reason is not None:
                    details["Reason"] = pause.reason
                details["ExecutionTimeoutPaused"] = pause.timeout_paused
                answer["PauseDetails"] = details
            deadline = execution.timers.get(execution.execution_id)
            if deadline is not None:
                answer["ExpectedExecutionTimeoutTimestamp"] = ms_to_datetime(deadline)
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
        if IncludeExecutionData is False:  # the model: "The default is true"
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
        name = parse_function_name(FunctionName).name
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
            self._fire_due(execution)
            if execution.status.is_terminal:
                # StopDurableExecution declares no ResourceConflictException (botocore model),
                # unlike Pause/Resume/Delete: a finished execution is an invalid parameter.
                raise InvalidParameterValueException(
                    f"Cannot stop a durable execution that is {execution.status.value}; only "
                    f"a running or paused execution can be stopped"
                )
            now = self.now_ms()
            self._finish(execution, ExecutionStatus.STOPPED, now, error=Error)
            return {"StopTimestamp": ms_to_datetime(now)}

    def pause_durable_execution(
        self,
        *,
        DurableExecutionArn: str,
        ClientToken: str | None = None,
        Reason: str | None = None,
        ExecutionTimeoutPaused: bool | None = None,
    ) -> Wire:
        """Pause: no invocations until resumed; waits and callbacks keep completing. With an
        invocation in progress the execution is PAUSING until its next checkpoint (model docs)."""
        timeout_paused = ExecutionTimeoutPaused is not False  # the model's default is true
        with self._locked():
            execution = self.execution(DurableExecutionArn)
            self._fire_due(execution)
            params = ("pause", Reason, timeout_paused)
            if self._repeated(execution, "pause", ClientToken, params):
                return {}
            if execution.status is not ExecutionStatus.RUNNING:
                raise ResourceConflictException(
                    f"Cannot pause a durable execution that is {execution.status.value}; only a "
                    f"RUNNING execution can be paused"
                )
            now = self.now_ms()
            execution.pause = PauseState(
                request_ms=now,
                reason=Reason,
                timeout_paused=timeout_paused,
                wake_count_at_pause=execution.wake_count,
            )
            if execution.active_invocation is not None:
                execution.status = ExecutionStatus.PAUSING
            else:
                self._enter_paused(execution, now)
            return {}

    def resume_durable_execution(
        self,
        *,
        DurableExecutionArn: str,
        ClientToken: str | None = None,
        Reason: str | None = None,
    ) -> Wire:
        """Resume: PAUSING cancels the pause; PAUSED runs again, and Lambda re-invokes if the
        pause interrupted an invocation or an operation completed meanwhile (model docs)."""
        with self._locked():
            execution = self.execution(DurableExecutionArn)
            self._fire_due(execution)
            if self._repeated(execution, "resume", ClientToken, ("resume", Reason)):
                return {}
            pause = execution.pause
            if pause is None or execution.status not in (
                ExecutionStatus.PAUSED,
                ExecutionStatus.PAUSING,
            ):
                raise ResourceConflictException(
                    f"Cannot resume a durable execution that is {execution.status.value}; only a "
                    f"PAUSED or PAUSING execution can be resumed"
                )
            now = self.now_ms()
            execution.status = ExecutionStatus.RUNNING
            execution.pause = None
            if pause.paused_ms is None:  # still PAUSING: the pause never took effect
                return {}
            if pause.held_deadline_ms is not None:
                extended = pause.held_deadline_ms + (now - pause.paused_ms)
                cap = execution.start_ms + MAX_TIMEOUT_SECONDS * 1000
                execution.timers[execution.execution_id] = min(extended, cap)
            details: Wire = {"ResumeRequestTimestamp": ms_to_datetime(now)}
            if Reason is not None:
                details["Reason"] = result_of(Reason)
            record_event(
                execution,
                "ExecutionResumed",
                now,
                details,
                named_root(execution.operations[execution.execution_id], execution.name),
            )
            if pause.interrupted_invocation or execution.wake_count > pause.wake_count_at_pause:
                execution.wake_count += 1
            return {}

    def delete_durable_execution(self, *, DurableExecutionArn: str) -> Wire:
        """Delete a terminal execution and its data (model docs: otherwise a conflict)."""
        with self._locked():
            execution = self.execution(DurableExecutionArn)
            self._fire_due(execution)
            if not execution.status.is_terminal:
                raise ResourceConflictException(
                    f"Cannot delete a durable execution that is {execution.status.value}; it must "
                    f"be SUCCEEDED, FAILED, STOPPED or TIMED_OUT (stop it first)"
                )
            del self._executions[DurableExecutionArn]
            for callback_id in [
                cid for cid, (arn, _) in self._callbacks.items() if arn == DurableExecutionArn
            ]:
                del self._callbacks[callback_id]
            return {"DeletionRequestTimestamp": ms_to_datetime(self.now_ms())}

    def _repeated(
        self, execution: Execution, api: str, client_token: str | None, params: Any
    ) -> bool:
        """Whether this request repeats one with the same ClientToken and parameters within 15
        minutes; those succeed without acting again (model docs of Pause/Resume)."""
        if client_token is None:
            return False
        now = self.now_ms()
        seen = execution.operator_tokens.get((api, client_token))
        if seen is not None and now - seen[1] < IDEMPOTENCY_WINDOW_MS:
            if seen[0] != params:
                raise InvalidParameterValueException(
                    f"ClientToken {client_token!r} was used for a different {api} request"
                )
            return True
        execution.operator_tokens[(api, client_token)] = (params, now)
        return False
