"""The columns of records/<schema>: the schema's fields, typed, with their printed text,
confidence and source page.

Next to every field `f` of the schema:
    f              the typed value (Arrow type from the schema)
    f_raw          the value as printed (money, date, number, integer fields)
    f_confidence   see confidence.py; for a list, the minimum over all its values
    f_page         the page the value came from (for a list, its first item's page)
    f_box          where the value is printed (answers/boxes.py): page, x0, y0, x1, y1 (0-1, origin
                   top-left), source (text_layer | model | not_found | no_text_layer), score (0-100),
                   model_iou (with --boxes model: the model's box against the text layer's, 0-1)
A list field is list<struct> whose items carry their sub-fields (with `_raw` where typed, `_box`,
and `_confidence`: each cell's own, from its own tokens) plus the item's `confidence` (the least
certain of its cells) and `page`; an object field is one such struct (no list).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa

from docpipe.core.types import Box, ExtractedRecord
from docpipe.schema.spec import RAW_KINDS, FieldSpec, Schema

BOX = pa.struct([pa.field("page", pa.int32())] + [pa.field(n, pa.float32()) for n in ("x0", "y0", "x1", "y1")]
                + [pa.field("source", pa.string()), pa.field("score", pa.float32()),
                   pa.field("model_iou", pa.float32())])


def _box(box: Box | None) -> dict[str, Any] | None:
    return None if box is None else dataclasses.asdict(box)


def _item_type(spec: FieldSpec) -> pa.DataType:
    fields = []
    for sub in spec.fields:
        fields.append(pa.field(sub.name, sub.arrow_type()))
        if sub.kind in RAW_KINDS:
            fields.append(pa.field(f"{sub.name}_raw", pa.string()))
        fields.append(pa.field(f"{sub.name}_box", BOX))
        fields.append(pa.field(f"{sub.name}_confidence", pa.float64()))
    fields += [pa.field("confidence", pa.float64()), pa.field("page", pa.int32())]
    return pa.struct(fields)


def record_fields(schema: Schema) -> list[pa.Field]:
    out = []
    for spec in schema.fields:
        if spec.kind == "list":
            out.append(pa.field(spec.name, pa.list_(_item_type(spec))))
        elif spec.kind == "object":
            out.append(pa.field(spec.name, _item_type(spec)))
        else:
            out.append(pa.field(spec.name, spec.arrow_type()))
            if spec.kind in RAW_KINDS:
                out.append(pa.field(f"{spec.name}_raw", pa.string()))
        out += [pa.field(f"{spec.name}_confidence", pa.float64()), pa.field(f"{spec.name}_page", pa.int32())]
        if not spec.kind.is_group:
            out.append(pa.field(f"{spec.name}_box", BOX))
    return out


def field_names(columns) -> list[str]:
    """The schema's fields of a records table read back, in the schema's order, from its column
    names: each field `f` has `f_confidence` beside it (no schema file needed)."""
    names = set(columns)
    return [c.removesuffix("_confidence") for c in columns
            if c.endswith("_confidence") and c.removesuffix("_confidence") in names]


# a record's state, worst first: what show and the review queue order by (answers/assess.py)
STATES = ("not parsed", "incomplete", "inconsistent", "ok")


def record_state(row: Any) -> str:
    """The first of parsed, complete, consistent that a record (a mapping of its columns) fails;
    records written before these columns: `valid` stands for parsed, the others are unknown."""
    def flag(name: str) -> bool | None:
        value = row.get(name) if hasattr(row, "get") else None
        return None if value is None or (isinstance(value, float) and value != value) else bool(value)
    parsed = flag("parsed")
    if (parsed if parsed is not None else flag("valid")) is False:
        return STATES[0]
    if flag("complete") is False:
        return STATES[1]
    if flag("consistent") is False:
        return STATES[2]
    return STATES[3]


ITEM_SUFFIXES = ("_raw", "_box", "_confidence")  # what a list item carries beside each of its sub-fields


def item_fields(item: dict[str, Any]) -> list[str]:
    """A list item's sub-fields read back (no schema needed): its keys but the item's own
    `confidence` and `page` and each sub-field's `_raw`, `_box` and `_confidence`."""
    return [k for k in item if k not in ("confidence", "page") and not k.endswith(ITEM_SUFFIXES)]


def cell_confidence(item: dict[str, Any], sub: str) -> float | None:
    """A list item's cell confidence; the item's where the cell has none (records written before
    cells had their own read back with it null)."""
    value = item.get(f"{sub}_confidence")
    return item.get("confidence") if value is None else value


def record_columns(schema: Schema, record: ExtractedRecord) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for spec in schema.fields:
        name, path = spec.name, (spec.name,)
        value = record.values.get(name)
        if spec.kind == "list":
            row[name] = None if value is None else [
                _item(spec, item, (name, index), record) for index, item in enumerate(value)
            ]
        elif spec.kind == "object":
            row[name] = None if value is None else _item(spec, value, (name,), record)
        else:
            row[name] = value
            if spec.kind in RAW_KINDS:
                row[f"{name}_raw"] = record.raw.get(path)
        row[f"{name}_confidence"] = record.confidence.get(path)
        row[f"{name}_page"] = record.pages.get(path)
        if not spec.kind.is_group:
            row[f"{name}_box"] = _box(record.boxes.get(path))
    return row


def _item(spec: FieldSpec, item: dict[str, Any], path: tuple, record: ExtractedRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sub in spec.fields:
        out[sub.name] = item.get(sub.name)
        if sub.kind in RAW_KINDS:
            out[f"{sub.name}_raw"] = record.raw.get((*path, sub.name))
        out[f"{sub.name}_box"] = _box(record.boxes.get((*path, sub.name)))
        out[f"{sub.name}_confidence"] = record.confidence.get((*path, sub.name))
    out["confidence"] = record.confidence.get(path)
    out["page"] = record.pages.get(path)
    return out
