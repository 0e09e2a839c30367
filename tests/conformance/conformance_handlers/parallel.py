"""Handlers for the parallel suite (8-x)."""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import (
    CompletionConfig,
    Duration,
    NestingType,
    ParallelBranch,
    ParallelConfig,
)
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext

from conformance_handlers.common import Builder, projection, requirement

# ----------------------------------------------------------------------------- parallel 8-x


def one_at_a_time(**completion: Any) -> ParallelConfig:
    return ParallelConfig(max_concurrency=1, completion_config=CompletionConfig(**completion))


def returns(value: Any):
    return lambda ctx: value


def fails(index: int):
    def branch(ctx: DurableContext) -> Any:
        raise RuntimeError(f"branch {index} fails")

    return branch


def step_returning(value: str):
    return lambda ctx: ctx.step(lambda _: value, name=value)


@requirement("8-1")
def parallel_basic(env):
    @durable_execution
    def handler(event, context: DurableContext):
        branches = [step_returning("task-1"), step_returning("task-2")]
        return context.parallel(branches, name="parallel", config=one_at_a_time()).get_results()

    return handler


@requirement("8-2")
def parallel_branches_only(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.parallel(
            [returns("alpha"), returns("beta")], config=one_at_a_time()
        ).get_results()

    return handler


@requirement("8-3")
def parallel_named_branches(env):
    @durable_execution
    def handler(event, context: DurableContext):
        branches = [
            ParallelBranch(func=returns("one"), name="first"),
            ParallelBranch(func=returns("two"), name="second"),
        ]
        return context.parallel(branches, name="named", config=one_at_a_time()).get_results()

    return handler


@requirement("8-4")
def parallel_heterogeneous(env):
    @durable_execution
    def handler(event, context: DurableContext):
        branches = [returns("hello"), returns(42), returns({"k": "v"})]
        return context.parallel(branches, name="hetero", config=one_at_a_time()).get_results()

    return handler


@requirement("8-5")
def parallel_empty(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.parallel([], name="empty").get_results()

    return handler


PROJECTION = ("completionReason", "status", "successCount", "failureCount", "totalCount")
STOPPED = ("completionReason", "successCount", "failureCount", "totalCount")


def _projecting(
    name: str, branches: list[Any], keys: tuple[str, ...], **completion: Any
) -> Builder:
    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            batch = context.parallel(branches, name=name, config=one_at_a_time(**completion))
            return projection(batch, *keys)

        return handler

    return build


#: Requirements whose handler runs ``branches`` one at a time with a completion config and
#: returns a projection of the batch: id -> (name, branches, projected keys, completion config).
PROJECTING: dict[str, tuple[str, list[Any], tuple[str, ...], dict[str, Any]]] = {
    "8-6": (
        "failfast",
        [returns("ok"), fails(1), returns("ok")],
        PROJECTION,
        dict(tolerated_failure_count=0),
    ),
    "8-8": (
        "min-successful",
        [returns("a"), returns("b"), returns("c"), returns("d")],
        ("completionReason", "successCount", "totalCount"),
        dict(min_successful=2),
    ),
    "8-9": (
        "tolerated",
        [returns("ok"), fails(1), returns("ok")],
        PROJECTION,
        dict(tolerated_failure_count=1),
    ),
    "8-10": (
        "tolerated-exceeded",
        [fails(0), fails(1), returns("ok")],
        STOPPED,
        dict(tolerated_failure_count=1),
    ),
    "8-13": (
        "tolerated-pct",
        [fails(0), fails(1), returns("ok"), returns("ok")],
        STOPPED,
        dict(tolerated_failure_percentage=25),
    ),
    "8-16": (
        "all-fail",
        [fails(0), fails(1), fails(2)],
        PROJECTION,
        dict(tolerated_failure_count=3),
    ),
    "8-17": (
        "min-not-reached",
        [returns("ok"), fails(1), returns("ok")],
        PROJECTION,
        dict(min_successful=3),
    ),
    "8-18": (
        "combined",
        [fails(0), fails(1), returns("ok"), returns("ok")],
        STOPPED,
        dict(min_successful=3, tolerated_failure_count=1),
    ),
    "8-22": (
        "pct-boundary",
        [fails(0), returns("ok"), returns("ok"), returns("ok")],
        PROJECTION,
        dict(tolerated_failure_percentage=25),
    ),
}
for _id, (_name, _branches, _keys, _completion) in PROJECTING.items():
    requirement(_id)(_projecting(_name, _branches, _keys, **_completion))


@requirement("8-7")
def parallel_throw_if_error(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.parallel(
            [fails(0), returns("ok")],
            name="throwing",
            config=one_at_a_time(tolerated_failure_count=0),
        )
        batch.throw_if_error()
        return "unreachable"

    return handler


@requirement("8-11")
def parallel_concurrent(env):
    @durable_execution
    def handler(event, context: DurableContext):
        branches = [returns("r0"), returns("r1"), returns("r2")]
        return context.parallel(
            branches, name="concurrent", config=ParallelConfig(max_concurrency=2)
        ).get_results()

    return handler


@requirement("8-12")
def parallel_flat(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.parallel(
            [step_returning("fa"), step_returning("fb")],
            name="flat",
            config=ParallelConfig(max_concurrency=1, nesting_type=NestingType.FLAT),
        ).get_results()

    return handler


@requirement("8-14")
def parallel_replay(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def branch1(ctx: DurableContext) -> str:
            ctx.wait(Duration.from_seconds(2))
            return "b1"

        return context.parallel(
            [step_returning("b0"), branch1], name="replay", config=one_at_a_time()
        ).get_results()

    return handler


class EnvelopeSerDes(SerDes[Any]):
    """Checkpoints ``v`` as ``{"wrapped": v}`` and reads the envelope back to ``v``."""

    def serialize(self, value: Any, _: SerDesContext) -> str:
        return json.dumps({"wrapped": value})

    def deserialize(self, data: str, _: SerDesContext) -> Any:
        return json.loads(data)["wrapped"]


@requirement("8-15")
def parallel_item_serdes(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.parallel(
            [returns("x"), returns("y")],
            name="serde",
            config=ParallelConfig(max_concurrency=1, item_serdes=EnvelopeSerDes()),
        ).get_results()

    return handler


@requirement("8-19")
def parallel_invalid_concurrency(env):
    @durable_execution
    def handler(event, context: DurableContext):
        # ParallelConfig validates on construction: the SDK's ValidationError, uncaught.
        config = ParallelConfig(max_concurrency=0)
        return context.parallel(
            [returns("a"), returns("b")], name="bad-concurrency", config=config
        ).get_results()

    return handler


@requirement("8-20")
def parallel_accessors(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.parallel(
            [returns("ok"), fails(1), returns("ok")],
            name="accessors",
            config=one_at_a_time(tolerated_failure_count=1),
        )
        return {
            "hasFailure": batch.has_failure,
            "successCount": len(batch.succeeded()),
            "failureCount": len(batch.failed()),
            "errorCount": len(batch.get_errors()),
        }

    return handler


@requirement("8-21")
def parallel_nested(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def outer_branch(ctx: DurableContext) -> list[str]:
            inner = [step_returning("i1"), step_returning("i2")]
            return ctx.parallel(inner, name="inner", config=one_at_a_time()).get_results()

        return context.parallel([outer_branch], name="outer", config=one_at_a_time()).get_results()

    return handler
