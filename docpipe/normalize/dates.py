"""Dates as printed: '12/03/2026', '3 March 2026', 'Mar 3, 2026', ISO text.

`parse_date` takes what the model produced and returns a `datetime.date`, None for an empty value,
or raises ValueError with a readable reason.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil import parser as dateparser

from docpipe.normalize.numbers import is_blank

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
    if is_blank(value):
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
