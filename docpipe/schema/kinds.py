"""Field kinds, and for each kind everything docpipe does with it, in one table.

    kind     prompt says                JSON schema (constrained)     Arrow      Python    typed by
    text     text                       string, maxLength             string     str       squashed text
    integer  whole number as printed    string, INTEGER pattern       int64      int       parse_integer
    number   number as printed          string, NUMBER pattern        float64    float     parse_number
    money    amount exactly as printed  string, MONEY pattern         decimal128 Decimal   parse_money
    date     date exactly as printed    string, DATE pattern          date32     date      parse_date
    enum     one of the values          enum of the values            string     str       FieldSpec (values)
    boolean  true or false              boolean                       bool       bool      parse_boolean
    list     list of objects            array of objects              list<...>  list      item by item
    object   one group of fields        object                        struct     dict      field by field

Typed kinds are transcribed as printed (their pattern is what the parsers always type); their
printed text is kept beside the value (`printed`), and their parsers take the document's evidence
(decimal mark, currency, day/month order: normalize/evidence.py). Evaluation compares text and
enums casefolded, money exactly (Decimals), numbers within half a cent, the rest by equality.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pyarrow as pa

from docpipe import normalize
from docpipe.normalize import patterns
from docpipe.normalize.numbers import MONEY_PRECISION, MONEY_SCALE
from docpipe.normalize.evidence import DocumentEvidence


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    ENUM = "enum"
    BOOLEAN = "boolean"
    LIST = "list"
    OBJECT = "object"

    @property
    def is_group(self) -> bool:
        """A value made of fields: a list of items, or one object."""
        return self in (Kind.LIST, Kind.OBJECT)


class Compare(StrEnum):
    """How evaluation decides that a predicted value equals its label (eval/score.py)."""

    TEXT = "text"  # casefolded, whitespace squashed
    AMOUNT = "amount"  # within half a cent (numbers: floats)
    EXACT = "exact"  # money: the same amount to the last decimal (Decimals)
    EQUAL = "equal"  # the typed values are equal
    ITEMS = "items"  # every labelled item found (eval/match.py)
    FIELDS = "fields"  # every labelled field of the object equal


def parse_text(value: object, evidence: DocumentEvidence | None = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool | dict | list):
        raise ValueError(f"expected text, got {type(value).__name__}")
    text = str(value).strip()
    return text or None


TRUE_WORDS, FALSE_WORDS = frozenset({"true", "yes", "y", "1"}), frozenset({"false", "no", "n", "0"})


def parse_boolean(value: object, evidence: DocumentEvidence | None = None) -> bool | None:
    """true/false from the answer (JSON booleans); from a reviewer, also yes/no and 1/0."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if not text:
        return None
    if text in TRUE_WORDS or text in FALSE_WORDS:
        return text in TRUE_WORDS
    raise ValueError(f"{value!r} is not true or false")


def _date(value: object, evidence: DocumentEvidence | None = None) -> dt.date | None:
    return normalize.parse_date(value, "auto", evidence)


@dataclass(frozen=True)
class KindRules:
    prompt: str | None  # how the prompt describes a value (None: built from the field: enum, list)
    pattern: Callable[[], str] | None  # the printed text's pattern for constrained decoding (lazy: CLDR tables)
    arrow: pa.DataType | None  # the records column (None: a list, built from its fields)
    python: type | None  # the pydantic type (None: a list, a model of its fields)
    parse: Callable[[object, DocumentEvidence | None], Any] | None  # (value, evidence) -> typed value
    printed: bool  # the value as printed is kept beside the typed value (raw columns)
    compare: Compare


RULES: dict[Kind, KindRules] = {
    Kind.TEXT: KindRules("text", None, pa.string(), str, parse_text, False, Compare.TEXT),
    Kind.INTEGER: KindRules("whole number as printed", lambda: patterns.INTEGER, pa.int64(), int,
                            normalize.parse_integer, True, Compare.EQUAL),
    Kind.NUMBER: KindRules("number as printed", lambda: patterns.NUMBER, pa.float64(), float,
                           normalize.parse_number, True, Compare.AMOUNT),
    Kind.MONEY: KindRules("amount exactly as printed, with its currency sign or code if any", lambda: patterns.MONEY,
                          pa.decimal128(MONEY_PRECISION, MONEY_SCALE), Decimal, normalize.parse_money, True,
                          Compare.EXACT),
    Kind.DATE: KindRules("date exactly as printed", lambda: patterns.DATE, pa.date32(), dt.date, _date, True,
                         Compare.EQUAL),
    Kind.ENUM: KindRules(None, None, pa.string(), str, None, False, Compare.TEXT),
    Kind.BOOLEAN: KindRules("true or false", None, pa.bool_(), bool, parse_boolean, False, Compare.EQUAL),
    Kind.LIST: KindRules(None, None, None, None, None, False, Compare.ITEMS),
    Kind.OBJECT: KindRules(None, None, None, None, None, False, Compare.FIELDS),
}


def rules(kind: Kind | str) -> KindRules:
    return RULES[Kind(kind)]
