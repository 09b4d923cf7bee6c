"""One table says what each field kind becomes (schema/kinds.py): every kind has its rules, and the
prompt, the constrained JSON schema, the Arrow column and the evaluation all read the same table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from docpipe.eval.score import typed, values_equal
from docpipe.schema.kinds import RULES, Compare, Kind
from docpipe.schema.prompt import field_line
from docpipe.schema.spec import FieldSpec


def test_every_kind_has_its_rules_and_typed_kinds_keep_their_printed_text():
    assert set(RULES) == set(Kind)
    for kind, rule in RULES.items():
        assert rule.printed == (rule.pattern is not None), kind  # a pattern exactly where text is kept as printed
        assert (rule.parse is None) == (kind in (Kind.ENUM, Kind.LIST, Kind.OBJECT)), kind  # typed by FieldSpec, or field by field


def test_a_money_field_reads_the_same_rules_everywhere():
    money = FieldSpec("total", Kind.MONEY, "amount due")
    assert "amount exactly as printed" in field_line(money)
    assert money.json_schema()["pattern"] == RULES[Kind.MONEY].pattern()
    assert money.arrow_type() == pa.decimal128(38, 4)  # exact
    assert money.parse("1.234,56 EUR") == Decimal("1234.56")
    assert values_equal(money, typed(money, "1.234,56 EUR"), "1234.560")  # the same amount, exactly
    assert not values_equal(money, typed(money, "1.234,56 EUR"), 1234.555)
    assert RULES[Kind.MONEY].compare == Compare.EXACT


def test_a_date_field_types_labels_as_answers_are_typed():
    date = FieldSpec("issued", Kind.DATE)
    assert date.arrow_type() == pa.date32()
    assert typed(date, "25/12/2018") == date.parse("25/12/2018") == dt.date(2018, 12, 25)
