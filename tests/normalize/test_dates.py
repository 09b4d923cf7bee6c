"""Dates as printed: month names in many languages (CLDR), compact and spaced forms, weekdays, and
the day/month order; printed forms generated from typed dates must read back."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docpipe.normalize import AmbiguousValue, DocumentEvidence, parse_date
from docpipe.normalize.months import month_names, weekday_names
from docpipe.normalize.patterns import DATE
from tests.conftest import examples

D = dt.date


def _ok(text: str, day: dt.date, **kwargs) -> None:
    assert re.fullmatch(DATE, text), text
    assert parse_date(text, **kwargs) == day, text


@pytest.mark.parametrize("text, day", [
    ("19 april 2014", D(2014, 4, 19)), ("3 March 2026", D(2026, 3, 3)), ("3. März 2026", D(2026, 3, 3)),
    ("3 maart 2026", D(2026, 3, 3)), ("3 mars 2026", D(2026, 3, 3)), ("1er janvier 2026", D(2026, 1, 1)),
    ("3 de marzo de 2026", D(2026, 3, 3)), ("3 marzo 2026", D(2026, 3, 3)), ("3 de março de 2026", D(2026, 3, 3)),
    ("15 août 2019", D(2019, 8, 15)), ("15 AOÛT 2019", D(2019, 8, 15)), ("5 mei 2020", D(2020, 5, 5)),
    ("5 mrt. 2020", D(2020, 3, 5)), ("12 ott 2021", D(2021, 10, 12)), ("12 dez. 2021", D(2021, 12, 12)),
    ("7 stycznia 2022", D(2022, 1, 7)), ("7 ledna 2022", D(2022, 1, 7)), ("7 Ocak 2022", D(2022, 1, 7)),
    ("02/JAN/2017", D(2017, 1, 2)), ("25.Sep.2003", D(2003, 9, 25)), ("13NOV2017", D(2017, 11, 13)),
    ("03-Mar-26", D(2026, 3, 3)), ("August 3 , 2014", D(2014, 8, 3)), ("March 3, 2026", D(2026, 3, 3)),
    ("Mar. 3, 2026", D(2026, 3, 3)), ("SEPT 3 2026", D(2026, 9, 3)), ("21st March 2026", D(2026, 3, 21)),
    ("Mon, 3 March 2026", D(2026, 3, 3)), ("Montag, 3. März 2026", D(2026, 3, 3)),
    ("lundi 3 mars 2026", D(2026, 3, 3)), ("Tue. March 3, 2026", D(2026, 3, 3)),
    ("2003-Sep-25", D(2003, 9, 25)), ("2003 sep 25", D(2003, 9, 25)),
])
def test_month_names_in_many_languages_and_forms(text, day):
    _ok(text, day)


@pytest.mark.parametrize("text, day", [
    ("20180304", D(2018, 3, 4)), ("25032018", D(2018, 3, 25)), ("12252018", D(2018, 12, 25)),
    ("25 03 2018", D(2018, 3, 25)), ("2018 03 04", D(2018, 3, 4)), ("25/12/2018", D(2018, 12, 25)),
    ("12/25/2018", D(2018, 12, 25)), ("2026-03-04", D(2026, 3, 4)), ("2026.03.04", D(2026, 3, 4)),
    ("12.02.2026", D(2026, 2, 12)), ("28-04-18", D(2018, 4, 28)),
    ("2018年2月11日", D(2018, 2, 11)), ("2018년 2월 11일", D(2018, 2, 11)),
])
def test_numeric_compact_and_spaced_forms(text, day):
    _ok(text, day)


def test_eight_digits_year_first_and_year_last_never_overlap():
    # YYYYMMDD needs digits 5-6 to be a month; DDMMYYYY/MMDDYYYY need them to start a year
    assert parse_date("20121999") == D(1999, 12, 20)  # 2012-19-99 is no date: day first
    assert parse_date("19991220") == D(1999, 12, 20)
    assert parse_date("04052018") == D(2018, 5, 4) and parse_date("04052018", "MDY") == D(2018, 4, 5)


def test_day_and_month_order():
    assert parse_date("04/05/2026") == D(2026, 5, 4)  # a value alone: day first
    assert parse_date("04/05/2026", "MDY") == D(2026, 4, 5)
    assert parse_date("04/05/2026", "DMY") == D(2026, 5, 4)
    assert parse_date("26/04/05", "YMD") == D(2026, 4, 5)
    assert parse_date("04/05/2026", "YMD") == D(2026, 5, 4)  # year last: day first
    assert parse_date("25/12/2018", "MDY") == D(2018, 12, 25)  # one reading whatever the order
    us = DocumentEvidence(date_order="MDY", date_order_rule="currency: USD")
    assert parse_date("04/05/2026", evidence=us) == D(2026, 4, 5)
    undecided = DocumentEvidence(date_order=None, date_order_rule="undecided: currency $")
    with pytest.raises(AmbiguousValue) as caught:
        parse_date("04/05/2026", evidence=undecided)
    assert "--date-order" in str(caught.value) and "undecided" in str(caught.value)
    assert parse_date("04.05.2026", evidence=undecided) == D(2026, 5, 4)  # dots: day first
    assert parse_date("25/12/2018", evidence=undecided) == D(2018, 12, 25)


@pytest.mark.parametrize("text", ["soon", "31 Feb 2026", "March 2026", "32/01/2026", "2026-13-01", "5"])
def test_not_dates(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_iso_date_times_are_read_as_iso():
    assert parse_date("2026-03-04T10:00:00") == D(2026, 3, 4)
    assert parse_date("2026-03-04 10:15") == D(2026, 3, 4)


# property: printed forms generated from typed dates through the same tables -------------------

_NAMES: dict[int, list[str]] = {}
for _name, (_month, _) in month_names().items():
    _NAMES.setdefault(_month, []).append(_name)
_WEEKDAYS = sorted(weekday_names())
_CASES = [str.lower, str.upper, str.title]


@st.composite
def printed_dates(draw):
    """(printed text, date, order the generator used)."""
    day = draw(st.dates(D(1970, 1, 1), D(2069, 12, 31)))
    form = draw(st.sampled_from(["numeric", "compact", "named-dmy", "named-mdy", "named-ymd"]))
    order = draw(st.sampled_from(["DMY", "MDY", "YMD"]))
    pad = draw(st.booleans())
    dd, mm = (f"{day.day:02d}", f"{day.month:02d}") if pad else (str(day.day), str(day.month))
    yyyy = str(day.year)
    if form == "numeric":
        sep = draw(st.sampled_from(list("./- ")))
        year = yyyy if order == "YMD" or draw(st.booleans()) else yyyy[2:]
        parts = {"DMY": (dd, mm, year), "MDY": (mm, dd, year), "YMD": (yyyy, mm, dd)}[order]
        text = sep.join(parts)
    elif form == "compact":
        dd, mm = f"{day.day:02d}", f"{day.month:02d}"
        text = {"DMY": dd + mm + yyyy, "MDY": mm + dd + yyyy, "YMD": yyyy + mm + dd}[order]
    else:
        name = draw(st.sampled_from(_CASES))(draw(st.sampled_from(sorted(_NAMES[day.month]))))
        name += draw(st.sampled_from(["", "."]))
        if form == "named-dmy":
            to_month = draw(st.sampled_from([" ", "-", "/", ".", ". ", " de "]))
            to_year = draw(st.sampled_from([" ", "-", "/", ", ", " de "]))
            year = yyyy if draw(st.booleans()) else yyyy[2:]
            text = f"{dd}{to_month}{name}{to_year}{year}"
        elif form == "named-mdy":
            text = f"{name} {dd}{draw(st.sampled_from(['', ',', ' ,']))} {yyyy}"
        else:
            sep = draw(st.sampled_from(list("-/ .")))
            text = f"{yyyy}{sep}{name}{sep}{dd}"
        if draw(st.booleans()):
            text = f"{draw(st.sampled_from(_CASES))(draw(st.sampled_from(_WEEKDAYS)))}, {text}"
    return text, day, order


@settings(max_examples=examples(500), deadline=None)
@given(printed_dates())
def test_printed_dates_read_back_with_the_order_they_were_printed_in(case):
    text, day, order = case
    assert re.fullmatch(DATE, text), text
    assert parse_date(text, order) == day, text
    evidence = DocumentEvidence(date_order=order, date_order_rule="the generator's order")
    assert parse_date(text, evidence=evidence) == day, text
