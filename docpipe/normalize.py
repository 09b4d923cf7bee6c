"""Turn the strings a model writes into typed values: money, numbers, dates.

Each parser takes what the model produced (a JSON number, a string, or null) and returns the typed
value, None for an empty value, or raises ValueError with a readable reason.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil import parser as dateparser

from docpipe.patterns import INTEGER

_CURRENCY = re.compile(r"[A-Z]{3}|[$€£¥₹₩₽₺₫฿₱₪]|RM|Rp|kr|zł", re.UNICODE)
_EMPTY = {"", "-", "n/a", "na", "none", "null"}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _EMPTY)


def parse_number(value: object) -> float | None:
    """A decimal number from a JSON number or a printed one: '1,234.5', '1.234,5', '(12)', '5-'."""
    if _blank(value):
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


_NUMERIC_DATE = re.compile(r"([0-9]{1,4})[./-]([0-9]{1,2})[./-]([0-9]{1,4})")
_MONTH_NUMBER = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1)
    for name in names
}
_NAMED_DATE = re.compile(
    r"(?:([0-9]{1,2})(?:st|nd|rd|th)?[ -]([A-Za-z]+)\.?[ ,-]{1,2}([0-9]{2,4})"
    r"|([A-Za-z]+)\.? ([0-9]{1,2})(?:st|nd|rd|th)?,? ([0-9]{4}))"
)


def _year(text: str) -> int:
    """Four digits as they are; two digits in 2000-2069 or 1970-1999."""
    year = int(text)
    if len(text) <= 2:
        year += 2000 if year < 70 else 1900
    return year


def _numeric_date(a: str, b: str, c: str) -> dt.date:
    """Y-M-D when the first part has four digits; otherwise day first, month first if that fails."""
    if len(a) == 4:
        return dt.date(int(a), int(b), int(c))
    year = _year(c)
    try:
        return dt.date(year, int(b), int(a))
    except ValueError:
        return dt.date(year, int(a), int(b))


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
    try:
        if match := _NUMERIC_DATE.fullmatch(text):
            return _numeric_date(*match.groups())
        if match := _NAMED_DATE.fullmatch(text):
            day, month, year, month2, day2, year2 = match.groups()
            name = (month or month2).lower()
            if name in _MONTH_NUMBER:
                return dt.date(_year(year or year2), _MONTH_NUMBER[name], int(day or day2))
        return dateparser.parse(text, dayfirst=not re.match(r"[0-9]{4}", text)).date()
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a date: {value!r}") from exc
