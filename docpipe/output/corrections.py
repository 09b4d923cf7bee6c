"""A reviewer's corrections (`docpipe review`): appended to the `corrections` table, never written
over a record, and applied when a schema's table is read with `corrected=True`.

A correction names a document, a field (or a list item's field) and what the value is, as printed
("1.234,56 €"), typed by the field's kind when it is applied; or it accepts the record's value.
The latest correction of a value wins. A corrected value gets confidence 1.0 (a person read it)
and the record lists its corrected fields in `corrected`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from docpipe.output import tables
from docpipe.output.rows import CorrectionRow
from docpipe.schema.spec import Schema


def path_of(field: str, list_index: int | None = None, item_field: str | None = None) -> str:
    """A value's name as people write it: total, line_items[0].amount."""
    return field if list_index is None else f"{field}[{list_index}].{item_field}"


def record_correction(out: Path, row: CorrectionRow) -> None:
    # files sort in the order corrections were made (microseconds), each name unique (uuid)
    tag = "review-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:8]
    tables.write_rows(out, "corrections", [row], tables.FIXED["corrections"], tag)


def correction(doc_id: str, work_key: str, schema: str, field: str, new_value: str | None, old_value: Any,
               reviewer: str, list_index: int | None = None, item_field: str | None = None,
               accepted: bool = False) -> CorrectionRow:
    old = None if old_value is None or (isinstance(old_value, float) and pd.isna(old_value)) else str(old_value)
    return CorrectionRow(doc_id=doc_id, work_key=work_key, schema=schema, field=field, list_index=list_index,
                         item_field=item_field, old_value=old, new_value=new_value, accepted=accepted,
                         reviewer=reviewer, created_at=dt.datetime.now(dt.UTC))


def apply_corrections(records: pd.DataFrame, corrections: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """`records` (one row per document) with the latest correction of each value applied."""
    records = records.copy()
    records["corrected"] = [[] for _ in range(len(records))]
    if corrections.empty or records.empty:
        return records
    for spec in schema.fields:  # lists are rewritten item by item: Python cells, None when missing
        if spec.kind == "list" and isinstance(records[spec.name].dtype, pd.ArrowDtype):
            cells = [None if cell is pd.NA else cell for cell in records[spec.name].tolist()]
            records[spec.name] = pd.Series(cells, index=records.index, dtype=object)
    mine = corrections[corrections["schema"] == schema.name].sort_values("created_at", kind="stable")
    keys = ["doc_id", "field", "list_index", "item_field"]
    latest = mine.assign(list_index=mine["list_index"].astype("Int64")).drop_duplicates(keys, keep="last")
    where = {doc_id: index for index, doc_id in records["doc_id"].items()}
    specs = {spec.name: spec for spec in schema.fields}
    for fix in latest.itertuples():
        index, spec = where.get(fix.doc_id), specs.get(fix.field)
        if index is None or spec is None:
            continue
        item_index = None if pd.isna(fix.list_index) else int(fix.list_index)
        if item_index is None:
            _set_scalar(records, index, spec, fix)
        else:
            _set_item(records, index, spec, item_index, fix)
        records.at[index, "corrected"] = [*records.at[index, "corrected"], path_of(fix.field, item_index, fix.item_field)]
    return records


def _typed(spec, fix) -> Any:
    return spec.parse(fix.new_value) if fix.new_value is not None else None


def _set_scalar(records: pd.DataFrame, index: int, spec, fix) -> None:
    if not fix.accepted:
        records.at[index, spec.name] = _typed(spec, fix)
        if f"{spec.name}_raw" in records.columns:
            records.at[index, f"{spec.name}_raw"] = fix.new_value
    records.at[index, f"{spec.name}_confidence"] = 1.0


def _set_item(records: pd.DataFrame, index: int, spec, item_index: int, fix) -> None:
    value = records.at[index, spec.name]
    items = [dict(item) for item in (value if value is not None else [])]
    sub = next((s for s in spec.fields if s.name == fix.item_field), None)
    if sub is None or item_index >= len(items):
        return
    if not fix.accepted:
        items[item_index][sub.name] = _typed(sub, fix)
        if f"{sub.name}_raw" in items[item_index]:
            items[item_index][f"{sub.name}_raw"] = fix.new_value
    items[item_index]["confidence"] = 1.0
    records.at[index, spec.name] = items
