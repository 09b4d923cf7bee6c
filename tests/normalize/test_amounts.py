"""Amounts as printed across locales: separators settled by evidence, currency signs from one
CLDR table, the no-cents dash; printed forms generated from typed values must read back."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docpipe.normalize import AmbiguousValue, DocumentEvidence, parse_money, parse_number
from docpipe.normalize.currencies import codes_of, currency_signs, minor_units
from docpipe.normalize.patterns import MONEY, NUMBER
from tests.conftest import examples


def _ok(text: str, amount: float, evidence: DocumentEvidence | None = None) -> None:
    assert re.fullmatch(MONEY, text), text
    assert parse_money(text, evidence) == Decimal(str(amount)), text  # exactly: an amount is a Decimal


# 1. a dot or comma before exactly three digits ------------------------------------------------

@pytest.mark.parametrize("text, amount", [
    ("Rp 221.000", 221000.0), ("Rp221.000", 221000.0), ("IDR 15.500", 15500.0), ("₫ 129.900", 129900.0),
    ("129.900", 129900.0), ("25.000", 25000.0), ("¥1.500", 1500.0), ("JPY 1.500", 1500.0),
    ("₩ 12.000", 12000.0), ("1.500 Ft", 1500.0), ("1.727 €", 1727.0), ("$1,727", 1727.0),
    ("1,234", 1234.0), ("12.500 KWD", 12.5), ("BHD 1.727", 1.727), ("0.125", 0.125),
    ("0,500 €", 0.5), ("1234.567", 1234.567), ("1 234,567", 1234.567), ("1.234.567", 1234567.0),
])
def test_three_digits_after_one_mark_are_settled_by_the_value_or_its_currency(text, amount):
    _ok(text, amount)


@pytest.mark.parametrize("text", ["1.727", "12.345", "KWD 1,500"])
def test_three_digits_with_nothing_to_settle_them_are_ambiguous(text):
    assert re.fullmatch(MONEY, text)
    with pytest.raises(AmbiguousValue) as caught:
        parse_money(text)
    assert "ambiguous" in str(caught.value) and "settles" in str(caught.value)
    assert isinstance(caught.value, ValueError)  # the field gets an error, the record the rest


def test_the_documents_decimal_mark_settles_them():
    comma = DocumentEvidence(decimal_mark=",", decimal_rule="'1.234,50'")
    dot = DocumentEvidence(decimal_mark=".", decimal_rule="'12.50'")
    assert parse_money("1.727", comma) == Decimal("1727.0") and parse_money("1.727", dot) == Decimal("1.727")
    assert parse_money("1,859 €", comma) == Decimal("1.859")  # a fuel price per litre, on a German receipt
    assert parse_number("1.500", comma) == 1500.0 and parse_number("1.500", dot) == 1.5
    assert parse_money("KWD 1,500", dot) == Decimal("1500.0")
    # a currency without minor units outweighs the document: 'Rp 221.000' is never 221
    assert parse_money("Rp 221.000", dot) == Decimal("221000.0")


def test_the_documents_currency_settles_a_bare_amount():
    idr = DocumentEvidence(currency=frozenset({"IDR"}))
    assert parse_money("1.727", idr) == Decimal("1727.0")
    assert parse_money("1.727", DocumentEvidence(currency=frozenset({"KWD"}))) == Decimal("1.727")


def test_a_plain_number_with_a_dot_before_three_digits_is_ambiguous():
    assert re.fullmatch(NUMBER, "1.500")
    with pytest.raises(AmbiguousValue):
        parse_number("1.500")  # 1500 or 1.5 kg: a quantity gives no hint
    assert parse_number("1.5") == 1.5 and parse_number("1,234") == 1234.0


# 2. currency signs and codes from one table ---------------------------------------------------

@pytest.mark.parametrize("text, amount", [
    ("A$190.00", 190.0), ("R$ 1.234,56", 1234.56), ("R$12,50", 12.5), ("12,50 Kč", 12.5),
    ("100 руб.", 100.0), ("100 р.", 100.0), ("zł 3,20", 3.2), ("C$ 45.00", 45.0),
    ("NT$ 1,200", 1200.0), ("Rs 250.00", 250.0), ("Rs. 250", 250.0), ("1 990 Ft", 1990.0),
    ("99,95 kr", 99.95), ("45,00 грн", 45.0), ("12,40 лв", 12.4), ("15,00 lei", 15.0),
    ("HK$88.50", 88.5), ("S$ 7.90", 7.9), ("pln 12,99", 12.99), ("eur 5", 5.0),
    ("12 euros", 12.0), ("EUR 12,50", 12.5), ("€12", 12.0), ("12€", 12.0), ("-$5.00", -5.0),
    ("$-5.00", -5.0), ("-12,50 €", -12.5), ("(12.00)", -12.0), ("US$ 3.50", 3.5), ("CHF 25.50", 25.5),
    ("₹ 1,200.00", 1200.0), ("₽ 250", 250.0), ("฿120.00", 120.0), ("₱ 1,250.00", 1250.0),
    ("RM 12.50", 12.5), ("RM12.50", 12.5), ("Fr. 25.-", 25.0),
])
def test_currency_signs_codes_and_words(text, amount):
    _ok(text, amount)


def test_the_table_comes_from_cldr_with_minor_units():
    signs = currency_signs()
    assert {"A$", "R$", "Kč", "zł", "NT$", "HK$", "Ft", "kr", "лв", "lei", "eur", "pln", "euro"} <= set(signs)
    assert codes_of("R$") == {"BRL"} and "USD" in codes_of("$") and codes_of("Kč") == {"CZK"}
    assert minor_units(codes_of("Rp")) == 0 and minor_units(codes_of("KWD")) == 3
    assert minor_units(codes_of("€")) == 2


@settings(max_examples=examples(150), deadline=None)
@given(st.sampled_from(sorted(currency_signs())))
def test_every_sign_in_the_table_is_writable_and_read(sign):
    for text in (f"{sign}12.50", f"{sign} 12.50", f"12,50 {sign}", f"12,50{sign}"):
        assert re.fullmatch(MONEY, text), text
        assert parse_money(text) == Decimal("12.5"), text


# 3. a dash for the cents ----------------------------------------------------------------------

@pytest.mark.parametrize("text, amount", [
    ("50,-", 50.0), ("1.899,-", 1899.0), ("1.899,- €", 1899.0), ("€ 50,-", 50.0), ("25.-", 25.0),
    ("-50,-", -50.0),
])
def test_a_dash_for_the_cents_is_a_whole_amount_not_a_minus(text, amount):
    _ok(text, amount)


# unchanged: the common unambiguous forms ------------------------------------------------------

@pytest.mark.parametrize("text, amount", [
    ("$1,234.56", 1234.56), ("1.234,56 €", 1234.56), ("159.00", 159.0), ("7.42", 7.42),
    ("RM 12.50", 12.5), ("1'234.50", 1234.5), ("12,5", 12.5), ("1,234,567.89", 1234567.89),
    ("₹1,23,456.00", 123456.0), ("Rs. 12,34,567", 1234567.0),
])
def test_common_forms(text, amount):
    _ok(text, amount)


# property: printed forms generated from typed values through the same table -------------------

_STYLES = [  # (grouping, decimal mark)
    (",", "."), (".", ","), (" ", ","), ("'", "."), ("", "."), ("", ","), (" ", "."),
]
_USABLE = sorted(s for s, codes in currency_signs().items() if minor_units(codes) in (0, 2, 3))


def _digits(whole: int, grouping: str) -> str:
    text = str(whole)
    if not grouping:
        return text
    groups = []
    while len(text) > 3:
        groups.insert(0, text[-3:])
        text = text[:-3]
    return grouping.join([text, *groups])


@st.composite
def printed_amounts(draw):
    """(printed text, amount, the style's decimal mark, the currency's codes)."""
    sign = draw(st.sampled_from(_USABLE))
    units = minor_units(codes_of(sign))
    grouping, mark = draw(st.sampled_from(_STYLES))
    minor = draw(st.integers(0, 10**10))
    whole, fraction = divmod(minor, 10**units) if units else (minor, 0)
    body = _digits(whole, grouping)
    if units:
        if units == 2 and fraction == 0 and draw(st.booleans()):
            body += draw(st.sampled_from(["", f"{mark}-"]))  # '1.899' or '1.899,-' for 1899.00
        else:
            body += mark + str(fraction).zfill(units)
    negative = draw(st.booleans())
    space = draw(st.sampled_from(["", " "]))
    if draw(st.booleans()):
        text = f"{'-' if negative else ''}{sign}{space}{body}"
    else:
        text = f"{'-' if negative else ''}{body}{space}{sign}"
    amount = Decimal(whole) + Decimal(fraction).scaleb(-units) if units else Decimal(whole)
    return text, -amount if negative else amount, mark, codes_of(sign)


@settings(max_examples=examples(400), deadline=None)
@given(printed_amounts())
def test_printed_amounts_read_back_with_the_documents_evidence(case):
    text, amount, mark, codes = case
    assert re.fullmatch(MONEY, text), text
    evidence = DocumentEvidence(decimal_mark=mark, decimal_rule="the generator's style", currency=codes)
    assert parse_money(text, evidence) == amount, text  # exactly


@settings(max_examples=examples(400), deadline=None)
@given(printed_amounts())
def test_printed_amounts_alone_read_back_or_say_ambiguous_never_wrong(case):
    text, amount, _, _ = case
    try:
        assert parse_money(text) == amount, text  # exactly
    except AmbiguousValue:
        pass
