"""Checks a schema declares on its records: do the values agree with each other?

    checks:
      - sum: [line_items.amount]          # the sum of the line amounts ...
        equals: subtotal                  # ... is the subtotal
        tolerance: 0.01                   # within a cent (the default)
      - sum: [subtotal, tax]
        equals: total
      - each: line_items                  # every line item's
        product: [quantity, unit_price]   # quantity times unit price ...
        equals: amount                    # ... is its amount
      - date: due_date
        on_or_after: invoice_date

A term is a field (`subtotal`) or a list's field summed over its items (`line_items.amount`). A
check whose values are not all there is not evaluated (a missing value is `required`'s business,
not a check's). Each failure says by how much. Checks and `required` judge a record; they do not
change what the model is asked, so they may change without a new schema version (`docpipe
revalidate` applies them to the records already read).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from docpipe.core.types import CheckFailure

NUMERIC = frozenset({"money", "number", "integer"})
DEFAULT_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class Check:
    name: str
    kind: str  # sum | product | date
    terms: tuple[str, ...] = ()  # sum: fields or list.field; product: the item's fields
    equals: str = ""  # sum: a field; product: the item's field
    each: str | None = None  # product: the list
    on_or_after: str = ""  # date: the other date field
    tolerance: Decimal = DEFAULT_TOLERANCE

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "terms": list(self.terms), "equals": self.equals,
                "each": self.each, "on_or_after": self.on_or_after, "tolerance": str(self.tolerance)}


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _term(values: dict[str, Any], term: str) -> Decimal | None:
    """A field's number, or a list's field summed over its items (None when any is missing)."""
    if "." not in term:
        return _number(values.get(term))
    name, sub = term.split(".", 1)
    items = values.get(name)
    if not items:
        return None
    numbers = [_number(item.get(sub)) if isinstance(item, dict) else None for item in items]
    return None if any(n is None for n in numbers) else sum(numbers, Decimal(0))


def evaluate(check: Check, values: dict[str, Any]) -> list[CheckFailure]:
    """What fails of `check` on a record's typed values (nothing when it cannot be evaluated)."""
    if check.kind == "sum":
        terms = [_term(values, t) for t in check.terms]
        expected = _number(values.get(check.equals))
        if expected is None or any(t is None for t in terms):
            return []
        total = sum(terms, Decimal(0))
        difference = total - expected
        if abs(difference) <= check.tolerance:
            return []
        said = " + ".join(check.terms)
        return [CheckFailure(check.name, f"{said} = {total} but {check.equals} = {expected} (off by {difference})",
                        float(difference))]
    if check.kind == "product":
        failures = []
        for index, item in enumerate(values.get(check.each) or []):
            if not isinstance(item, dict):
                continue
            factors = [_number(item.get(t)) for t in check.terms]
            expected = _number(item.get(check.equals))
            if expected is None or any(f is None for f in factors):
                continue
            product = Decimal(1)
            for factor in factors:
                product *= factor
            difference = product - expected
            if abs(difference) > check.tolerance:
                said = " x ".join(f"{t} {f}" for t, f in zip(check.terms, factors, strict=True))
                failures.append(CheckFailure(check.name, f"{check.each}[{index}]: {said} = {product} but {check.equals} = "
                                                    f"{expected} (off by {difference})", float(difference)))
        return failures
    if check.kind == "date":
        first, second = values.get(check.terms[0]), values.get(check.on_or_after)
        if not isinstance(first, dt.date) or not isinstance(second, dt.date) or first >= second:
            return []
        days = (second - first).days
        return [CheckFailure(check.name, f"{check.terms[0]} {first} is {days} days before {check.on_or_after} {second}",
                        float(-days))]
    raise ValueError(f"unknown check kind {check.kind!r}")


def missing_required(fields, values: dict[str, Any]) -> list[str]:
    """The required values a record lacks, by name: total, supplier.vat_id, line_items[2].amount."""
    missing = []
    for spec in fields:
        value = values.get(spec.name)
        if spec.required and (value is None or value == []):
            missing.append(spec.name)
            continue
        for prefix, item in spec.members(value):
            where = f"{spec.name}[{prefix[1]}]" if len(prefix) > 1 else spec.name
            missing += [f"{where}.{sub.name}" for sub in spec.fields if sub.required and item.get(sub.name) is None]
    return missing
