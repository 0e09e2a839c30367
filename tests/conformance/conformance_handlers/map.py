"""Handlers for the map suite (9-x)."""

from __future__ import annotations

from aws_durable_execution_sdk_python import (
    DurableContext,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import (
    Duration,
    MapConfig,
    NestingType,
)
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES

from conformance_handlers.common import (
    Builder,
    OpSerDes,
    WrappingSerDes,
    one_at_a_time,
    projection,
    requirement,
)

# ----------------------------------------------------------------------------- map 9-x


@requirement("9-1")
def map_basic(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def per_item(ctx: DurableContext, item, index, items):
            return ctx.step(lambda _: f"Hello, {item}!", name="greet")

        return context.map(event, per_item, name="map", config=one_at_a_time()).get_results()

    return handler


@requirement("9-2")
def map_items_only(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            event, lambda ctx, item, index, items: item * 2, config=one_at_a_time()
        ).get_results()

    return handler


@requirement("9-3")
def map_item_and_index(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            event, lambda ctx, item, index, items: item + index, config=one_at_a_time()
        ).get_results()

    return handler


@requirement("9-4")
def map_empty(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(event, lambda ctx, item, index, items: item).get_results()

    return handler


def _ok_or_fail(ctx, item, index, items):
    if item == "fail":
        raise RuntimeError(f"item {index} fails")
    return item


PROJECTION = ("completionReason", "status", "successCount", "failureCount", "totalCount")


@requirement("9-5")
def map_fail_fast(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["ok", "fail", "ok"], _ok_or_fail, config=one_at_a_time(tolerated_failure_count=0)
        )
        return projection(batch, *PROJECTION)

    return handler


@requirement("9-6")
def map_rethrow(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["fail", "ok"], _ok_or_fail, config=one_at_a_time(tolerated_failure_count=0)
        )
        batch.throw_if_error()
        return "unreachable"

    return handler


@requirement("9-7")
def map_min_successful(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["a", "b", "c", "d"],
            lambda ctx, item, index, items: "done",
            config=one_at_a_time(min_successful=2),
        )
        return projection(batch, "completionReason", "successCount", "totalCount")

    return handler


@requirement("9-8")
def map_tolerated_failure(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["ok", "fail", "ok"], _ok_or_fail, config=one_at_a_time(tolerated_failure_count=1)
        )
        return projection(batch, *PROJECTION)

    return handler


@requirement("9-9")
def map_tolerance_exceeded(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["fail", "fail", "ok"], _ok_or_fail, config=one_at_a_time(tolerated_failure_count=1)
        )
        return projection(batch, "completionReason", "successCount", "failureCount", "totalCount")

    return handler


@requirement("9-10")
def map_tolerated_percentage(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["fail", "fail", "ok", "ok"],
            _ok_or_fail,
            config=one_at_a_time(tolerated_failure_percentage=25),
        )
        return projection(batch, "completionReason", "successCount", "failureCount", "totalCount")

    return handler


@requirement("9-11")
def map_concurrent(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            [0, 1, 2],
            lambda ctx, item, index, items: f"r{item}",
            config=MapConfig(max_concurrency=2),
        ).get_results()

    return handler


@requirement("9-12")
def map_flat(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            ["fa", "fb"],
            lambda ctx, item, index, items: ctx.step(lambda _: item, name="item"),
            config=MapConfig(max_concurrency=1, nesting_type=NestingType.FLAT),
        ).get_results()

    return handler


@requirement("9-13")
def map_item_namer(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            event,
            lambda ctx, item, index, items: item * 10,
            config=MapConfig(max_concurrency=1, item_namer=lambda item, index: f"item-{item}"),
        ).get_results()

    return handler


@requirement("9-14")
def map_item_serdes(env):
    @durable_execution
    def handler(event, context: DurableContext):
        return context.map(
            ["x", "y"],
            lambda ctx, item, index, items: item.upper(),
            config=MapConfig(max_concurrency=1, item_serdes=WrappingSerDes()),
        ).get_results()

    return handler


@requirement("9-15")
def map_wait_inside(env):
    @durable_execution
    def handler(event, context: DurableContext):
        def per_item(ctx: DurableContext, item, index, items):
            if index == 1:
                ctx.wait(Duration.from_seconds(1))
            return ctx.step(lambda _: item, name="result")

        return context.map(
            ["r0", "r1"], per_item, name="suspend", config=one_at_a_time()
        ).get_results()

    return handler


@requirement("9-16")
def map_large_results(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            [0, 1, 2, 3],
            lambda ctx, item, index, items: str(item) * (70 * 1024),
            name="large",
            config=one_at_a_time(),
        )
        return projection(batch, "successCount", "totalCount")

    return handler


@requirement("9-17")
def map_then_wait(env):
    @durable_execution
    def handler(event, context: DurableContext):
        results = context.map(
            ["a", "b"],
            lambda ctx, item, index, items: item.upper(),
            name="then-wait",
            config=one_at_a_time(),
        ).get_results()
        context.wait(Duration.from_seconds(1))
        return results

    return handler


@requirement("9-18")
def map_failure_then_wait(env):
    @durable_execution
    def handler(event, context: DurableContext):
        batch = context.map(
            ["ok", "fail"],
            _ok_or_fail,
            name="fail-then-wait",
            config=one_at_a_time(tolerated_failure_count=1),
        )
        context.wait(Duration.from_seconds(1))
        return projection(batch, *PROJECTION)

    return handler


def _map_operation_serdes(name: str, wait: bool) -> Builder:
    def build(env):
        @durable_execution
        def handler(event, context: DurableContext):
            batch = context.map(
                ["x", "y"],
                lambda ctx, item, index, items: item.upper(),
                name=name,
                # The SDK applies a lone ``serdes`` to the items too; the requirement wants the
                # default serializer per item, so name it.
                config=MapConfig(
                    max_concurrency=1, serdes=OpSerDes(), item_serdes=EXTENDED_TYPES_SERDES
                ),
            )
            if wait:
                context.wait(Duration.from_seconds(1))
            return batch.get_results()

        return handler

    return build


requirement("9-19")(_map_operation_serdes("op-serde", wait=False))
requirement("9-20")(_map_operation_serdes("op-serde-replay", wait=True))
