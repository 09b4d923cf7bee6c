"""What one document's printed values say about how it prints values: its decimal mark, its
currency, its day/month order. Parsers use it to settle values that are ambiguous on their own
("1.727", "04/05/2026"); each decision records the rule that made it.

`gather_evidence(money, numbers, dates, date_order)` reads the printed strings of one answer's
money, number and date fields and returns a `DocumentEvidence`; every parser takes it as its
`evidence` argument (schema/kinds.py says which parser types which field kind).

Day/month order, in this order of rules (the first that decides wins):

1. "setting": the run's `--date-order` when it is not "auto";
2. "dates": the document's other numeric dates with a day above 12 ('25/12/2018': day first;
   '12/25/2018': month first); conflicting dates decide nothing here;
3. "month names": dates with a month name: 'March 3, 2026' (English, month first) says month
   first; '3 March 2026' or a month name in another language (German, French, Dutch, Spanish,
   Italian, Portuguese... all print the day first) says day first;
4. "currency": the document's currency: USD or PHP (the United States and the Philippines print
   the month first) says month first; JPY, CNY, KRW, TWD, HUF (year first) say year first for
   two-digit years; "$" alone or CAD (printed by month-first and day-first countries) leaves the
   order undecided: an ambiguous date is then an `AmbiguousValue` error (dots still read day
   first); any other currency says day first;
5. "default": day first, unless rule 2 or 3 saw conflicting dates: then undecided.

Decimal mark: the amounts and numbers whose digits settle it on their own ('1.234,50', '12.50',
'1.234.567', '50,-', '0.125'), or an amount whose currency has no minor units ('Rp 221.000': '.'
groups); when they disagree, nothing is decided ("conflicting"). When none of them says anything,
two or more round amounts with a dot ('129.900', '25.000', as receipts in rupiah print them without
a sign) say that '.' groups, unless the document's currency has three minor units.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from docpipe.normalize.currencies import MONTH_FIRST, codes_of, minor_units, without_minor_units
from docpipe.normalize.dates import ORDERS, numeric_readings
from docpipe.normalize.months import any_month_alternation
from docpipe.normalize.numbers import (
    self_evident_mark,
    split_amount,
)

YEAR_FIRST = frozenset({"JPY", "CNY", "KRW", "TWD", "HUF"})
UNDECIDED_CURRENCIES = frozenset({"CAD"})


@dataclass(frozen=True)
class DocumentEvidence:
    """How one document prints values, and why.

    date_order: "DMY", "MDY" or "YMD", or None when the evidence conflicts (ambiguous dates are
    then errors). date_order_rule: "setting", "dates: ...", "month names: ...", "currency: ...",
    "default" or "undecided: ...". decimal_mark: "." or ",", or None when nothing settles it.
    currency: the ISO codes the document's amounts print (empty when none or several).
    """

    date_order: str | None = "DMY"
    date_order_rule: str = "default"
    decimal_mark: str | None = None
    decimal_rule: str = "none"
    currency: frozenset[str] = field(default_factory=frozenset)
    currency_rule: str = "none"


def _currency(money: list[str], currencies: list[str]) -> tuple[frozenset[str], str]:
    signs = [c.strip() for c in currencies if codes_of(c.strip())]
    for text in money:
        parts = split_amount(text, money=True)
        if parts and parts[3] and codes_of(parts[3]):
            signs.append(parts[3])
    if not signs:
        return frozenset(), "none"
    common = frozenset.intersection(*(codes_of(s) for s in signs))
    shown = ", ".join(sorted(set(signs)))
    if not common:
        return frozenset(), f"several currencies: {shown}"
    return common, f"signs: {shown}"


def _decimal_mark(money: list[str], numbers: list[str], currency: frozenset[str]) -> tuple[str | None, str]:
    found: dict[str, str] = {}  # decimal mark -> the text that shows it
    round_amounts = []  # '129.900', '25.000': whole amounts by the rule for a value alone
    for text, is_money in [(t, True) for t in money] + [(t, False) for t in numbers]:
        parts = split_amount(text, money=is_money)
        if parts is None:
            continue
        _, body, dash, sign = parts
        if is_money and not dash and re.fullmatch(r"[0-9]{1,3}\.[0-9]00", body):
            round_amounts.append(text)
        decimal, grouping, why = self_evident_mark(body, dash)
        if decimal is None and grouping is None and is_money and any(c in body for c in ".,"):
            codes = codes_of(sign) if sign else currency
            if without_minor_units(codes):
                mark = "." if "." in body else ","
                grouping, why = mark, f"{'/'.join(sorted(codes))} has no minor units"
        if grouping is not None and decimal is None:
            decimal = "," if grouping == "." else "."
        if decimal is not None:
            found.setdefault(decimal, f"{text!r}: {why}")
    if len(found) == 1:
        (mark, why), = found.items()
        return mark, why
    if len(found) > 1:
        return None, "conflicting: " + "; ".join(found.values())
    if len(round_amounts) >= 2 and minor_units(currency) != 3:
        return ",", f"round amounts {round_amounts[0]!r}, {round_amounts[1]!r}: '.' groups thousands"
    return None, "none"


def _date_order(dates: list[str], currency: frozenset[str], currency_rule: str) -> tuple[str | None, str]:
    votes: dict[str, str] = {}
    for text in dates:
        match = re.fullmatch(r"\s*([0-9]{1,2})[./ -]([0-9]{1,2})[./ -]([0-9]{2,4})\s*", text)
        if match:
            readings = {k: v for k, v in numeric_readings(*match.groups()).items() if v and k != "YMD"}
            if len(readings) == 1:
                votes.setdefault(next(iter(readings)), text)
    if len(votes) == 1:
        (order, text), = votes.items()
        return order, f"dates: {text!r}"
    names: dict[str, str] = {}
    month = any_month_alternation()
    for text in dates:
        if re.search(rf"(?<![^\W\d_])({month})\.? [0-9]{{1,2}}(?:st|nd|rd|th)?(?: ?,)? [0-9]{{4}}", text):
            names.setdefault("MDY", text)
        elif re.search(rf"(?<![^\W\d_])({month})(?![^\W\d_])", text) and not re.match(r"\s*[0-9]{4}", text):
            names.setdefault("DMY", text)  # 3 March 2026, 3. März 2026, 02/JAN/2017
    if len(names) == 1:
        (order, text), = names.items()
        return order, f"month names: {text!r}"
    if currency:
        shown = "/".join(sorted(currency))
        if currency <= MONTH_FIRST:
            return "MDY", f"currency: {shown}"
        if currency <= YEAR_FIRST:
            return "YMD", f"currency: {shown}"
        if currency & (MONTH_FIRST | UNDECIDED_CURRENCIES):
            return None, f"undecided: currency ({currency_rule}) is printed by month-first and day-first countries"
        return "DMY", f"currency: {shown}"
    if len(votes) > 1 or len(names) > 1:
        return None, "undecided: conflicting " + ("dates" if len(votes) > 1 else "month names")
    return "DMY", "default"


def gather_evidence(money: Iterable[object] = (), numbers: Iterable[object] = (), dates: Iterable[object] = (),
                    date_order: str = "auto", currencies: Iterable[object] = ()) -> DocumentEvidence:
    """The evidence of one document's printed money, number and date strings (others ignored);
    `currencies` are currency codes or signs printed on their own (a 'currency' field: "USD")."""
    if date_order not in ORDERS:
        raise ValueError(f"date order must be one of {ORDERS}, got {date_order!r}")
    money_texts = [v for v in money if isinstance(v, str)]
    number_texts = [v for v in numbers if isinstance(v, str)]
    date_texts = [v for v in dates if isinstance(v, str)]
    currency, currency_rule = _currency(money_texts, [v for v in currencies if isinstance(v, str)])
    mark, mark_rule = _decimal_mark(money_texts, number_texts, currency)
    if date_order != "auto":
        order, order_rule = date_order, "setting"
    else:
        order, order_rule = _date_order(date_texts, currency, currency_rule)
    return DocumentEvidence(order, order_rule, mark, mark_rule, currency, currency_rule)


def describe(evidence: DocumentEvidence) -> dict[str, str | None]:
    """The decisions as table columns would show them."""
    return {
        "date_order": evidence.date_order, "date_order_rule": evidence.date_order_rule,
        "decimal_mark": evidence.decimal_mark, "decimal_rule": evidence.decimal_rule,
        "currency": "/".join(sorted(evidence.currency)) or None,
    }

