"""One document's fields scored against its labels.

Both sides are first typed the way the pipeline types a model's answer (`docpipe.normalize`), so
"1.234,56 EUR", "1234.56" and 1234.56 are the same amount and "25/12/2018" is 2018-12-25. Then,
per labelled field:

    exact    text and enum: equal after casefolding and squashing whitespace runs to one space;
             money: the same amount, exactly (Decimals: 1545.8 is 1545.80); number:
             |truth - predicted| <= AMOUNT_TOLERANCE (0.005, absolute); integer, boolean: equal;
             date: the typed dates are equal; list: every labelled item found (match.py), i.e.
             F1 == 1; object: every labelled field equal
    anls     ANLS* (the `anls-star` package) of the two values written as text (amounts with two
             decimals, dates ISO, lists as lists of dicts), so a near miss in text scores partly
    outcome  match | mismatch | missing (labelled, predicted null) | extra (labelled null,
             predicted a value) | empty (both null: an exact match)

A list field also gets its items' precision, recall and F1 (match.py). The document as a whole
gets ANLS* of the dict of its labelled fields, as anls-star scores dicts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from dataclasses import dataclass
from typing import Any

from anls_star import anls_score

from docpipe.eval.match import Counted, ListMatch, match_items
from docpipe.schema.kinds import Compare, rules
from docpipe.schema.spec import FieldSpec, Schema

AMOUNT_TOLERANCE = 0.005


@dataclass(frozen=True)
class FieldScore(Counted):
    field: str
    kind: str
    outcome: str  # match | mismatch | missing | extra | empty
    exact: bool
    anls: float
    labelled: int  # values the label gives (a scalar: 0 or 1; a list: its items)
    predicted: int  # values the model gave
    found: int  # of those, matched exactly
    truth_text: str | None
    predicted_text: str | None


@dataclass(frozen=True)
class RecordScore:
    fields: tuple[FieldScore, ...]
    anls: float  # ANLS* of the document's labelled fields as one dict

    @property
    def exact(self) -> float:
        return sum(f.exact for f in self.fields) / len(self.fields) if self.fields else 1.0


def typed(spec: FieldSpec, value: Any) -> Any:
    """A labelled or predicted value typed by its field's kind; empty text and lists are None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    compare = rules(spec.kind).compare
    if compare == Compare.ITEMS:
        items = [{sub.name: typed(sub, item[sub.name]) for sub in spec.fields if sub.name in item} for item in value]
        return items or None
    if compare == Compare.FIELDS:  # an object: its labelled fields, typed
        fields = {sub.name: typed(sub, value[sub.name]) for sub in spec.fields if sub.name in dict(value)}
        return None if all(v is None for v in fields.values()) else fields
    if compare == Compare.TEXT:
        text = " ".join(str(value).split())
        return text or None
    try:  # the parser that types a model's answer, applied to labels and predictions alike
        return rules(spec.kind).parse(value, None)
    except ValueError as exc:
        raise ValueError(f"{spec.name}: {value!r} is not a {spec.kind} ({exc})") from None


def values_equal(spec: FieldSpec, truth: Any, predicted: Any) -> bool:
    """Typed values (see `typed`) equal under the field's rule."""
    if truth is None or predicted is None:
        return truth is None and predicted is None
    compare = rules(spec.kind).compare
    if compare == Compare.TEXT:
        return truth.casefold() == predicted.casefold()
    if compare == Compare.AMOUNT:
        return abs(float(truth) - float(predicted)) <= AMOUNT_TOLERANCE
    if compare == Compare.EXACT:  # money: Decimals, the same amount (1545.8 is 1545.80)
        return Decimal(str(truth)) == Decimal(str(predicted))
    if compare == Compare.ITEMS:
        match = _list_match(spec, truth, predicted)
        return match.found == match.labelled == match.predicted
    if compare == Compare.FIELDS:
        return _item_similarity(spec)[1](truth, predicted)
    return truth == predicted  # Compare.EQUAL: integer, date, boolean


def as_text(spec: FieldSpec, value: Any) -> Any:
    """A typed value as text for ANLS* (which compares strings, lowercased, whitespace squashed)."""
    if value is None:
        return None
    if spec.kind == "list":
        subs = {sub.name: sub for sub in spec.fields}
        return [{k: as_text(subs[k], v) for k, v in item.items()} for item in value]
    if spec.kind == "object":
        subs = {sub.name: sub for sub in spec.fields}
        return {k: as_text(subs[k], v) for k, v in value.items() if k in subs}
    if spec.kind == "money":
        return f"{float(value):.2f}"
    if spec.kind == "number":
        return f"{float(value):.6g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _item_similarity(spec: FieldSpec):
    subs = {sub.name: sub for sub in spec.fields}

    def similarity(truth: dict[str, Any], predicted: dict[str, Any]) -> float:
        if not truth:
            return 1.0
        total = 0.0
        for name, value in truth.items():
            sub, guess = subs[name], predicted.get(name)
            if values_equal(sub, value, guess):
                total += 1.0
            elif rules(sub.kind).compare == Compare.TEXT and value is not None and guess is not None:
                total += anls_score(value, guess)
        return total / len(truth)

    def exact(truth: dict[str, Any], predicted: dict[str, Any]) -> bool:
        return all(values_equal(subs[name], value, predicted.get(name)) for name, value in truth.items())

    return similarity, exact


def _list_match(spec: FieldSpec, truth: list | None, predicted: list | None) -> ListMatch:
    similarity, exact = _item_similarity(spec)
    return match_items(truth or [], predicted or [], similarity, exact)


def score_field(spec: FieldSpec, truth_value: Any, predicted_value: Any) -> FieldScore:
    truth, predicted = typed(spec, truth_value), typed(spec, predicted_value)
    if predicted is not None and spec.kind == "list":
        labelled_subs = {name for item in truth or [] for name in item} or {s.name for s in spec.fields}
        predicted = [{k: v for k, v in item.items() if k in labelled_subs} for item in predicted]
    if predicted is not None and truth is not None and spec.kind == "object":  # only the fields labelled
        predicted = {k: v for k, v in predicted.items() if k in truth}
    if spec.kind == "list":
        match = _list_match(spec, truth, predicted)
        labelled, guessed, found = match.labelled, match.predicted, match.found
        exact = found == labelled == guessed
    else:
        exact = values_equal(spec, truth, predicted)
        labelled, guessed = int(truth is not None), int(predicted is not None)
        found = int(exact and truth is not None)
    if truth is None and predicted is None:
        outcome = "empty"
    elif predicted is None:
        outcome = "missing"
    elif truth is None:
        outcome = "extra"
    else:
        outcome = "match" if exact else "mismatch"
    anls = float(anls_score(as_text(spec, truth), as_text(spec, predicted)))
    return FieldScore(
        spec.name, spec.kind, outcome, exact, anls, labelled, guessed, found,
        _display(spec, truth), _display(spec, predicted),
    )


def score_record(schema: Schema, truth: dict[str, Any], predicted: dict[str, Any] | None) -> RecordScore:
    """Score the fields `truth` labels (the others are unknown, not empty) against a record's
    values (None: no record at all, every labelled value is missing)."""
    specs = {spec.name: spec for spec in schema.fields}
    unknown = set(truth) - set(specs)
    if unknown:
        raise ValueError(f"labelled fields {sorted(unknown)} are not in schema {schema.name!r}")
    predicted = predicted or {}
    names = [spec.name for spec in schema.fields if spec.name in truth]
    scores = tuple(score_field(specs[n], truth[n], predicted.get(n)) for n in names)
    truth_doc = {n: as_text(specs[n], typed(specs[n], truth[n])) for n in names}
    predicted_doc = {n: as_text(specs[n], typed(specs[n], predicted.get(n))) for n in names}
    return RecordScore(scores, float(anls_score(truth_doc, predicted_doc)))


def _display(spec: FieldSpec, value: Any) -> str | None:
    text = as_text(spec, value)
    if text is None or isinstance(text, str):
        return text
    return json.dumps(text, ensure_ascii=False)
