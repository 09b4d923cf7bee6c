"""What a reviewer's action on the page becomes: rows of the corrections table.

An action names a document and a value: `field`, and for a list's value `list_index` (the item's
index as the corrections table numbers items: corrections.py) and `item_field`. It is typed here,
as the record's own values were typed (the document's evidence: date order, decimal mark,
currency), and the typed value is what the page shows before saving (`preview`) and what is kept.
Each row records the model's confidence in the value and whether the model had it right
(calibration reads them).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docpipe.core.errors import TerminalError
from docpipe.core.vocab import ReviewAction
from docpipe.eval.score import values_equal
from docpipe.output.corrections import DOCUMENT, Applied, correction, record_evidence, split_key, type_printed
from docpipe.output.record_columns import cell_confidence
from docpipe.output.rows import CorrectionRow
from docpipe.schema.kinds import Kind
from docpipe.schema.spec import FieldSpec, Schema


class EditRefused(TerminalError, ValueError):
    """An action that cannot be taken; `status` is the HTTP answer (404 no such value, 422 not a
    value of its kind, 409 it contradicts what is already there)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    """One value of a record: a field, or a list item's field (`index` as corrections number
    items), or a whole list item (`item` None)."""

    field: FieldSpec
    index: int | None = None
    item: FieldSpec | None = None

    @property
    def spec(self) -> FieldSpec:
        return self.item or self.field

    @property
    def key(self) -> tuple[str, int | None, str | None]:
        return self.field.name, self.index, None if self.item is None else self.item.name


def target(schema: Schema, asked: Mapping[str, Any]) -> Target:
    name = asked.get("field")
    spec = next((f for f in schema.fields if f.name == name), None) if isinstance(name, str) else None
    if spec is None:
        raise EditRefused(f"{schema.name} has no field {name!r}", 404)
    index = asked.get("list_index")
    if spec.kind == Kind.OBJECT:
        if index is not None:
            raise EditRefused(f"{spec.name} is an object, not a list", 404)
        name = asked.get("item_field")
        if name is None:
            return Target(spec)
        sub = next((s for s in spec.fields if s.name == name), None) if isinstance(name, str) else None
        if sub is None:
            raise EditRefused(f"{spec.name} has no field {name!r}", 404)
        return Target(spec, None, sub)
    if spec.kind != Kind.LIST:
        if index is not None:
            raise EditRefused(f"{spec.name} is not a list", 404)
        return Target(spec)
    if index is None:
        return Target(spec)
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise EditRefused(f"list_index must be a whole number from 0, not {index!r}", 400)
    name = asked.get("item_field")
    if name is None:
        return Target(spec, index)
    sub = next((s for s in spec.fields if s.name == name), None) if isinstance(name, str) else None
    if sub is None:
        raise EditRefused(f"{spec.name} items have no field {name!r}", 404)
    return Target(spec, index, sub)


def typed(schema: Schema, extracted: Mapping[str, Any], where: Target, printed: Any) -> Any:
    """`printed` typed as the record's values were (EditRefused saying why it does not fit)."""
    if printed is not None and not isinstance(printed, str):
        raise EditRefused(f"give the value as printed, as text, not {type(printed).__name__}", 400)
    text = None if printed is None or not printed.strip() else printed
    try:
        return type_printed(where.spec, text, record_evidence(extracted))
    except ValueError as exc:
        raise EditRefused(f"{text!r} is not a {where.spec.kind}: {exc}") from None


def shown(value: Any, kind: str | None = None) -> str:
    """A typed value as the page shows it: money with two decimals, numbers as they are (2, not
    2.00), dates ISO."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):  # an amount: two decimals, more only where it has them
        return f"{value:,.2f}" if value == round(value, 2) else f"{value.normalize():,f}"
    if isinstance(value, float):
        return f"{value:,.2f}" if kind == Kind.MONEY else f"{value:,.10g}"
    return str(value)


def how_typed(extracted: Mapping[str, Any], spec: FieldSpec) -> str:
    """The document's evidence that typing used, in words (shown beside a preview)."""
    if spec.kind == Kind.DATE and extracted.get("date_order"):
        return f"the document reads dates {extracted['date_order']} ({extracted.get('date_order_rule') or 'its record'})"
    if spec.kind == Kind.DATE and "date_order" in extracted:
        return "the document's date order is undecided: write an ambiguous date unambiguously (2026-04-05)"
    if spec.kind in (Kind.MONEY, Kind.NUMBER) and extracted.get("decimal_mark"):
        return f"decimal mark {extracted['decimal_mark']!r} ({extracted.get('decimal_rule') or 'its record'})"
    return ""


def model_value(extracted: Mapping[str, Any], where: Target) -> tuple[Any, float | None, bool]:
    """(the model's value, its confidence, whether the model gave this value at all)."""
    if where.field.kind == Kind.OBJECT and where.item is not None:
        group = extracted.get(where.field.name) or {}
        return group.get(where.item.name), cell_confidence(group, where.item.name) if group else None, True
    if where.index is None:
        return extracted.get(where.field.name), extracted.get(f"{where.field.name}_confidence"), True
    items = extracted.get(where.field.name) or []
    if where.index >= len(items):
        return None, None, False  # an item the reviewer added
    item = items[where.index]
    if where.item is None:
        return item, item.get("confidence"), True
    return item.get(where.item.name), cell_confidence(item, where.item.name), True


class Edits:
    """Builds the correction rows of one record's actions (`key`: its doc_id, or doc_id~segment)."""

    def __init__(self, schema: Schema, reviewer: str, key: str, extracted: Mapping[str, Any], applied: Applied,
                 fixes: list[Mapping[str, Any]]):
        self.schema, self.reviewer = schema, reviewer
        self.doc_id, self.segment = split_key(key)
        self.extracted, self.applied, self.fixes = extracted, applied, fixes
        self.work_key = str(extracted.get("work_key") or "")

    def rows(self, asked: Mapping[str, Any]) -> list[CorrectionRow]:
        action = asked.get("action")
        if not isinstance(action, str) or action not in set(ReviewAction):
            raise EditRefused(f"action must be one of {', '.join(ReviewAction)}, not {action!r}", 400)
        action = ReviewAction(action)
        if action == ReviewAction.DONE:
            return self.done()
        where = target(self.schema, asked)
        if action == ReviewAction.ADD_ITEM:
            return self.add_item(where)
        if action == ReviewAction.REMOVE_ITEM:
            return self.remove_item(where)
        if where.spec.kind.is_group:
            raise EditRefused(f"name a value to {action}: a field, a list item's field (list_index and item_field) "
                              "or an object's field (item_field)", 400)
        self._check_present(where)
        if action == ReviewAction.ACCEPT:
            return self.accept([where])
        return [self.set(where, asked.get("new_value"))]

    def set(self, where: Target, printed: Any) -> CorrectionRow:
        value = typed(self.schema, self.extracted, where, printed)
        model, confidence, given = model_value(self.extracted, where)
        right = values_equal(where.spec, value, model) if given else None
        return self._row(where, ReviewAction.SET, new_value=None if value is None else printed, old_value=model,
                         typed_value=value, model_confidence=confidence if given else None, model_right=right)

    def accept(self, targets: list[Target]) -> list[CorrectionRow]:
        """Acceptances of values not corrected already (accepting a corrected value would bring
        the model's back)."""
        corrected = {(f["field"], f["list_index"], f["item_field"]) for f in self.fixes
                     if f["action"] == ReviewAction.SET}
        rows = []
        for where in targets:
            if where.key in corrected:
                continue
            model, confidence, given = model_value(self.extracted, where)
            rows.append(self._row(where, ReviewAction.ACCEPT, old_value=model,
                                  model_confidence=confidence if given else None, model_right=True if given else None))
        return rows

    def add_item(self, where: Target) -> list[CorrectionRow]:
        if where.field.kind != Kind.LIST:
            raise EditRefused(f"{where.field.name} is not a list", 404)
        used = [f["list_index"] for f in self.fixes if f["field"] == where.field.name and f["list_index"] is not None]
        index = max([len(self.extracted.get(where.field.name) or []) - 1, *used]) + 1
        return [self._row(Target(where.field, index), ReviewAction.ADD_ITEM, model_right=False)]

    def remove_item(self, where: Target) -> list[CorrectionRow]:
        if where.index is None or where.item is not None:
            raise EditRefused("name the item to remove: field and list_index", 400)
        self._check_present(where)
        _, confidence, given = model_value(self.extracted, where)
        return [self._row(where, ReviewAction.REMOVE_ITEM, model_confidence=confidence if given else None,
                          model_right=False if given else None)]

    def done(self) -> list[CorrectionRow]:
        """Every value not yet reviewed accepted, then the document marked done."""
        targets = []
        for spec in self.schema.fields:
            if spec.kind == Kind.OBJECT:
                targets += [Target(spec, None, sub) for sub in spec.fields]
                continue
            if spec.kind != Kind.LIST:
                targets.append(Target(spec))
                continue
            for index in self.applied.items.get(spec.name, []):
                targets += [Target(spec, index, sub) for sub in spec.fields]
        untouched = [t for t in targets if t.key not in self.applied.reviewed]
        return [*self.accept(untouched), self._row(None, ReviewAction.DONE)]

    def _check_present(self, where: Target) -> None:
        if where.index is not None and where.index not in self.applied.items.get(where.field.name, []):
            raise EditRefused(f"{where.field.name} has no item {where.index} (removed, or never there)", 404)

    def _row(self, where: Target | None, action: ReviewAction, **values: Any) -> CorrectionRow:
        field, index, item = (DOCUMENT, None, None) if where is None else where.key
        return correction(self.doc_id, self.work_key, self.schema.name, field, action, self.reviewer,
                          list_index=index, item_field=item, segment=self.segment, **values)
