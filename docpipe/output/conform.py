"""A file of a records table in the columns and types of its table now (schema_store.table_schema),
whatever version of the schema wrote it.

A column the file lacks is null. A column whose type differs (a field whose kind changed between
versions: `tax` money in version 1, text in version 2) is typed again from each value's printed
text, by the newest kind's rules and the record's own evidence (its date order, decimal mark,
currency): the printed text is the value's `<field>_raw` where the file has one, else the value
written as text (a number as it is, a date ISO). A text or enum field takes the printed text
itself (an enum only when it is one of its values); a value that does not fit its new kind is
null, and its printed text stays in `<field>_raw`. List items are treated the same, field by field.
Nothing is dropped: a column only older versions have stays (table_schema keeps it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pyarrow as pa

from docpipe.normalize.evidence import DocumentEvidence
from docpipe.output.corrections import record_evidence
from docpipe.schema.kinds import Kind
from docpipe.schema.spec import FieldSpec, Schema


def conform(table: pa.Table, target: pa.Schema, schema: Schema | None = None) -> pa.Table:
    """`table` with exactly `target`'s columns, in its order and types (see the module's rule);
    `schema`: the newest version, whose kinds type the values again (without it, Arrow types do)."""
    specs = {f.name: f for f in schema.fields} if schema is not None else {}
    retyped = {f.name for f in target if f.name in table.column_names and table[f.name].type != f.type}
    columns, rows = [], None
    for field in target:
        name = field.name
        base = name.removesuffix("_raw")
        if name.endswith("_raw") and base in retyped:  # a retyped value keeps its printed text here
            rows = rows if rows is not None else table.to_pylist()
            columns.append(pa.array([r.get(name) or _printed(r.get(base)) for r in rows], pa.string()))
            continue
        if name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, field.type))
            continue
        column = table[name]
        if name not in retyped:
            columns.append(column)
            continue
        rows = rows if rows is not None else table.to_pylist()
        spec = specs.get(name)
        values = [_convert(r.get(name), column.type, field.type, spec, r, r.get(f"{name}_raw")) for r in rows]
        columns.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(columns, schema=target)


def _convert(value: Any, source: pa.DataType, target: pa.DataType, spec: FieldSpec | None,
             record: Mapping[str, Any], printed: str | None = None) -> Any:
    if value is None:
        return None
    if pa.types.is_list(target):
        if not isinstance(value, list):
            return None
        item_source = source.value_type if pa.types.is_list(source) else None
        return [_item(item, item_source, target.value_type, spec, record) for item in value]
    if pa.types.is_struct(target):
        return _item(value, source if pa.types.is_struct(source) else None, target, spec, record)
    return _scalar(value, target, spec, record_evidence(record), printed)


def _item(item: Any, source: pa.DataType | None, target: pa.DataType, spec: FieldSpec | None,
          record: Mapping[str, Any]) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    subs = {s.name: s for s in spec.fields} if spec is not None else {}
    have = {f.name: f.type for f in source} if source is not None else {}
    out = {}
    for field in target:
        value = item.get(field.name)
        if field.name not in item or have.get(field.name) == field.type:
            out[field.name] = value
        else:
            out[field.name] = _convert(value, have.get(field.name, pa.string()), field.type,
                                       subs.get(field.name), record, item.get(f"{field.name}_raw"))
    return out


def _scalar(value: Any, target: pa.DataType, spec: FieldSpec | None, evidence: DocumentEvidence | None,
            printed: str | None) -> Any:
    text = printed if isinstance(printed, str) and printed.strip() else _printed(value)
    if text is None:
        return None
    if spec is not None and not spec.kind.is_group:
        if spec.kind == Kind.TEXT:
            return text
        try:
            return spec.parse(text, evidence)
        except (ValueError, TypeError):
            return None  # does not fit the new kind: null, the printed text in <field>_raw
    return _by_arrow(text, target)


def _by_arrow(text: str, target: pa.DataType) -> Any:
    """`text` as a value of an Arrow type (no schema to say the kind): None when it is not one."""
    try:
        if pa.types.is_string(target):
            return text
        if pa.types.is_boolean(target):
            return {"true": True, "false": False}.get(text.strip().lower())
        if pa.types.is_integer(target):
            return int(text)
        if pa.types.is_floating(target):
            return float(text)
        if pa.types.is_decimal(target):
            return Decimal(text)
        if pa.types.is_date(target):
            return dt.date.fromisoformat(text)
    except (ValueError, ArithmeticError):
        return None
    return None


def _printed(value: Any) -> str | None:
    """A value written as text, as a reader would print it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value)) if abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
