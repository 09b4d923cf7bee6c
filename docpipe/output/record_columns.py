"""The columns of records/<schema>: the schema's fields, typed, with their printed text,
confidence and source page.

Next to every field `f` of the schema:
    f              the typed value (Arrow type from the schema)
    f_raw          the value as printed (money, date, number, integer fields)
    f_confidence   see confidence.py; for a list, the minimum over all its values
    f_page         the page the value came from (for a list, its first item's page)
A list field is list<struct> whose items carry their sub-fields (with `_raw` where typed) plus the
item's `confidence` and `page`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from docpipe.core.types import ExtractedRecord
from docpipe.schema.spec import RAW_KINDS, FieldSpec, Schema


def _item_type(spec: FieldSpec) -> pa.DataType:
    fields = []
    for sub in spec.fields:
        fields.append(pa.field(sub.name, sub.arrow_type()))
        if sub.kind in RAW_KINDS:
            fields.append(pa.field(f"{sub.name}_raw", pa.string()))
    fields += [pa.field("confidence", pa.float64()), pa.field("page", pa.int32())]
    return pa.struct(fields)


def record_fields(schema: Schema) -> list[pa.Field]:
    out = []
    for spec in schema.fields:
        if spec.kind == "list":
            out.append(pa.field(spec.name, pa.list_(_item_type(spec))))
        else:
            out.append(pa.field(spec.name, spec.arrow_type()))
            if spec.kind in RAW_KINDS:
                out.append(pa.field(f"{spec.name}_raw", pa.string()))
        out += [pa.field(f"{spec.name}_confidence", pa.float64()), pa.field(f"{spec.name}_page", pa.int32())]
    return out


def record_columns(schema: Schema, record: ExtractedRecord) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for spec in schema.fields:
        name, path = spec.name, (spec.name,)
        value = record.values.get(name)
        if spec.kind == "list":
            row[name] = None if value is None else [
                _item(spec, item, (name, index), record) for index, item in enumerate(value)
            ]
        else:
            row[name] = value
            if spec.kind in RAW_KINDS:
                row[f"{name}_raw"] = record.raw.get(path)
        row[f"{name}_confidence"] = record.confidence.get(path)
        row[f"{name}_page"] = record.pages.get(path)
    return row


def _item(spec: FieldSpec, item: dict[str, Any], path: tuple, record: ExtractedRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sub in spec.fields:
        out[sub.name] = item.get(sub.name)
        if sub.kind in RAW_KINDS:
            out[f"{sub.name}_raw"] = record.raw.get((*path, sub.name))
    out["confidence"] = record.confidence.get(path)
    out["page"] = record.pages.get(path)
    return out
