"""Answers are found, typed field by field, and every problem is named."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from docpipe.answers.json_spans import find_json_object
from docpipe.answers.validate import validate_generation
from docpipe.core.errors import Category
from docpipe.core.types import RawGeneration
from docpipe.normalize import parse_date, parse_money
from docpipe.schema.load import resolve_schema


def _gen(text, finish="stop", error=None):
    return RawGeneration("doc", text, 10, 5, finish, 0.1, error=error)


def test_json_is_found_inside_chatter_and_code_fences():
    assert find_json_object('Sure! ```json\n{"a": {"b": 1}}\n``` done') == ({"a": {"b": 1}}, 14)
    assert find_json_object("{not json} then {\"x\": 2}") == ({"x": 2}, 16)
    assert find_json_object("[1, 2] no object") is None
    assert find_json_object("") is None


def test_a_cut_answer_does_not_pass_off_an_inner_object_as_the_answer():
    cut = '{"invoice_number": "7", "line_items": [{"description": "a", "amount": "1"}, {"desc'
    assert find_json_object(cut) == ({"description": "a", "amount": "1"}, 39)
    assert find_json_object(cut, frozenset({"invoice_number", "total"})) is None
    record = validate_generation(resolve_schema("invoice"), _gen(cut, finish="length"))
    assert record.failure.category == Category.TRUNCATED


def test_a_good_answer_is_typed():
    schema = resolve_schema("invoice")
    record = validate_generation(schema, _gen(
        '{"invoice_number": "INV-1", "invoice_date": "March 3, 2026", "total": "$1,234.50",'
        ' "line_items": [{"description": "Bolts", "quantity": "2", "unit_price": 3, "amount": "6.00"}]}'
    ))
    assert record.valid and record.failure is None
    assert record.values["invoice_date"] == dt.date(2026, 3, 3)
    assert record.values["total"] == 1234.5
    assert record.values["line_items"] == [
        {"description": "Bolts", "quantity": 2.0, "unit_price": 3.0, "amount": 6.0}
    ]
    assert record.values["due_date"] is None  # missing keys are null, not errors


def test_a_bad_value_is_nulled_and_named_while_the_rest_is_kept():
    schema = resolve_schema("receipt")
    record = validate_generation(schema, _gen(
        '{"merchant_name": "Cafe", "total": "lots", "payment_method": "bitcoin",'
        ' "items": [{"description": "Tea", "amount": "2.5"}, 42]}'
    ))
    assert not record.valid
    assert record.failure.category == Category.INVALID_OUTPUT
    assert record.values["merchant_name"] == "Cafe"
    assert record.values["total"] is None and record.values["payment_method"] is None
    assert record.values["items"] == [{"description": "Tea", "quantity": None, "amount": 2.5}]
    assert set(record.field_errors) == {"total", "payment_method", "items[1]"}


def test_no_json_is_invalid_output_and_a_cut_answer_is_truncated():
    schema = resolve_schema("form")
    assert validate_generation(schema, _gen("I cannot read this.")).failure.category == Category.INVALID_OUTPUT
    cut = validate_generation(schema, _gen('{"title": "Appl', finish="length"))
    assert cut.failure.category == Category.TRUNCATED and not cut.valid


def test_an_engine_error_is_a_model_error():
    record = validate_generation(resolve_schema("form"), _gen("", finish="error", error="CUDA OOM"))
    assert record.failure.category == Category.MODEL_ERROR and "OOM" in record.failure.message
    assert record.failure.stage == "infer"


@pytest.mark.parametrize("text, amount", [
    ("$1,234.56", 1234.56), ("1.234,56 €", 1234.56), ("EUR 12,50", 12.5), ("(12.00)", -12.0),
    ("RM 9.90", 9.9), ("1,234", 1234.0), ("-5", -5.0), (7, 7.0), ("", None), (None, None),
])
def test_money(text, amount):
    assert parse_money(text) == (None if amount is None else Decimal(str(amount)))  # exactly


@pytest.mark.parametrize("text", ["abc", "12 apples", True])
def test_money_that_is_not_money(text):
    with pytest.raises(ValueError):
        parse_money(text)


@pytest.mark.parametrize("text, day", [
    ("2026-03-04", dt.date(2026, 3, 4)), ("March 3, 2026", dt.date(2026, 3, 3)),
    ("12.02.2026", dt.date(2026, 2, 12)), ("25/12/2018", dt.date(2018, 12, 25)),
])
def test_dates(text, day):
    assert parse_date(text) == day


def test_not_a_date():
    with pytest.raises(ValueError):
        parse_date("soon")
