"""Turn the strings a model writes into typed values: money, numbers, dates.

Each parser takes what the model produced (a JSON number, a string, or null) and returns the typed
value, None for an empty value, or raises ValueError with a readable reason.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil import parser as dateparser

_CURRENCY = re.compile(r"[A-Z]{3}|[$€£¥₹₩₽₺₫฿₱₪]|RM|Rp|kr|zł", re.UNICODE)
_EMPTY = {"", "-", "n/a", "na", "none", "null"}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _EMPTY)


def parse_number(value: object) -> float | None:
    """A decimal number from a JSON number or a string with thousands separators."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    text = value.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    negative = text.startswith("(") and text.endswith(")") or text.endswith("-")
    text = text.strip("()").rstrip("-")
    if text.startswith("-"):
        negative, text = True, text[1:]
    if not re.fullmatch(r"[\d.,]+", text or "x"):
        raise ValueError(f"not a number: {value!r}")
    text = _decimal_point(text)
    number = float(text)
    return -number if negative else number


def _decimal_point(text: str) -> str:
    """Decide which of ',' and '.' is the decimal mark, drop the other, return a float literal.

    Both present: the later one is the decimal mark ("1,234.56", "1.234,56"). Only commas: one
    comma not followed by exactly three digits is a decimal comma ("12,50"), otherwise commas
    group thousands ("1,234"). Only dots: one dot is a decimal point ("1.5"; "1.234" stays
    ambiguous and reads as a decimal), several group thousands ("1.234.567").
    """
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal = "." if last_dot > last_comma else ","
    elif last_comma >= 0:
        decimal = "," if text.count(",") == 1 and len(text) - last_comma - 1 != 3 else None
    else:
        decimal = "." if text.count(".") == 1 else None
    grouping = {".": ",", ",": ".", None: ".,"}[decimal]
    for char in grouping:
        text = text.replace(char, "")
    return text.replace(",", ".")


def parse_money(value: object) -> float | None:
    """An amount from a number or a string such as '$1,234.56', '1.234,56 EUR' or '(12.00)'."""
    if isinstance(value, str):
        value = _CURRENCY.sub("", value)
    return parse_number(value)


def parse_integer(value: object) -> int | None:
    number = parse_number(value)
    if number is None:
        return None
    if number != int(number):
        raise ValueError(f"not a whole number: {value!r}")
    return int(number)


def parse_date(value: object) -> dt.date | None:
    """A calendar date from ISO text or the usual printed forms (day first when ambiguous)."""
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a date string, got {type(value).__name__}")
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    try:
        return dateparser.parse(text, dayfirst=not re.match(r"\d{4}", text)).date()
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a date: {value!r}") from exc
