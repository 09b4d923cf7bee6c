"""Currency signs, codes and words as printed, from CLDR (through Babel): one table for the
MONEY pattern and the money parser, so that they agree by construction.

`currency_signs()` maps every printed form to the ISO 4217 codes it can stand for ("$" is many
currencies, "Kč" is CZK). The forms are:

- the ISO 4217 codes Babel knows, in upper and lower case ("EUR", "eur");
- the currency symbols of the locales in `LOCALES` (CLDR: "R$", "A$", "Kč", "zł", "Ft", "₽"...);
- `LOCAL_FORMS`: the few abbreviations receipts print that CLDR's current symbols lack (older
  CLDR symbols such as "руб.", and forms such as "Rs.", "грн", "lei", "S$"), and currency words.

`minor_units(codes)` is the number of decimals those currencies are printed with (ISO 4217 digits
as CLDR gives them; CLDR records IDR, HUF, JPY, KRW, VND, CLP, COP... as 0 and KWD, BHD, OMR, JOD,
TND, LYD, IQD as 3), or None when the codes disagree.
"""

from __future__ import annotations

import re
from functools import cache

# Locales whose currency symbols are read: one per language (its own currency, and how it prints
# the others) plus the territories whose local symbol differs from their language's.
LOCALES = (
    "en", "en_AU", "en_CA", "en_NZ", "en_SG", "en_HK", "en_IN", "en_ZA", "en_MY", "en_NG", "en_KE",
    "en_PK", "en_GH", "fr", "es_NI", "nl", "sv", "da", "cs", "pl", "hu", "bg", "ru", "be", "tr",
    "ja", "id", "ka", "kk", "az", "hy", "mn", "km", "lo", "bn", "sw", "lv", "sr", "ar",
)

# Printed forms CLDR's current symbols lack, with the codes they stand for.
LOCAL_FORMS: dict[str, tuple[str, ...]] = {
    "руб.": ("RUB",), "руб": ("RUB",), "р.": ("RUB", "BYN"), "₽": ("RUB",),
    "грн": ("UAH",), "грн.": ("UAH",), "лв": ("BGN",), "lei": ("RON",), "Lei": ("RON",),
    "S$": ("SGD",), "C$": ("CAD", "NIO"), "Rs": ("INR", "PKR", "LKR", "NPR", "MUR"),
    "Rs.": ("INR", "PKR", "LKR", "NPR", "MUR"), "kr": ("SEK", "NOK", "DKK", "ISK"),
    "kr.": ("DKK", "ISK", "SEK", "NOK"), "Kr": ("SEK", "NOK", "DKK", "ISK"), "Ft": ("HUF",),
    "RM": ("MYR",), "Rp": ("IDR",), "Rp.": ("IDR",), "zł": ("PLN",), "Kč": ("CZK",),
    "TL": ("TRY",), "Fr.": ("CHF",), "SFr.": ("CHF",), "KD": ("KWD",), "BD": ("BHD",),
    "JD": ("JOD",), "DT": ("TND",), "QR": ("QAR",), "SR": ("SAR",), "Dhs": ("AED",), "DH": ("MAD",), "€": ("EUR",), "£": ("GBP",),
    "euro": ("EUR",), "euros": ("EUR",), "Euro": ("EUR",), "EURO": ("EUR",), "Euros": ("EUR",),
    "EUROS": ("EUR",), "dollar": ("USD",), "dollars": ("USD",), "Dollar": ("USD",),
    "Dollars": ("USD",), "DOLLARS": ("USD",),
}

# Months first: currencies of the countries that print dates month first (evidence.py).
MONTH_FIRST = frozenset({"USD", "PHP"})

_MARKS = re.compile("[\u200e\u200f\u061c\u200b]")  # direction marks around some symbols
_UNPRINTABLE = re.compile(r"[\s0-9¤]")


@cache
def currency_signs() -> dict[str, frozenset[str]]:
    """Every printed currency form -> the ISO 4217 codes it can stand for."""
    from babel.localedata import load
    from babel.numbers import list_currencies

    table: dict[str, set[str]] = {}
    for code in list_currencies():
        if re.fullmatch(r"[A-Z]{3}", code):
            table.setdefault(code, set()).add(code)
            table.setdefault(code.lower(), set()).add(code)
    for locale in LOCALES:
        for code, symbol in load(locale)["currency_symbols"].items():
            symbol = _MARKS.sub("", symbol).strip()
            if symbol and not _UNPRINTABLE.search(symbol) and len(symbol) <= 4:
                table.setdefault(symbol, set()).add(code)
    for form, codes in LOCAL_FORMS.items():
        table.setdefault(form, set()).update(codes)
    return {form: frozenset(codes) for form, codes in table.items()}


@cache
def currency_alternation() -> str:
    """The regex alternation of every printed form, longest first (so 'US$' wins over '$')."""
    forms = sorted(currency_signs(), key=lambda f: (-len(f), f))
    return "(?:" + "|".join(re.escape(f) if not f.isalnum() else f for f in forms) + ")"


def codes_of(sign: str | None) -> frozenset[str]:
    """The ISO codes a printed form stands for (empty when it is none of them)."""
    if not sign:
        return frozenset()
    return currency_signs().get(sign.strip(), frozenset())


@cache
def _digits(code: str) -> int:
    from babel.numbers import get_currency_precision

    return get_currency_precision(code)


def without_minor_units(codes: frozenset[str]) -> bool:
    """Whether these currencies (at least one) are all printed without decimals (IDR, JPY...)."""
    return bool(codes) and all(_digits(code) == 0 for code in codes)


def minor_units(codes: frozenset[str]) -> int | None:
    """Decimals these currencies are printed with; None when unknown or when they disagree."""
    found = {_digits(code) for code in codes}
    return found.pop() if len(found) == 1 else None
