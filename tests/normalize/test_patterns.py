"""Whatever the constrained grammar lets the model write for a typed field, normalization types."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from docpipe.normalize import AmbiguousValue, parse_date, parse_integer, parse_money, parse_number
from docpipe.normalize.numbers import split_amount
from docpipe.normalize.patterns import DATE, INTEGER, MONEY, NUMBER
from tests.conftest import examples


def _ambiguous_shape(text: str) -> bool:
    """The one shape the parsers may refuse as ambiguous: digits with one '.' or ',' before
    exactly three digits, and no other separator ('1.727', 'KWD 1,500')."""
    parts = split_amount(text)
    return parts is not None and parts[2] is None and re.fullmatch(r"[0-9]{1,3}[.,][0-9]{3}", parts[1]) is not None


@settings(max_examples=examples(400), deadline=None)
@given(st.from_regex(MONEY, fullmatch=True))
def test_every_money_string_the_grammar_allows_is_an_amount(text):
    try:
        assert isinstance(parse_money(text), Decimal)
    except AmbiguousValue:  # explicit: '1.727' with nothing to settle it
        assert _ambiguous_shape(text), text


@settings(max_examples=examples(300), deadline=None)
@given(st.from_regex(NUMBER, fullmatch=True))
def test_every_number_string_is_a_number(text):
    try:
        assert isinstance(parse_number(text), float)
    except AmbiguousValue:
        assert _ambiguous_shape(text), text


@settings(max_examples=examples(300))
@given(st.from_regex(INTEGER, fullmatch=True))
def test_every_integer_string_is_an_integer(text):
    assert isinstance(parse_integer(text), int)


@settings(max_examples=examples(600), deadline=None)
@given(st.from_regex(DATE, fullmatch=True))
def test_every_date_string_is_a_date_except_29_february_of_a_common_year(text):
    try:
        assert isinstance(parse_date(text), dt.date)
    except AmbiguousValue:
        raise AssertionError(f"{text!r}: a value alone is read day first, never ambiguous") from None
    except ValueError:
        # the grammar allows 29 February in every year (it cannot tell leap years)
        assert re.search(r"29|feb", text, re.IGNORECASE), text


def test_kie_ground_truth_dates_and_totals():
    # date and total strings as printed on SROIE receipts (../shared/corpus/kie/sroie/*.json)
    assert parse_date("25/12/2018") == dt.date(2018, 12, 25)
    assert parse_date("11/02/18") == dt.date(2018, 2, 11)
    assert parse_date("28-04-18") == dt.date(2018, 4, 28)
    assert parse_money("159.00") == 159 and parse_money("7.42") == Decimal("7.42")
    for text in ["25/12/2018", "11/02/18", "28-04-18", "02/12/2017"]:
        assert re.fullmatch(DATE, text)


def test_every_date_and_amount_in_the_kie_ground_truth_normalizes():
    import json

    import pytest

    from tests.conftest import CORPUS

    sroie = sorted((CORPUS / "kie" / "sroie").glob("sroie_[0-9][0-9][0-9].json"))
    invoices = sorted((CORPUS / "kie" / "invoices").glob("*.json"))
    if not sroie or not invoices:
        pytest.skip("../shared/corpus/kie is not here")
    for path in sroie:  # receipts: dates and totals as printed
        truth = json.loads(path.read_text())
        if truth.get("date"):
            assert re.fullmatch(DATE, truth["date"]), (path.name, truth["date"])
            assert isinstance(parse_date(truth["date"]), dt.date)
        if truth.get("total"):
            assert re.fullmatch(MONEY, truth["total"]), (path.name, truth["total"])
            assert parse_money(truth["total"]) == Decimal(truth["total"].replace(",", ""))
    for path in invoices:  # invoice2data: ISO dates and numeric amounts
        for truth in json.loads(path.read_text()):
            assert parse_date(truth["date"]).isoformat() == truth["date"]
            assert parse_money(truth["amount"]) == Decimal(str(truth["amount"]))
            assert re.fullmatch(MONEY, str(truth["amount"]))
