"""SROIE task 3 (key information extraction) scored the way the ICDAR 2019 competition scores it.

The competition compares, per receipt, the four extracted strings (company, date, address,
total) with the labelled strings: a field is correct when its submitted text equals the label.
Precision is computed over all submitted fields of all receipts, recall over all labelled fields,
and the ranking figure is their harmonic mean (F1, "Hmean").

The rule implemented here, exactly:
- the strings compared are the text as printed: the label's string, and the record's printed text
  (`date_raw`, `total_raw` for the typed fields; `merchant_name` and `merchant_address` as read),
  not the typed values (a total of "RM 9.00" against "9.00" is wrong, as it is in the competition);
- both strings are normalised by casefolding and squashing every whitespace run to one space
  (leading and trailing whitespace removed); nothing else (punctuation counts);
- a field is *submitted* when its normalised prediction is non-empty, *labelled* when its
  normalised label is non-empty, and *correct* when both are non-empty and equal;
- precision = correct / submitted, recall = correct / labelled, F1 = 2PR / (P + R), each summed
  over every receipt and field before dividing (micro average).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

# SROIE key -> the record column holding the receipt's printed text for it
SROIE_COLUMNS = {
    "company": ("merchant_name",),
    "address": ("merchant_address",),
    "date": ("date_raw", "date"),
    "total": ("total_raw", "total"),
}
SROIE_FIELD = {"company": "merchant_name", "address": "merchant_address", "date": "date", "total": "total"}


@dataclass(frozen=True)
class SroieField:
    field: str  # the receipt schema's field name
    correct: bool
    submitted: bool
    labelled: bool


def normalise(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        value = value.isoformat()
    return " ".join(str(value).split()).casefold()


def printed(record: dict[str, Any] | None, key: str) -> Any:
    """The record's text for an SROIE key: the printed text where the field is typed."""
    for column in SROIE_COLUMNS[key]:
        value = (record or {}).get(column)
        if value is not None:
            return value
    return None


def score_sroie(labels: dict[str, Any], record: dict[str, Any] | None) -> list[SroieField]:
    out = []
    for key in SROIE_COLUMNS:
        if key not in labels:
            continue
        truth, guess = normalise(labels[key]), normalise(printed(record, key))
        out.append(SroieField(SROIE_FIELD[key], bool(truth) and truth == guess, bool(guess), bool(truth)))
    return out
