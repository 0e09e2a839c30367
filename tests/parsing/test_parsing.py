"""The one reading of each format: FunctionName forms (the ``FunctionName`` docs of the botocore
``lambda`` model), ``module:qualname`` references, durations."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_durable.parsing import (
    FunctionName,
    parse_function_name,
    resolve_reference,
    split_reference,
    to_seconds,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders", FunctionName("orders")),
        ("orders:prod", FunctionName("orders", "prod")),
        ("orders:7", FunctionName("orders", "7")),
        ("123456789012:function:orders", FunctionName("orders")),
        ("function:orders:$LATEST", FunctionName("orders", "$LATEST")),
        (
            "arn:aws:lambda:eu-west-1:123456789012:function:orders:$LATEST",
            FunctionName("orders", "$LATEST", "eu-west-1", "123456789012"),
        ),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:orders:3/durable-execution/n/id",
            FunctionName("orders", "3", "us-east-1", "123456789012"),
        ),
    ],
)
def test_every_function_name_form(text: str, expected: FunctionName) -> None:
    assert parse_function_name(text) == expected


def test_a_bad_account_makes_it_a_name_not_an_arn() -> None:
    parsed = parse_function_name("arn:aws:lambda:us-east-1:12:function:orders")
    assert parsed.region is None
    assert not parsed.is_valid


@pytest.mark.parametrize(
    ("text", "valid", "version"),
    [
        ("orders", True, "$LATEST"),
        ("orders:12", True, "12"),
        ("orders:$LATEST.PUBLISHED", True, "$LATEST.PUBLISHED"),
        ("orders:prod", False, "$LATEST"),  # an alias: only Lambda knows its version
        ("bad name", False, "$LATEST"),
    ],
)
def test_validity_and_version(text: str, valid: bool, version: str) -> None:
    parsed = parse_function_name(text)
    assert (parsed.is_valid, parsed.version) == (valid, version)


def test_references_resolve_through_dotted_qualnames() -> None:
    assert resolve_reference("datetime:datetime.fromisoformat") == dt.datetime.fromisoformat
    assert split_reference("app.handlers:handler") == ("app.handlers", "handler")


@pytest.mark.parametrize("reference", ["app.handlers", ":handler", "app:", ""])
def test_a_reference_without_module_and_name_says_the_form(reference: str) -> None:
    with pytest.raises(ValueError, match="expected MODULE:FUNCTION"):
        split_reference(reference)


def test_a_reference_to_nothing_is_an_import_or_attribute_error() -> None:
    with pytest.raises(ImportError):
        resolve_reference("no_such_module_anywhere:handler")
    with pytest.raises(AttributeError):
        resolve_reference("datetime:no_such_name")


def test_durations() -> None:
    assert to_seconds(dt.timedelta(minutes=2)) == 120.0
    assert to_seconds(3) == 3.0
    assert to_seconds(0.5) == 0.5
