"""Regular expressions for values as they are printed: amounts, numbers, dates.

The JSON schema used for constrained decoding gives money, number, integer and date fields these
patterns, so the model transcribes what the page says ("1.234,56 €", "12/03/2026") and cannot
write anything that `normalize.py` fails to type. Every string a pattern matches normalizes
(tests/test_patterns.py checks this with generated strings). They use the syntax common to
Python's `re` and Rust's `regex` (which llguidance uses): no look-around, `[0-9]` not `\\d`.
"""

from __future__ import annotations

_CURRENCY = r"(?:[A-Z]{3}|[$€£¥₹]|RM|Rp)"
_DIGITS = r"[0-9]{1,3}(?:[,. ']?[0-9]{3}){0,5}"
_DECIMALS = r"(?:[.,][0-9]{1,4})?"
_AMOUNT = rf"\(?{_DIGITS}{_DECIMALS}\)?"

MONEY = rf"^(?:-{_CURRENCY}? ?|{_CURRENCY} ?-?)?{_AMOUNT}(?: ?{_CURRENCY})?$"
NUMBER = rf"^-?{_DIGITS}{_DECIMALS}$"
INTEGER = rf"^-?{_DIGITS}$"

_D31 = r"(?:0?[1-9]|[12][0-9]|3[01])"
_D30 = r"(?:0?[1-9]|[12][0-9]|30)"
_D29 = r"(?:0?[1-9]|[12][0-9])"
_M31 = r"(?:0?[13578]|1[02])"
_M30 = r"(?:0?[469]|11)"
_M2 = r"(?:0?2)"
_SEP = r"[./-]"
_YEAR = r"(?:(?:19|20)[0-9]{2}|[0-9]{2})"
_YEAR4 = r"(?:19|20)[0-9]{2}"
_DAY_MONTH = rf"(?:{_D31}{_SEP}{_M31}|{_D30}{_SEP}{_M30}|{_D29}{_SEP}{_M2})"
_MONTH_DAY = rf"(?:{_M31}{_SEP}{_D31}|{_M30}{_SEP}{_D30}|{_M2}{_SEP}{_D29})"

_MONTHS = {  # name: (abbreviation, days)
    "January": ("Jan", 31), "February": ("Feb", 29), "March": ("Mar", 31), "April": ("Apr", 30),
    "May": ("May", 31), "June": ("Jun", 30), "July": ("Jul", 31), "August": ("Aug", 31),
    "September": ("Sep", 30), "October": ("Oct", 31), "November": ("Nov", 30), "December": ("Dec", 31),
}


def _month_names(days: int) -> str:
    names = []
    for full, (short, length) in _MONTHS.items():
        if length == days:
            names += [full, short, full.upper(), short.upper()]
            if short == "Sep":
                names += ["Sept", "SEPT"]
    return "(?:" + "|".join(sorted(set(names), key=len, reverse=True)) + r")\.?"


def _named_dates() -> str:
    forms = []
    for days, day in ((31, _D31), (30, _D30), (29, _D29)):
        month = _month_names(days)
        ordinal = rf"{day}(?:st|nd|rd|th)?"
        forms.append(rf"{ordinal}[ -]{month}[ ,-]{{1,2}}{_YEAR}")  # 3 March 2026, 03-Mar-26
        forms.append(rf"{month} {ordinal},? {_YEAR4}")  # March 3, 2026
    return "|".join(forms)


DATE = (
    rf"^(?:{_DAY_MONTH}{_SEP}{_YEAR}|{_MONTH_DAY}{_SEP}{_YEAR}"
    rf"|{_YEAR4}{_SEP}{_MONTH_DAY}|{_named_dates()})$"
)
