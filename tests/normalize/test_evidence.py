"""What a document's printed values say about how it prints values, and which rule decided."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from docpipe.normalize import gather_evidence, parse_date, parse_money
from docpipe.schema.kinds import Kind, rules


def test_decimal_mark_from_the_other_amounts():
    evidence = gather_evidence(money=["1.234,50 €", "1.727"])
    assert evidence.decimal_mark == "," and "1.234,50" in evidence.decimal_rule
    assert parse_money("1.727", evidence) == 1727.0
    assert gather_evidence(money=["12.50", "1.727"]).decimal_mark == "."
    assert gather_evidence(money=["1.899,-"]).decimal_mark == ","
    assert gather_evidence(numbers=["1.234.567"]).decimal_mark == ","
    assert gather_evidence(money=["Rp 221.000"]).decimal_mark == ","  # IDR has no minor units
    conflicting = gather_evidence(money=["12.50", "3,75"])
    assert conflicting.decimal_mark is None and conflicting.decimal_rule.startswith("conflicting")
    assert gather_evidence(money=["1.727"]).decimal_mark is None
    rupiah = gather_evidence(money=["129.900", "25.000", "22.727"])  # a receipt without 'Rp'
    assert rupiah.decimal_mark == "," and parse_money("22.727", rupiah) == 22727.0
    assert gather_evidence(money=["1.500", "2.000"], currencies=["OMR"]).decimal_mark is None
    assert gather_evidence(money=["1.500", "2.000", "0.750"]).decimal_mark == "."


def test_currency_from_signs_and_a_currency_field():
    assert gather_evidence(money=["Rp 221.000", "129.900"]).currency == {"IDR"}
    assert gather_evidence(money=["$12.00", "USD 3.00"]).currency == {"USD"}
    assert gather_evidence(money=["12.00"], currencies=["KWD"]).currency == {"KWD"}
    several = gather_evidence(money=["€12.00", "£3.00"])
    assert several.currency == frozenset() and several.currency_rule.startswith("several")


@pytest.mark.parametrize("dates, money, order, rule", [
    (["25/12/2018", "04/05/2018"], [], "DMY", "dates"),
    (["12/25/2018", "04/05/2018"], ["€1.00"], "MDY", "dates"),
    (["March 3, 2026", "04/05/2026"], [], "MDY", "month names"),
    (["3 March 2026", "04/05/2026"], ["$5.00"], "DMY", "month names"),
    (["3. März 2026", "04/05/2026"], [], "DMY", "month names"),
    (["04/05/2026"], ["USD 12.00"], "MDY", "currency"),
    (["04/05/2026"], ["₱ 12.00"], "MDY", "currency"),
    (["04/05/2026"], ["12,00 €"], "DMY", "currency"),
    (["04/05/26"], ["¥1,200"], "YMD", "currency"),
    (["04/05/2026"], ["$12.00"], None, "undecided"),
    (["04/05/2026"], [], "DMY", "default"),
    (["25/12/2018", "12/25/2018"], [], None, "undecided: conflicting dates"),
    (["25/12/2018", "12/25/2018"], ["12,00 €"], "DMY", "currency"),
])
def test_date_order_rules(dates, money, order, rule):
    evidence = gather_evidence(money=money, dates=dates)
    assert evidence.date_order == order and evidence.date_order_rule.startswith(rule), evidence


def test_the_setting_wins():
    evidence = gather_evidence(money=["USD 1.00"], dates=["25/12/2018"], date_order="MDY")
    assert (evidence.date_order, evidence.date_order_rule) == ("MDY", "setting")
    assert parse_date("04/05/2026", evidence=evidence) == dt.date(2026, 4, 5)
    with pytest.raises(ValueError):
        gather_evidence(date_order="DM")


def test_a_us_invoice_reads_month_first():
    evidence = gather_evidence(money=["$1,234.56", "USD 20.00"], dates=["04/05/2026"])
    assert rules(Kind.DATE).parse("04/05/2026", evidence) == dt.date(2026, 4, 5)  # as a date field types it
    assert rules(Kind.MONEY).parse("$1,234.56", evidence) == Decimal("1234.56")
