"""Amounts and numbers as printed: '1,234.56', '1.234,56 €', 'Rp 221.000', '(12.00)', '5-', '50,-'.

Each parser takes what the model produced (a JSON number, a string, or null) and returns the typed
value, None for an empty value, or raises ValueError with a readable reason (`AmbiguousValue` when
the text has two readings and nothing settles which).

Which mark is the decimal mark
------------------------------
Both '.' and ',' present: the later one ("1,234.56", "1.234,56"). One mark repeated: it groups
thousands ("1.234.567"). A mark followed by 1, 2 or 4 digits: decimal ("12.50", "12,5"). A dash for
the cents ("50,-", "1.899,-"): the mark before the dash is the decimal mark, and the amount is
whole. "25:-" (Swedish kronor) and "500/-" (Indian rupees) say no cents are printed; their digits
are read as any others ("1,299/-" = 1299). Digits grouped by spaces or apostrophes ("1 234,567"):
the mark is decimal.

A single '.' or ',' followed by exactly three digits ("221.000", "1,727") is either a thousands
separator or a decimal mark with three decimals. It is decided by evidence, in this order:

1. the value itself: a leading zero ("0.125") or more than three digits before the mark
   ("1234.567") can only be decimal;
2. the currency printed with the amount (or else the document's currency): a currency printed
   without minor units (CLDR: IDR, JPY, KRW, VND, HUF, CLP, COP...) makes the mark a separator;
3. the document: the decimal mark the other amounts and numbers of the same answer show
   ("1.234,50" elsewhere: '.' groups);
4. the currency's minor units: two (EUR, USD...) make the mark a separator (three decimals are
   finer than the currency's unit); three (KWD, BHD, OMR, JOD, TND, LYD, IQD) make a dot decimal
   ("12.500 KWD" = 12.5), while a comma stays ambiguous ("KWD 1,500": 1500 in English style,
   1.5 in Tunisian style);
5. with no currency and no document evidence: a comma groups thousands ("1,234" = 1234: the
   locales with a decimal comma print money with two decimals), and for amounts a dot before
   three digits ending in "00" groups thousands ("129.900" = 129900, "25.000" = 25000: round
   prices, how rupiah, dong and peso amounts are printed); any other dot before three digits
   ("1.727", and every such dot in a plain number) raises `AmbiguousValue`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from docpipe.normalize.ambiguity import AmbiguousValue
from docpipe.normalize.currencies import codes_of, currency_alternation, minor_units, without_minor_units
from docpipe.normalize.patterns import INTEGER

if TYPE_CHECKING:
    from docpipe.normalize.evidence import DocumentEvidence

# money is exact: Arrow decimal128(MONEY_PRECISION, MONEY_SCALE), one scale for every currency
# (three-decimal currencies and unit prices to 1/10,000 fit; the patterns allow four decimals)
MONEY_PRECISION, MONEY_SCALE = 38, 4
_EMPTY = {"", "-", "n/a", "na", "none", "null"}
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")


def is_blank(value: object) -> bool:
    """No value: null, an empty string, or a placeholder such as 'n/a'."""
    return value is None or (isinstance(value, str) and value.strip().lower() in _EMPTY)


@cache
def _money_parts() -> re.Pattern[str]:
    cur = currency_alternation()
    return re.compile(
        rf"(?P<neg1>-)?\s?(?P<cur1>{cur})?\s?(?P<neg2>-)?\s?(?P<open>\()?"
        rf"(?P<body>[0-9](?:[0-9 .,']*[0-9])?)(?P<dash>[.,:/]-)?(?P<close>\))?"
        rf"\s?(?P<neg3>-)?\s?(?P<cur2>{cur})?\s?(?P<neg4>-)?"
    )


_NUMBER_PARTS = re.compile(
    r"(?P<neg1>-)?(?P<open>\()?(?P<body>[0-9](?:[0-9 .,']*[0-9])?)(?P<dash>[.,]-)?(?P<close>\))?(?P<neg3>-)?"
)


def split_amount(text: str, money: bool = True) -> tuple[bool, str, str | None, str | None] | None:
    """(negative, digits with separators, decimal mark of a cents dash, currency sign) of a
    printed amount, or None when it is not one."""
    text = unicodedata.normalize("NFC", _SPACES.sub(" ", text.strip()))  # "Kč" typed as K + c + caron
    match = (_money_parts() if money else _NUMBER_PARTS).fullmatch(text)
    if match is None:
        return None
    parts = match.groupdict()
    if parts.get("cur1") and parts.get("cur2"):
        return None
    negatives = any(parts.get(k) for k in ("neg1", "neg2", "neg3", "neg4"))
    brackets = bool(parts["open"] and parts["close"])  # '(12' alone is read as 12
    # "25:-" (Swedish), "500/-" (Indian): no cents printed, and nothing said of the decimal mark
    dash = parts["dash"][0] if parts["dash"] and parts["dash"][0] in ".," else None
    return bool(negatives or brackets), parts["body"], dash, parts.get("cur1") or parts.get("cur2")


def self_evident_mark(body: str, dash: str | None) -> tuple[str | None, str | None, str]:
    """What the printed digits alone say: (decimal mark, grouping mark, why); None when silent."""
    if dash:
        return dash, None, f"a dash for the cents after {dash!r}"
    plain = body.replace(" ", "").replace("'", "")
    marks = [c for c in plain if c in ".,"]
    if not marks:
        return None, None, ""
    if "." in marks and "," in marks:
        last = plain[max(plain.rfind("."), plain.rfind(","))]
        return last, None, "both marks: the later one is decimal"
    mark = marks[0]
    if len(marks) > 1:
        return None, mark, f"{mark!r} repeated: it groups thousands"
    head, tail = plain.split(mark)
    if len(tail) != 3:
        return mark, None, f"{len(tail)} digits after {mark!r}"
    if head == "0" or len(head) > 3:
        return mark, None, "a leading zero" if head == "0" else "more than three digits before the mark"
    if " " in body or "'" in body:
        return mark, None, "digits grouped by spaces"
    return None, None, ""


def _decimal_index(plain: str, dash: str | None, codes: frozenset[str], evidence: DocumentEvidence | None,
                   money: bool, original: str) -> int:
    """Position of the decimal mark in `plain` (digits and marks), or -1 for a whole number."""
    decimal, grouping, _ = self_evident_mark(plain, dash)
    if dash:
        return -1
    if decimal is not None:
        return plain.rfind(decimal)
    if grouping is not None or not any(c in plain for c in ".,"):
        return -1
    mark = "." if "." in plain else ","
    head, tail = plain.split(mark)
    units = minor_units(codes) if codes else None
    if without_minor_units(codes):
        return -1  # a currency without minor units
    if evidence is not None and evidence.decimal_mark is not None:
        return plain.index(mark) if evidence.decimal_mark == mark else -1
    if codes and max(minor_units(frozenset({c})) or 0 for c in codes) <= 2:
        return -1  # three decimals are finer than the currency's unit
    if units == 3 and mark == ".":
        return plain.index(mark)  # KWD 1.727; 'KWD 1,500' may be 1500 or 1.5: ambiguous below
    if units != 3 and (mark == "," or (money and tail.endswith("00"))):
        return -1
    whole, decimal_value = float(head + tail), float(head + "." + tail)
    raise AmbiguousValue(
        original, (_plain(whole), _plain(decimal_value)),
        f"{mark!r} before three digits is a thousands separator or a decimal mark, and "
        + (f"{'/'.join(sorted(codes))} has three decimals but groups thousands with ',' where '.' is "
           "its decimal mark" if units == 3
           else "neither the currency nor the document's other amounts say which" if money
           else "the document's other numbers do not say which"),
        "another amount of the document that shows its decimal mark ('1.234,50', '12.50') or a currency "
        "sign settles it",
    )


def _plain(number: float) -> str:
    return str(int(number)) if number == int(number) else repr(number)


def _read(value: object, money: bool, evidence: DocumentEvidence | None) -> str | None:
    """The number as plain digits ('-1234.56'), or None for a blank value."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"not a number: {value!r}")
        return repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    parts = split_amount(value, money)
    if parts is None:
        raise ValueError(f"not {'an amount' if money else 'a number'}: {value!r}")
    negative, body, dash, sign = parts
    codes = codes_of(sign) if sign else frozenset()
    if money and not codes and evidence is not None:
        codes = evidence.currency
    plain = body.replace(" ", "").replace("'", "")
    index = _decimal_index(plain, dash, codes, evidence, money, value)
    if index < 0:
        digits = re.sub(r"[.,]", "", plain)
    else:
        digits = re.sub(r"[.,]", "", plain[:index]) + "." + plain[index + 1:]
    return ("-" if negative else "") + digits


def parse_number(value: object, evidence: DocumentEvidence | None = None) -> float | None:
    """A decimal number from a JSON number or a printed one: '1,234.5', '1.234,5', '(12)', '5-'."""
    digits = _read(value, False, evidence)
    return None if digits is None else float(digits)


def parse_money(value: object, evidence: DocumentEvidence | None = None) -> Decimal | None:
    """An amount, exactly (a Decimal), from a number or a string such as '$1,234.56',
    '1.234,56 EUR', 'Rp 221.000', '50,-' or '(12.00)'; `evidence` is what the rest of the document
    says (evidence.py). At most MONEY_SCALE decimals (finer ones are rounded half even) and less
    than 10^16."""
    digits = _read(value, True, evidence)
    if digits is None:
        return None
    amount = Decimal(digits)
    if amount.as_tuple().exponent < -MONEY_SCALE:  # type: ignore[operator]
        amount = amount.quantize(Decimal(1).scaleb(-MONEY_SCALE))
    if abs(amount) >= Decimal(10) ** (MONEY_PRECISION - MONEY_SCALE):
        raise ValueError(f"an amount of {MONEY_PRECISION - MONEY_SCALE} digits or more: {value!r}")
    return amount


def parse_integer(value: object, evidence: DocumentEvidence | None = None) -> int | None:
    """A whole number; separators between groups of three digits group thousands ('1.234')."""
    if isinstance(value, str) and re.fullmatch(INTEGER, value.strip()):
        return int(re.sub(r"[,. ']", "", value.strip()))
    number = parse_number(value, evidence)
    if number is None:
        return None
    if number != int(number):
        raise ValueError(f"not a whole number: {value!r}")
    return int(number)
