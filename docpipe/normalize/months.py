"""Month and weekday names as printed, from CLDR (through Babel), in the languages of `LANGUAGES`.

Full and abbreviated names, in both of CLDR's contexts (format: "März", Polish "marca"; stand-alone:
"marzec"), compared without letter case and without a trailing dot ("Sep.", "SEPT", "mrt").
A name that means different months in two languages is left out.
"""

from __future__ import annotations

import re
from functools import cache

LANGUAGES = (
    "en", "de", "nl", "fr", "es", "it", "pt", "ca", "ro", "sv", "da", "nb", "fi", "pl", "cs", "sk",
    "hr", "sl", "tr", "id", "ms",
)
_EXTRA = {"sept": 9, "mrz": 3}  # common abbreviations CLDR does not list ("Sept.", German "Mrz")
_PREFIX = re.compile(r"^(?:de |d’|d')")  # Catalan format names: "de març", "d’abril"


def _clean(name: str) -> str:
    return _PREFIX.sub("", name.strip()).rstrip(".").lower()


@cache
def month_names() -> dict[str, tuple[int, str]]:
    """Lowercase name without trailing dot -> (month number, language)."""
    from babel.dates import get_month_names

    table: dict[str, tuple[int, str]] = {}
    clashes: set[str] = set()
    for language in LANGUAGES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, language).items():
                    key = _clean(name)
                    if not key or " " in key:
                        continue
                    if key in table and table[key][0] != number:
                        clashes.add(key)
                    table.setdefault(key, (number, language))
    for key, number in _EXTRA.items():
        table.setdefault(key, (number, "en"))
    return {k: v for k, v in table.items() if k not in clashes}


@cache
def weekday_names() -> frozenset[str]:
    """Lowercase weekday names without trailing dot, full and abbreviated."""
    from babel.dates import get_day_names

    names = set()
    for language in LANGUAGES:
        for width in ("wide", "abbreviated"):
            names.update(_clean(n) for n in get_day_names(width, "format", language).values())
    return frozenset(n for n in names if n and " " not in n)


def month_number(text: str) -> tuple[int, str]:
    """(month, language) of a printed month name; ValueError when it is none."""
    key = _clean(text)
    table = month_names()
    if key in table:
        return table[key]
    for name, found in table.items():  # case folding that str.lower() misses (Turkish İ)
        if re.fullmatch(re.escape(name), text.rstrip("."), re.IGNORECASE):
            return found
    raise ValueError(f"not a month name: {text!r}")


def _days(month: int) -> int:
    return 29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31


@cache
def month_alternation(days: int) -> str:
    """Case-insensitive regex of the names of the months with this many days (29: February),
    each optionally followed by a dot."""
    names = sorted({n for n, (m, _) in month_names().items() if _days(m) == days}, key=lambda n: (-len(n), n))
    return "(?i:" + "|".join(re.escape(n) for n in names) + r")\.?"


@cache
def any_month_alternation() -> str:
    """Case-insensitive regex of every month name (without the trailing dot)."""
    names = sorted(month_names(), key=lambda n: (-len(n), n))
    return "(?i:" + "|".join(re.escape(n) for n in names) + ")"


@cache
def weekday_alternation() -> str:
    names = sorted(weekday_names(), key=lambda n: (-len(n), n))
    return "(?i:" + "|".join(re.escape(n) for n in names) + r")\.?"
