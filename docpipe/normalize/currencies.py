"""Currency signs, codes and words as printed: one table (currency_forms.py, from CLDR through
Babel, ISO 4217 and price-parser's forms) for the MONEY pattern and the money parser, so that they
agree by construction.

`currency_signs()` maps every printed form to the ISO 4217 codes it can stand for ("$" is many
currencies, "Kč" is CZK, "złotych" is PLN); `codes_of(sign)` looks one up.

`minor_units(codes)` is the number of decimals those currencies are printed with (ISO 4217 digits
as CLDR gives them; CLDR records IDR, HUF, JPY, KRW, VND, CLP, COP... as 0 and KWD, BHD, OMR, JOD,
TND, LYD, IQD as 3), or None when the codes disagree.
"""

from __future__ import annotations

import re
from functools import cache

from docpipe.normalize.currency_forms import clean, currency_forms

# Months first: currencies of the countries that print dates month first (evidence.py).
MONTH_FIRST = frozenset({"USD", "PHP"})


def currency_signs() -> dict[str, frozenset[str]]:
    """Every printed currency form -> the ISO 4217 codes it can stand for (currency_forms.py)."""
    return currency_forms()


@cache
def currency_alternation() -> str:
    """The regex alternation of every printed form, longest first (so 'US$' wins over '$')."""
    forms = sorted(currency_signs(), key=lambda f: (-len(f), f))
    return "(?:" + "|".join(re.escape(f) if not f.isalnum() else f for f in forms) + ")"


def codes_of(sign: str | None) -> frozenset[str]:
    """The ISO codes a printed form stands for (empty when it is none of them)."""
    if not sign:
        return frozenset()
    return currency_forms().get(clean(sign), frozenset())


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
