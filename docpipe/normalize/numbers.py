"""Amounts and numbers as printed: '1,234.56', '1.234,56 €', '(12.00)', '5-'.

Each parser takes what the model produced (a JSON number, a string, or null) and returns the typed
value, None for an empty value, or raises ValueError with a readable reason.
"""

from __future__ import annotations

import re

from docpipe.normalize.patterns import INTEGER

_CURRENCY = re.compile(r"[A-Z]{3}|[$€£¥₹₩₽₺₫฿₱₪]|RM|Rp|kr|zł", re.UNICODE)
_EMPTY = {"", "-", "n/a", "na", "none", "null"}


def is_blank(value: object) -> bool:
    """No value: null, an empty string, or a placeholder such as 'n/a'."""
    return value is None or (isinstance(value, str) and value.strip().lower() in _EMPTY)


def parse_number(value: object) -> float | None:
    """A decimal number from a JSON number or a printed one: '1,234.5', '1.234,5', '(12)', '5-'."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    text = value.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    negative = False
    if text.startswith("-"):
        negative, text = True, text[1:]
    if text.endswith("-"):
        negative, text = True, text[:-1]
    if text.startswith("(") and text.endswith(")"):
        negative = True
    text = text.strip("()")
    if not re.fullmatch(r"[0-9][0-9.,]*", text):
        raise ValueError(f"not a number: {value!r}")
    number = float(_decimal_point(text))
    return -number if negative else number


def _decimal_point(text: str) -> str:
    """Decide which of ',' and '.' is the decimal mark; return a plain float literal.

    Both present: the later one is the decimal mark ("1,234.56", "1.234,56"). Only commas: one
    comma not followed by exactly three digits is a decimal comma ("12,50"), otherwise commas
    group thousands ("1,234"). Only dots: one dot is a decimal point ("1.5"; "1.234" stays
    ambiguous and reads as a decimal), several group thousands ("1.234.567").
    """
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        mark = max(last_dot, last_comma)
    elif last_comma >= 0:
        mark = last_comma if text.count(",") == 1 and len(text) - last_comma - 1 != 3 else -1
    else:
        mark = last_dot if text.count(".") == 1 else -1
    if mark < 0:
        return text.replace(".", "").replace(",", "")
    return text[:mark].replace(".", "").replace(",", "") + "." + text[mark + 1 :]


def parse_money(value: object) -> float | None:
    """An amount from a number or a string such as '$1,234.56', '1.234,56 EUR' or '(12.00)'."""
    if isinstance(value, str):
        value = _CURRENCY.sub("", value)
    return parse_number(value)


def parse_integer(value: object) -> int | None:
    """A whole number; separators between groups of three digits group thousands ('1.234')."""
    if isinstance(value, str) and re.fullmatch(INTEGER, value.strip()):
        return int(re.sub(r"[,. ']", "", value.strip()))
    number = parse_number(value)
    if number is None:
        return None
    if number != int(number):
        raise ValueError(f"not a whole number: {value!r}")
    return int(number)

