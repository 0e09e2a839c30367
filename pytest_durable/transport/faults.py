"""Faults on demand: the service misbehaving at a chosen call, as Lambda's API can.

One :class:`FaultPlan` sits in the :class:`~pytest_durable.transport.router.Router`, so the
in-process client, the loopback HTTP endpoint and ``pytest-durable serve`` share it. A test
declares rules (``durable.faults.throttle("CheckpointDurableExecution", times=2)``); before each
call of a durable API the router asks the plan whether a rule fires, and the plan records every
fault it injects (:class:`InjectedFault`) so a run's result can show what happened and how the
SDK reacted.

The kinds of fault, each a verb of :class:`FaultPlan`:

- ``throttle``: ``TooManyRequestsException`` (429), which botocore retries (throttling codes of
  its standard retry mode) and the SDK treats as retryable if the retries run out;
- ``fail``: any error the botocore ``lambda`` model declares for that API, with the model's
  HTTP status (``ServiceException`` 500, the KMS errors 502, ...);
- ``lose_answer``: the request is applied and the answer lost: the client sees a read timeout
  (in-process: botocore's ``ReadTimeoutError`` from the send hook; HTTP: the connection is
  closed unanswered). botocore retries with the same body, so the same ``ClientToken``, and
  the service must answer the retry from its idempotency cache;
- ``delay``: the answer comes late, on the virtual clock (default) or in real time;
- ``kill_sandbox``: the Lambda sandbox running the invocation dies before or after a
  checkpoint. Only the runner can play that (it owns invocations), so the runner installs the
  killer (:attr:`FaultPlan.sandbox_killer`); without one the verb is refused.

Which call a rule hits: the ``on_call``-th call of its API for an execution (1-based, retries
included), calls whose checkpoint batch has an update with that Name or Id (``operation=``), or
each call with a seeded ``probability``; ``times`` bounds how often it fires (default once;
``None``: no bound).
"""

from __future__ import annotations

import datetime as _dt
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pytest_durable.errors import (
    CallbackTimeoutException,
    InvalidParameterValueException,
    KMSAccessDeniedException,
    KMSDisabledException,
    KMSInvalidStateException,
    KMSNotFoundException,
    ResourceConflictException,
    ResourceNotFoundException,
    SandboxDied,
    ServiceError,
    ServiceException,
    TooManyRequestsException,
)
from pytest_durable.transport.botocore_model import lambda_model

CHECKPOINT = "CheckpointDurableExecution"
#: The verbs of a FaultPlan, each a kind of fault (also the first argument of the marker).
FAULT_KINDS = ("throttle", "fail", "lose_answer", "delay", "kill_sandbox")
# Longest real delay a rule may ask for: no test may hang on an injected fault.
MAX_REAL_DELAY_SECONDS = 30.0


@dataclass
class InjectedFault:
    """One fault the plan injected: what, when, into which call, and how the client reacted."""

    #: ``throttle``, ``fail``, ``lose_answer``, ``delay`` or ``kill_sandbox``.
    kind: str
    #: The API called (``CheckpointDurableExecution``, ...).
    api: str
    #: Which call of that API for the execution it hit (1-based, botocore retries included).
    call: int
    #: Virtual time of the call.
    at: _dt.datetime
    #: The error code answered (``throttle``/``fail``), else None.
    code: str | None
    #: A sentence saying what was done.
    detail: str
    #: ARN of the execution the call was for (None for calls that name no execution).
    arn: str | None = None
    #: Index in ``result.invocations`` of the invocation running when it was injected.
    invocation: int | None = None
    #: How many times the client sent the same request again (botocore retries).
    retries: int = 0
    #: How the SDK and Lambda reacted, filled in when the run's result is built: ``retried``,
    #: ``invocation crashed``, ``execution failed``, ``sandbox died, re-invoked``, ...
    reaction: str = ""
    _fingerprint: tuple[str, str] = field(default=("", ""), repr=False, compare=False)

    def __str__(self) -> str:
        where = f" (invocation {self.invocation})" if self.invocation is not None else ""
        reaction = f" -> {self.reaction}" if self.reaction else ""
        return f"{self.kind} {self.api} call {self.call}{where}: {self.detail}{reaction}"


@dataclass
class FaultRule:
    """One declared fault and the calls it hits."""

    kind: str
    api: str
    times: int | None = 1
    on_call: int | None = None
    operation: str | None = None
    probability: float | None = None
    seed: int = 0
    code: str | None = None
    message: str | None = None
    seconds: float = 0.0
    virtual: bool = True
    when: str = "before"
    every: int | None = None
    arn: str | None = None
    #: A further test of ``(call, params)`` a call must pass (for callers building on the plan,
    #: such as the re-invocation fuzzer).
    predicate: Callable[[int, dict[str, Any]], bool] | None = field(default=None, repr=False)
    fired: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def hits(self, call: int, params: dict[str, Any]) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.on_call is not None and call != self.on_call:
            return False
        if self.every is not None and call % self.every:
            return False
        if self.arn is not None and params.get("DurableExecutionArn") != self.arn:
            return False
        if self.operation is not None and not _batch_names(params, self.operation):
            return False
        if self.probability is not None and self._random.random() >= self.probability:
            return False
        return self.predicate is None or self.predicate(call, params)


def _batch_names(params: dict[str, Any], wanted: str) -> bool:
    return any(
        isinstance(update, dict) and wanted in (update.get("Name"), update.get("Id"))
        for update in params.get("Updates") or ()
    )


@cache
def declared_errors(api: str) -> dict[str, int]:
    """The error codes the botocore ``lambda`` model declares for ``api``, with their status."""
    operation = lambda_model().operation_model(api)
    return {
        shape.name: int(shape.metadata.get("error", {}).get("httpStatusCode", 500))
        for shape in operation.error_shapes
    }


_ERROR_CLASSES: dict[str, type[ServiceError]] = {
    cls.code: cls
    for cls in (
        InvalidParameterValueException,
        ResourceNotFoundException,
        ResourceConflictException,
        CallbackTimeoutException,
        TooManyRequestsException,
        ServiceException,
        KMSAccessDeniedException,
        KMSDisabledException,
        KMSInvalidStateException,
        KMSNotFoundException,
    )
}


def _error(code: str, status: int, message: str) -> ServiceError:
    """The service's error class for ``code``, or one made for a code it has none for."""
    known = _ERROR_CLASSES.get(code)
    if known is not None and known.status == status:
        return known(message)
    kind = "User" if status < 500 else "Service"
    error_type: type[ServiceError] = type(
        code, (ServiceError,), {"code": code, "status": status, "error_kind": kind}
    )
    return error_type(message)


@dataclass(frozen=True)
class Decision:
    """What the router does with one call: raise ``error``, wait, lose the answer, kill."""

    rule: FaultRule
    record: InjectedFault
    error: ServiceError | None = None


class FaultPlan:
    """The faults declared for one router, and a log of those injected. Thread-safe."""

    def __init__(
        self,
        *,
        now_ms: Callable[[], int],
        advance: Callable[[float], object] | None = None,
        durable_apis: tuple[str, ...] = (),
    ) -> None:
        self._now_ms = now_ms
        #: Moves the virtual clock by seconds (virtual delays); None: delays are real.
        self.advance = advance
        #: Installed by the runner: kills the sandbox of the invocation running ``arn`` (blocks
        #: and fences it, then raises :class:`SandboxDied` on the calling thread); returns if it
        #: has no such invocation to kill.
        self.sandbox_killer: Callable[[str, InjectedFault], None] | None = None
        self._apis = durable_apis
        self._rules: list[FaultRule] = []
        self._calls: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        #: Every fault injected, in order.
        self.injected: list[InjectedFault] = []
        # Invocation index of an execution's active invocation (set by the router's service).
        self.invocation_of: Callable[[str], int | None] = lambda arn: None

    # ------------------------------------------------------------------ verbs

    def throttle(self, api: str, *, times: int | None = 1, **where: Any) -> FaultRule:
        """Answer ``TooManyRequestsException`` (429) ``times`` times."""
        return self._add("throttle", api, times=times, code="TooManyRequestsException", **where)

    def fail(
        self,
        api: str,
        code: str = "ServiceException",
        *,
        times: int | None = 1,
        message: str | None = None,
        **where: Any,
    ) -> FaultRule:
        """Answer the error ``code`` (one the botocore model declares for ``api``)."""
        return self._add("fail", api, times=times, code=code, message=message, **where)

    def lose_answer(self, api: str, *, times: int | None = 1, **where: Any) -> FaultRule:
        """Apply the request, then lose the answer: the client sees a read timeout."""
        return self._add("lose_answer", api, times=times, **where)

    def delay(
        self,
        api: str,
        seconds: float,
        *,
        virtual: bool = True,
        times: int | None = 1,
        **where: Any,
    ) -> FaultRule:
        """Answer ``seconds`` late: on the virtual clock (default), or really waiting."""
        if seconds <= 0:
            raise ValueError(f"delay needs seconds > 0, got {seconds!r}")
        if not virtual and seconds > MAX_REAL_DELAY_SECONDS:
            raise ValueError(
                f"a real delay is at most {MAX_REAL_DELAY_SECONDS:g} s (no test may hang); use "
                f"virtual=True for longer ones"
            )
        return self._add("delay", api, times=times, seconds=seconds, virtual=virtual, **where)

    def kill_sandbox(
        self,
        *,
        after_checkpoint: int | None = None,
        before_checkpoint: int | None = None,
        at_step: str | None = None,
        every: int | None = None,
        times: int | None = 1,
        probability: float | None = None,
        seed: int = 0,
        arn: str | None = None,
        predicate: Callable[[int, dict[str, Any]], bool] | None = None,
    ) -> FaultRule:
        """End the invocation as a sandbox death: after the N-th checkpoint call was applied,
        before the N-th was, before the first checkpoint of the step (or any operation) named
        ``at_step``, after every ``every``-th checkpoint, or after checkpoints picked with a
        seeded ``probability``. The SDK's threads stop there; Lambda re-invokes."""
        if self.sandbox_killer is None:
            raise ValueError(
                "kill_sandbox needs the runner (the durable fixture or a DurableEnvironment): "
                "only it runs the invocations a sandbox death ends"
            )
        chosen = [x is not None for x in (after_checkpoint, before_checkpoint, at_step)]
        if sum(chosen) > 1:
            raise ValueError(
                "kill_sandbox takes one of after_checkpoint, before_checkpoint, at_step"
            )
        if not any(chosen) and probability is None and every is None:
            raise ValueError(
                "kill_sandbox needs a point: after_checkpoint=N, before_checkpoint=N, "
                "at_step=NAME, every=K or probability=P"
            )
        if every is not None and (isinstance(every, bool) or int(every) < 1):
            raise ValueError(f"kill_sandbox: every must be a positive int, got {every!r}")
        return self._add(
            "kill_sandbox",
            CHECKPOINT,
            times=times,
            on_call=after_checkpoint if after_checkpoint is not None else before_checkpoint,
            operation=at_step,
            when="before" if before_checkpoint is not None or at_step is not None else "after",
            probability=probability,
            seed=seed,
            every=every,
            arn=arn,
            predicate=predicate,
        )

    def declare(self, spec: str) -> FaultRule:
        """Declare a rule from text, as ``pytest-durable serve --fault`` takes it:
        ``VERB:API[:KEY=VALUE,...]``, e.g. ``throttle:CheckpointDurableExecution:times=2`` or
        ``fail:GetDurableExecutionState:code=KMSDisabledException,on_call=1``."""
        verb, _, rest = spec.partition(":")
        api, _, options_text = rest.partition(":")
        verbs = ("throttle", "fail", "lose_answer", "delay")
        if verb not in verbs or not api:
            raise ValueError(
                f"a fault is VERB:API[:KEY=VALUE,...] with VERB one of {', '.join(verbs)} "
                f"(e.g. throttle:CheckpointDurableExecution:times=2), got {spec!r}"
            )
        options: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in options_text.split(","))):
            key, equals, value = item.partition("=")
            if not equals:
                raise ValueError(f"fault option {item!r} in {spec!r} is not KEY=VALUE")
            options[key.strip()] = _option_value(value.strip())
        verb_method: Callable[..., FaultRule] = getattr(self, verb)
        try:
            return verb_method(api, **options)
        except TypeError as error:
            raise ValueError(f"{spec!r}: {error}") from None

    def allow_apis(self, apis: tuple[str, ...]) -> None:
        """Also accept rules for ``apis`` (a router that serves more, e.g. Lambda's Invoke)."""
        self._apis = tuple(dict.fromkeys((*self._apis, *apis)))

    def clear(self) -> None:
        """Forget every declared rule (the log of injected faults stays)."""
        with self._lock:
            self._rules.clear()

    def remove(self, rule: FaultRule) -> None:
        """Forget one declared rule."""
        with self._lock:
            self._rules = [declared for declared in self._rules if declared is not rule]

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        with self._lock:
            return tuple(self._rules)

    def _add(self, kind: str, api: str, **options: Any) -> FaultRule:
        if self._apis and api not in self._apis:
            raise ValueError(
                f"{kind}: {api!r} is not a durable-execution API; use one of "
                + ", ".join(self._apis)
            )
        unknown = set(options) - {
            "times",
            "on_call",
            "operation",
            "probability",
            "seed",
            "code",
            "message",
            "seconds",
            "virtual",
            "when",
            "every",
            "arn",
            "predicate",
        }
        if unknown:
            raise TypeError(
                f"{kind}() got unknown keyword(s) {', '.join(sorted(unknown))}; a rule picks its "
                f"calls with on_call=N, operation=NAME_OR_ID, probability=P, seed=S, times=N"
            )
        times = options.get("times")
        if times is not None and (isinstance(times, bool) or int(times) < 1):
            raise ValueError(f"{kind}: times must be a positive int or None, got {times!r}")
        on_call = options.get("on_call")
        if on_call is not None and (isinstance(on_call, bool) or int(on_call) < 1):
            raise ValueError(f"{kind}: on_call counts from 1, got {on_call!r}")
        probability = options.get("probability")
        if probability is not None and not 0 < probability <= 1:
            raise ValueError(f"{kind}: probability must be in (0, 1], got {probability!r}")
        if options.get("operation") is not None and api != CHECKPOINT:
            raise ValueError(f"{kind}: operation= picks checkpoint batches; {api} has none")
        code = options.get("code")
        if code is not None:
            declared = declared_errors(api)
            if code not in declared:
                raise ValueError(
                    f"{kind}: the botocore model declares no {code!r} for {api}; it declares "
                    + ", ".join(sorted(declared))
                )
        rule = FaultRule(kind, api, **options)
        with self._lock:
            self._rules.append(rule)
        return rule

    # ------------------------------------------------------------------ the router's side

    def decide(self, api: str, params: dict[str, Any]) -> Decision | None:
        """Count this call and return the fault to inject into it, if a rule hits it."""
        arn = params.get("DurableExecutionArn")
        key = (api, str(arn or ""))
        with self._lock:
            call = self._calls.get(key, 0) + 1
            self._calls[key] = call
            if not self._rules and not self.injected:
                return None  # the common case: nothing declared, nothing to compare with
            # A retry repeats every parameter (botocore re-sends the same request).
            fingerprint = (api, repr(sorted(params.items())))
            for earlier in self.injected:
                if earlier._fingerprint == fingerprint:
                    earlier.retries += 1
            rule = next((r for r in self._rules if r.api == api and r.hits(call, params)), None)
            if rule is None:
                return None
            rule.fired += 1
            record = InjectedFault(
                kind=rule.kind,
                api=api,
                call=call,
                at=_dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
                + _dt.timedelta(milliseconds=self._now_ms()),
                code=rule.code,
                detail=_detail(rule),
                arn=arn,
                invocation=self.invocation_of(arn) if arn else None,
                _fingerprint=fingerprint,
            )
            self.injected.append(record)
        error = None
        if rule.code is not None:
            status = declared_errors(api)[rule.code]
            error = _error(
                rule.code, status, rule.message or f"Injected by pytest-durable: {record.detail}"
            )
        return Decision(rule, record, error)

    def wait(self, decision: Decision) -> None:
        """Play a ``delay``: move the virtual clock, or sleep (bounded)."""
        rule = decision.rule
        if rule.virtual and self.advance is not None:
            self.advance(rule.seconds)
        else:
            time.sleep(min(rule.seconds, MAX_REAL_DELAY_SECONDS))

    def kill(self, decision: Decision) -> None:
        """Play a ``kill_sandbox``: raises :class:`SandboxDied` on the dying request."""
        killer = self.sandbox_killer
        arn = decision.record.arn
        if killer is None or arn is None:  # pragma: no cover - refused when declared
            raise SandboxDied("no runner to kill the sandbox")
        killer(arn, decision.record)


def _option_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _detail(rule: FaultRule) -> str:
    if rule.kind == "throttle":
        return "answered 429 TooManyRequestsException"
    if rule.kind == "fail":
        return f"answered {rule.code}"
    if rule.kind == "lose_answer":
        return "applied the request, then lost the answer (the client sees a read timeout)"
    if rule.kind == "delay":
        clock = "virtual" if rule.virtual else "real"
        return f"answered {rule.seconds:g} s late ({clock} time)"
    return f"killed the sandbox {rule.when} the checkpoint was applied"


__all__ = [
    "FAULT_KINDS",
    "Decision",
    "FaultPlan",
    "FaultRule",
    "InjectedFault",
    "declared_errors",
]
