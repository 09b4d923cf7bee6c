"""Regular expressions for values as they are printed: amounts, numbers, dates.

The JSON schema used for constrained decoding gives money, number, integer and date fields these
patterns, so the model transcribes what the page says ("1.234,56 €", "12/03/2026") and cannot
write anything that the parsers fail to read. Every string a pattern matches is typed, or raises
`AmbiguousValue` when it has two readings (tests/normalize/ checks this with generated strings).
They use the syntax common to Python's `re` and Rust's `regex` (which llguidance uses): no
look-around, `[0-9]` not `\\d`; `(?i:...)` for month names in any letter case.

MONEY and DATE are built on first use from CLDR tables (currencies.py, months.py), the same tables
the parsers read, so pattern and parser agree by construction.
"""

from __future__ import annotations

from functools import cache

# groups of three ('1,234,567', '1.234.567', '1 234 567', "1'234'567"), or Indian lakh/crore
# grouping ('1,23,456', '12,34,56,789')
_DIGITS = r"(?:[0-9]{1,3}(?:[,. ']?[0-9]{3}){0,5}|[0-9]{1,2}(?:,[0-9]{2}){1,4},[0-9]{3})"
_DECIMALS = r"(?:[.,][0-9]{1,4})?"

NUMBER = rf"^-?{_DIGITS}{_DECIMALS}$"
INTEGER = rf"^-?{_DIGITS}$"

# Days that exist in months of 31, 30 and 29 days; months of each length, as numbers
_D31 = r"(?:0?[1-9]|[12][0-9]|3[01])"
_D30 = r"(?:0?[1-9]|[12][0-9]|30)"
_D29 = r"(?:0?[1-9]|[12][0-9])"
_M31 = r"(?:0?[13578]|1[02])"
_M30 = r"(?:0?[469]|11)"
_M2 = r"(?:0?2)"
_SEP = r"[./ -]"
_YEAR = r"(?:(?:19|20)[0-9]{2}|[0-9]{2})"
_YEAR4 = r"(?:19|20)[0-9]{2}"
_DAY_MONTH = rf"(?:{_D31}{_SEP}{_M31}|{_D30}{_SEP}{_M30}|{_D29}{_SEP}{_M2})"
_MONTH_DAY = rf"(?:{_M31}{_SEP}{_D31}|{_M30}{_SEP}{_D30}|{_M2}{_SEP}{_D29})"
# Compact: two digits each, no separator (20180304, 25032018, 03252018)
_DD_MM = r"(?:(?:0[1-9]|[12][0-9]|3[01])(?:0[13578]|1[02])|(?:0[1-9]|[12][0-9]|30)(?:0[469]|11)|(?:0[1-9]|[12][0-9])02)"
_MM_DD = r"(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)|02(?:0[1-9]|[12][0-9]))"

NUMERIC_DATE = (
    rf"{_DAY_MONTH}{_SEP}{_YEAR}|{_MONTH_DAY}{_SEP}{_YEAR}|{_YEAR4}{_SEP}{_MONTH_DAY}"
    rf"|{_YEAR4}{_MM_DD}|{_DD_MM}{_YEAR4}|{_MM_DD}{_YEAR4}"
)
# Chinese/Japanese 2018年2月11日 and Korean 2018년 2월 11일
_CJK = (
    rf"{_YEAR4}年(?:{_M31}月{_D31}|{_M30}月{_D30}|{_M2}月{_D29})日"
    rf"|{_YEAR4}년 ?(?:{_M31}월 ?{_D31}|{_M30}월 ?{_D30}|{_M2}월 ?{_D29})일"
)
_ORDINAL = r"(?:st|nd|rd|th|er|º|\.)?"  # 3rd, 1er (French), 1º (Spanish), 3. (German)
_DAY_TO_MONTH = r"(?: de | |/|-|\.|)"  # 3 March, 3 de marzo, 02/JAN, 25.Sep, 03-Mar, 13NOV
_MONTH_TO_YEAR = r"(?:,? | de |/|-|\.|)"  # March 2026, marzo de 2026, JAN/2017, Sep.2003, NOV2017


@cache
def money_pattern() -> str:
    from docpipe.normalize.currencies import currency_alternation

    cur = currency_alternation()
    digits = rf"{_DIGITS}(?:[.,][0-9]{{1,4}}|[.,:/]-)?"  # 50,- 25:- 500/-: a whole amount
    amount = rf"(?:{digits}|\({digits}\))"  # parentheses for a negative amount come in pairs
    # the sign before ('$12', '-$12', '$-12', 'Rp 221.000') or after ('12 €', '-12 zł'), not both
    return rf"^(?:(?:-|-?{cur} ?-?)?{amount}|-?{amount} ?{cur})$"


@cache
def named_date_pattern() -> str:
    """Dates with a month name: day first, month first, year first (no anchors)."""
    from docpipe.normalize.months import month_alternation

    day_month = "|".join(
        rf"{day}{_ORDINAL}{_DAY_TO_MONTH}{month_alternation(days)}"
        for days, day in ((31, _D31), (30, _D30), (29, _D29))
    )
    month_day = "|".join(
        rf"{month_alternation(days)} {day}(?:st|nd|rd|th)?"
        for days, day in ((31, _D31), (30, _D30), (29, _D29))
    )
    year_month_day = "|".join(
        rf"{month_alternation(days)}[ /.-]{day}"
        for days, day in ((31, _D31), (30, _D30), (29, _D29))
    )
    return (
        rf"(?:{day_month}){_MONTH_TO_YEAR}{_YEAR}"  # 3 March 2026, 3. März 2026, 13NOV2017
        rf"|(?:{month_day})(?: ?,)? {_YEAR4}"  # March 3, 2026; August 3 , 2014
        rf"|{_YEAR4}[ /.-](?:{year_month_day})"  # 2003-Sep-25
    )


@cache
def date_pattern() -> str:
    from docpipe.normalize.months import weekday_alternation

    weekday = rf"(?:{weekday_alternation()},? )?"  # Mon, 3 March 2026; Montag, 3. März 2026
    return rf"^{weekday}(?:{NUMERIC_DATE}|{_CJK}|{named_date_pattern()})$"


def __getattr__(name: str) -> str:
    """MONEY and DATE, built on first use (they read CLDR tables)."""
    if name == "MONEY":
        return money_pattern()
    if name == "DATE":
        return date_pattern()
    raise AttributeError(name)
