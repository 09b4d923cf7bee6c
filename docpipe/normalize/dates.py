"""Dates as printed: '12/03/2026', '3 March 2026', 'Mar 3, 2026', '3. März 2026', '20180304', ISO.

`parse_date(value, order="auto", evidence=None)` returns a `datetime.date`, None for an empty
value, or raises ValueError with a readable reason (`AmbiguousValue` when two readings remain).

Day and month order
-------------------
A date with a month name, a year first ("2026-03-04"), or a number above 12 in the first or second
place ("25/12/2018") has one reading and is read so whatever the order. Otherwise ("04/05/2026")
the order decides:

- `order` "DMY", "MDY" or "YMD" (the run's `--date-order`): that order. "YMD" reads all-two-digit
  dates year first ("26/04/05"); dates whose year is last are then read day first.
- `order` "auto" with document evidence (evidence.py: other dates of the document, its month
  names, its currency): the order the evidence decided; when the evidence conflicts (e.g. the
  currency sign "$" alone, printed both in month-first and day-first countries) dates separated by
  dots are read day first (no locale prints month.day.year) and any other raises `AmbiguousValue`.
- `order` "auto" without evidence (a value on its own): day first, the order of most of the
  world, as before.

Eight digits: YYYYMMDD when the first four are a year 19xx/20xx ("20180304"); otherwise DDMMYYYY
or MMDDYYYY, decided as above ("25032018"). The two never overlap: YYYYMMDD needs digits 5-6 to
be a month, DDMMYYYY and MMDDYYYY need them to start a year (19, 20).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import TYPE_CHECKING, Literal

from docpipe.normalize.ambiguity import AmbiguousValue
from docpipe.normalize.months import (
    any_month_alternation,
    month_number,
    weekday_alternation,
)
from docpipe.normalize.numbers import is_blank

if TYPE_CHECKING:
    from docpipe.normalize.evidence import DocumentEvidence

DateOrder = Literal["auto", "DMY", "MDY", "YMD"]
ORDERS = ("auto", "DMY", "MDY", "YMD")

_NUMERIC = re.compile(r"([0-9]{1,4})([./ -])([0-9]{1,2})([./ -])([0-9]{1,4})")
_COMPACT = re.compile(r"[0-9]{8}")
_CJK = re.compile(r"([0-9]{4})[年년] ?([0-9]{1,2})[月월] ?([0-9]{1,2})[日일]")


@cache
def _named_forms() -> tuple[re.Pattern[str], ...]:
    """Day first, month first, year first; the month group only matches month names."""
    month = rf"(?P<m>{any_month_alternation()})"
    return (
        re.compile(rf"(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th|er|º|\.)?(?: de | |/|-|\.|){month}\.?"
                   r"(?:,? | de |/|-|\.|)(?P<y>[0-9]{4}|[0-9]{2})"),
        re.compile(rf"{month}\.? (?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?: ?,)? (?P<y>[0-9]{{4}})"),
        re.compile(rf"(?P<y>[0-9]{{4}})[ /.-]{month}\.?[ /.-](?P<d>[0-9]{{1,2}})"),
    )


@cache
def _weekday_prefix() -> re.Pattern[str]:
    return re.compile(rf"{weekday_alternation()},? (?P<rest>.+)")


_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def _year(text: str) -> int:
    """Four digits as they are; two digits in 2000-2069 or 1970-1999."""
    year = int(text)
    if len(text) <= 2:
        year += 2000 if year < 70 else 1900
    return year


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def numeric_readings(a: str, b: str, c: str) -> dict[str, dt.date | None]:
    """Every reading of three numbers: order -> date (None where that reading is no date)."""
    if len(a) == 4:
        return {"YMD": _date(int(a), int(b), int(c))}
    if len(c) not in (2, 4):
        return {}
    readings = {"DMY": _date(_year(c), int(b), int(a)), "MDY": _date(_year(c), int(a), int(b))}
    if len(a) <= 2 and len(c) <= 2:
        readings["YMD"] = _date(_year(a), int(b), int(c))
    return readings


def _compact_readings(text: str) -> dict[str, dt.date | None]:
    if text[:2] in ("19", "20") and 1 <= int(text[4:6]) <= 12:
        return {"YMD": _date(int(text[:4]), int(text[4:6]), int(text[6:]))}
    return {
        "DMY": _date(int(text[4:]), int(text[2:4]), int(text[:2])),
        "MDY": _date(int(text[4:]), int(text[:2]), int(text[2:4])),
    }


def _named(text: str) -> dt.date | None:
    for form in _named_forms():
        if match := form.fullmatch(text):
            try:
                month, _ = month_number(match["m"])
            except ValueError:
                continue
            date = _date(_year(match["y"]), month, int(match["d"]))
            if date is None:
                raise ValueError(f"not a date: {text!r} (no such day)")
            return date
    return None


def _choose(text: str, readings: dict[str, dt.date | None], order: str,
            evidence: DocumentEvidence | None, dots: bool) -> dt.date:
    """One date among the readings: the only one, or the one the order picks."""
    dates = {r: d for r, d in readings.items() if d is not None}
    if order != "YMD":
        dates.pop("YMD", None) if len(dates) > 1 else None
    if not dates:
        raise ValueError(f"not a date: {text!r} (no such day)")
    if len(set(dates.values())) == 1:
        return next(iter(dates.values()))
    if order == "auto":
        order = evidence.date_order if evidence is not None else "DMY"
        if order is None and dots:
            order = "DMY"
    if order == "YMD" and "YMD" not in dates:
        order = "DMY"
    if order in dates:
        return dates[order]
    shown = tuple(f"{d.isoformat()} ({r})" for r, d in dates.items())
    why = evidence.date_order_rule if evidence is not None else "no order was given"
    raise AmbiguousValue(text, shown, f"day and month can be swapped, and the order is undecided ({why})",
                         "set --date-order DMY or MDY, or another date with a day above 12 settles it")


def parse_date(value: object, order: DateOrder = "auto", evidence: DocumentEvidence | None = None) -> dt.date | None:
    """A calendar date from ISO text or the usual printed forms (see the module docstring)."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a date string, got {type(value).__name__}")
    if order not in ORDERS:
        raise ValueError(f"date order must be one of {ORDERS}, got {order!r}")
    text = _SPACES.sub(" ", value.strip())
    found = _typed(text, order, evidence)
    if found is None and (match := _weekday_prefix().fullmatch(text)):
        found = _typed(match["rest"], order, evidence)
    if found is None:
        found = _fallback(text, order, evidence)
    return found


def _typed(text: str, order: str, evidence: DocumentEvidence | None) -> dt.date | None:
    if match := _NUMERIC.fullmatch(text):
        a, s1, b, s2, c = match.groups()
        readings = numeric_readings(a, b, c)
        if readings:
            return _choose(text, readings, order, evidence, s1 == s2 == ".")
    if _COMPACT.fullmatch(text):
        return _choose(text, _compact_readings(text), order, evidence, False)
    if match := _CJK.fullmatch(text):
        return _choose(text, {"YMD": _date(*map(int, match.groups()))}, order, evidence, False)
    return _named(text)


def _fallback(text: str, order: str, evidence: DocumentEvidence | None) -> dt.date:
    """Other forms with a four-digit year (ISO date-times, 'Tue Mar 3 10:00:00 2026'), through
    dateutil; both day-first and month-first readings are tried, and must agree or be decided."""
    from dateutil import parser as dateparser

    if not re.search(r"(?:19|20)[0-9]{2}", text):
        raise ValueError(f"not a date: {text!r}")
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    if re.match(r"[0-9]{4}[^0-9]", text):
        raise ValueError(f"not a date: {text!r}")  # year first but not ISO: no reading is safe
    readings: dict[str, dt.date | None] = {}
    for name, dayfirst in (("DMY", True), ("MDY", False)):
        found = set()
        for default in (dt.datetime(2001, 1, 1), dt.datetime(2002, 2, 2)):  # a part left out shows
            try:
                found.add(dateparser.parse(text, dayfirst=dayfirst, default=default).date())
            except (ValueError, OverflowError):
                found.add(None)
        readings[name] = found.pop() if len(found) == 1 else None
    if not any(readings.values()):
        raise ValueError(f"not a date: {text!r}")
    return _choose(text, readings, order, evidence, False)
