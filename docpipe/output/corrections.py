"""A reviewer's corrections (`docpipe review`): appended to the `corrections` table, never written
over a record, and applied when a schema's table is read with `corrected=True`.

Each row names a document, a value (a field, or a list item's field) and what the reviewer did
(`action`, core/vocab.ReviewAction):

    set          the value is `new_value`, as printed ("1.234,56 €"; null: no such value). It is
                 typed when saved, with the document's own evidence (the record's date order,
                 decimal mark and printed currency), and kept as `typed_value`
    accept       the record's value is right
    add_item     a list item the model missed; its cells come as `set` rows
    remove_item  a list item the model invented
    done         every value of the document was reviewed (the page accepts the untouched ones)

List items are named by their index in the record as extracted (0 .. n-1); an added item takes the
next free index (n, n+1, ...), so an index keeps its meaning while items are added and removed.
The latest row of each (document, field, list index, item field) wins. A reviewed value gets
confidence 1.0 (a person read it); the record says which values were reviewed (`corrected`, paths
as the corrected record numbers them: `line_items[1].amount`) and whether it was marked done
(`review_done`). Applying corrections touches only the records of documents that have some.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from docpipe.core.vocab import ReviewAction
from docpipe.normalize.evidence import DocumentEvidence
from docpipe.output import tables
from docpipe.output.record_columns import cell_confidence
from docpipe.output.rows import CorrectionRow
from docpipe.schema.kinds import Kind
from docpipe.schema.spec import RAW_KINDS, FieldSpec, Schema

REVIEW_COLUMNS = [
    pa.field("corrected", pa.list_(pa.string())),  # the values a reviewer set or accepted
    pa.field("review_done", pa.bool_()),  # the reviewer marked the document done
]
DOCUMENT = ""  # the `field` of a row about the whole document (done)
FIX_COLUMNS = ("doc_id", "field", "list_index", "item_field", "action", "accepted", "new_value", "typed_value")


def path_of(field: str, list_index: int | None = None, item_field: str | None = None) -> str:
    """A value's name as people write it: total, line_items[0].amount (line_items[0]: the item),
    supplier.vat_id (an object's field)."""
    if list_index is None:
        return f"{field}.{item_field}" if item_field else field
    return f"{field}[{list_index}]" + (f".{item_field}" if item_field else "")


def record_corrections(out: Path, rows: Sequence[CorrectionRow]) -> None:
    """Append `rows` as one file (a document marked done writes all its acceptances at once)."""
    # files sort in the order corrections were made (microseconds), each name unique (uuid)
    tag = "review-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:8]
    tables.write_rows(out, "corrections", list(rows), tables.FIXED["corrections"], tag)


def correction(doc_id: str, work_key: str, schema: str, field: str, action: ReviewAction, reviewer: str, *,
               list_index: int | None = None, item_field: str | None = None, new_value: str | None = None,
               old_value: Any = None, typed_value: Any = None, model_confidence: float | None = None,
               model_right: bool | None = None, segment: int | None = None) -> CorrectionRow:
    return CorrectionRow(
        doc_id=doc_id, work_key=work_key, schema=schema, field=field, list_index=list_index,
        item_field=item_field, old_value=None if _missing(old_value) else str(old_value), new_value=new_value,
        accepted=action == ReviewAction.ACCEPT, reviewer=reviewer, created_at=dt.datetime.now(dt.UTC),
        action=str(action), typed_value=stored(typed_value) if action == ReviewAction.SET else None,
        model_confidence=None if _missing(model_confidence) else float(model_confidence), model_right=model_right,
        segment=segment,
    )


def record_evidence(record: Mapping[str, Any]) -> DocumentEvidence | None:
    """How the record's document prints values, from its own columns (None for records written
    before they had them: the parsers' defaults then, as for a value on its own)."""
    if "date_order" not in record:
        return None
    currency = record.get("printed_currency") or ""
    return DocumentEvidence(
        date_order=record.get("date_order"), date_order_rule=record.get("date_order_rule") or "record",
        decimal_mark=record.get("decimal_mark"), decimal_rule=record.get("decimal_rule") or "record",
        currency=frozenset(code for code in currency.split("/") if code), currency_rule="record",
    )


def type_printed(spec: FieldSpec, printed: str | None, evidence: DocumentEvidence | None) -> Any:
    """`printed` typed as the pipeline types the model's answer on this document (ValueError
    saying why it does not fit)."""
    return None if printed is None else spec.parse(printed, evidence)


def stored(value: Any) -> str | None:
    """A typed value as the corrections table keeps it: JSON, dates ISO, amounts as exact text."""
    if _missing(value):
        return None
    if isinstance(value, dt.date):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    return json.dumps(value, ensure_ascii=False)


def from_stored(spec: FieldSpec, text: str | None) -> Any:
    if text is None:
        return None
    value = json.loads(text)
    if spec.kind == Kind.DATE and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if spec.kind == Kind.MONEY and value is not None:
        return Decimal(str(value))  # exact (older rows kept a float)
    return value


def latest_rows(corrections: pd.DataFrame, schema_name: str) -> pd.DataFrame:
    """The latest row of each value (document, field, list index, item field) of a schema, oldest
    first, as read; `action` read from `accepted` in rows written before it existed."""
    if corrections.empty:
        return corrections
    mine = corrections[corrections["schema"] == schema_name].sort_values("created_at", kind="stable")
    segment = mine["segment"] if "segment" in mine else pd.Series(None, index=mine.index, dtype=object)
    mine = mine.assign(segment=segment.astype("Int64"))  # rows written before sorting: the whole file
    keys = mine[["doc_id", "field"]].assign(
        list_index=mine["list_index"].astype("Int64"), item_field=mine["item_field"].fillna(""),
        segment=mine["segment"])
    latest = mine[~keys.duplicated(keep="last")].copy()
    written = latest["action"] if "action" in latest else pd.Series(None, index=latest.index, dtype=object)
    latest["action"] = written.fillna(latest["accepted"].map({True: str(ReviewAction.ACCEPT),
                                                              False: str(ReviewAction.SET)}))
    return latest


def latest_corrections(corrections: pd.DataFrame, schema_name: str) -> dict[str, list[dict[str, Any]]]:
    """latest_rows as Python values, by document."""
    latest = latest_rows(corrections, schema_name)
    if latest.empty:
        return {}
    latest = latest[[c for c in (*FIX_COLUMNS, "segment") if c in latest.columns]]
    latest = latest.astype(object).where(latest.notna(), None)  # pandas' NaN and NA: None
    found: dict[str, list[dict[str, Any]]] = {}
    for fix in latest.to_dict("records"):
        fix["list_index"] = None if fix["list_index"] is None else int(fix["list_index"])
        found.setdefault(record_key(fix["doc_id"], fix.get("segment")), []).append(fix)
    return found


def record_key(doc_id: str, segment: Any = None) -> str:
    """What names one record: its document, and the segment of the file when sorting split it
    (`<doc_id>~<segment>`: the review page's addresses use it as it is)."""
    return doc_id if _missing(segment) else f"{doc_id}~{int(segment)}"


def split_key(key: str) -> tuple[str, int | None]:
    """(doc_id, segment) of a record key; ValueError for one that is neither form."""
    doc_id, _, segment = key.partition("~")
    if segment and not segment.isdigit():
        raise ValueError(f"not a record key: {key!r}")
    return doc_id, int(segment) if segment else None


CLASS_TABLE, CLASS_FIELD = "segments", "doc_class"  # a reviewed class: a correction of the segments table


def apply_class_corrections(segments: pd.DataFrame, corrections: pd.DataFrame) -> pd.DataFrame:
    """`segments` (rows of the segments table) with the reviewers' classes: `doc_class` set (an
    accepted class stays), `class_confidence` 1.0 and `class_rule` 'reviewed' where a reviewer
    looked, and the column `class_reviewed`."""
    segments = segments.copy()
    segments["class_reviewed"] = False
    segments["model_class"] = segments["doc_class"]  # what the sorting said, kept beside the reviewed class
    if corrections.empty or segments.empty:
        return segments
    latest = latest_rows(corrections, CLASS_TABLE)
    latest = latest[latest["field"] == CLASS_FIELD]
    for fix in latest.itertuples():
        at = (segments["doc_id"] == fix.doc_id) & (segments["segment"] == (1 if pd.isna(fix.segment) else fix.segment))
        if fix.action == str(ReviewAction.SET):
            segments.loc[at, "doc_class"] = fix.new_value
        if fix.action in (str(ReviewAction.SET), str(ReviewAction.ACCEPT)):
            segments.loc[at, ["class_confidence", "class_rule", "class_reviewed"]] = [1.0, "reviewed", True]
    return segments


@dataclass
class Applied:
    """One record with its corrections applied, and what the review page needs besides."""

    row: dict[str, Any]
    items: dict[str, list[int]] = field(default_factory=dict)  # per list field: each item's index as reviewed
    reviewed: set[tuple[str, int | None, str | None]] = field(default_factory=set)  # (field, index, item field)
    paths: list[str] = field(default_factory=list)  # the reviewed values, as the corrected record numbers them
    done: bool = False


def apply_to_record(record: Mapping[str, Any], fixes: Sequence[Mapping[str, Any]], schema: Schema) -> Applied:
    """`record` (a records row as Python values) with `fixes` (latest_corrections) applied."""
    row = dict(record)
    applied = Applied(row, done=any(f["action"] == ReviewAction.DONE for f in fixes))
    evidence = record_evidence(record)
    touched = False
    for spec in schema.fields:
        mine = [f for f in fixes if f["field"] == spec.name]
        if spec.kind == Kind.LIST:
            touched |= _apply_list(applied, spec, mine, evidence)
            continue
        if spec.kind == Kind.OBJECT:
            touched |= _apply_object(applied, spec, mine, evidence)
            continue
        fix = next((f for f in mine if f["list_index"] is None), None)
        if fix is None or fix["action"] not in (ReviewAction.SET, ReviewAction.ACCEPT):
            continue
        if fix["action"] == ReviewAction.SET:
            row[spec.name] = _typed(spec, fix, evidence)
            if f"{spec.name}_raw" in row:
                row[f"{spec.name}_raw"] = fix["new_value"]
        row[f"{spec.name}_confidence"] = 1.0
        applied.reviewed.add((spec.name, None, None))
        applied.paths.append(spec.name)
        touched = True
    if touched:
        tops = [row.get(f"{spec.name}_confidence") for spec in schema.fields]
        known = [c for c in tops if not _missing(c)]
        row["lowest_confidence"] = min(known) if known else None
    return applied


def _apply_list(applied: Applied, spec: FieldSpec, fixes: list[Mapping[str, Any]],
                evidence: DocumentEvidence | None) -> bool:
    row = applied.row
    original = row.get(spec.name)
    items: dict[int, dict[str, Any]] = {i: dict(item) for i, item in enumerate(original or [])}
    applied.items[spec.name] = list(items)
    if not fixes:
        return False
    extracted = len(items)
    for fix in (f for f in fixes if f["list_index"] is not None and not f["item_field"]):
        index = fix["list_index"]
        if fix["action"] == ReviewAction.REMOVE_ITEM:
            items.pop(index, None)
        elif fix["action"] == ReviewAction.ADD_ITEM and index >= extracted:
            items[index] = _empty_item(spec)
    cells = [f for f in fixes if f["list_index"] is not None and f["item_field"]]
    reviewed_cells: set[tuple[int, str]] = set()
    for fix in cells:
        index, sub = fix["list_index"], next((s for s in spec.fields if s.name == fix["item_field"]), None)
        if index not in items or sub is None or fix["action"] not in (ReviewAction.SET, ReviewAction.ACCEPT):
            continue
        item = items[index]
        if fix["action"] == ReviewAction.SET:
            item[sub.name] = _typed(sub, fix, evidence)
            if sub.kind in RAW_KINDS:
                item[f"{sub.name}_raw"] = fix["new_value"]
        item[f"{sub.name}_confidence"] = 1.0
        reviewed_cells.add((index, sub.name))
    order = sorted(items)
    for position, index in enumerate(order):
        item = items[index]
        known = [c for c in (cell_confidence(item, s.name) for s in spec.fields) if not _missing(c)]
        if any(i == index for i, _ in reviewed_cells) or index >= extracted:
            item["confidence"] = min(known) if known else 1.0
        for sub in spec.fields:
            if (index, sub.name) in reviewed_cells:
                applied.reviewed.add((spec.name, index, sub.name))
                applied.paths.append(path_of(spec.name, position, sub.name))
    row[spec.name] = [items[i] for i in order] if (original is not None or order) else None
    applied.items[spec.name] = order
    confidences = [items[i].get("confidence") for i in order]
    known = [c for c in confidences if not _missing(c)]
    row[f"{spec.name}_confidence"] = min(known) if known else 1.0
    return True


def _apply_object(applied: Applied, spec: FieldSpec, fixes: list[Mapping[str, Any]],
                  evidence: DocumentEvidence | None) -> bool:
    row = applied.row
    cells = [f for f in fixes if f["list_index"] is None and f["item_field"]
             and f["action"] in (ReviewAction.SET, ReviewAction.ACCEPT)]
    subs = {s.name: s for s in spec.fields}
    cells = [f for f in cells if f["item_field"] in subs]
    if not cells:
        return False
    value = dict(row.get(spec.name) or _empty_item(spec))
    for fix in cells:
        sub = subs[fix["item_field"]]
        if fix["action"] == ReviewAction.SET:
            value[sub.name] = _typed(sub, fix, evidence)
            if sub.kind in RAW_KINDS:
                value[f"{sub.name}_raw"] = fix["new_value"]
        value[f"{sub.name}_confidence"] = 1.0
        applied.reviewed.add((spec.name, None, sub.name))
        applied.paths.append(path_of(spec.name, None, sub.name))
    known = [c for c in (cell_confidence(value, s.name) for s in spec.fields) if not _missing(c)]
    value["confidence"] = min(known) if known else 1.0
    row[spec.name] = value
    row[f"{spec.name}_confidence"] = value["confidence"]
    return True


def _empty_item(spec: FieldSpec) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for sub in spec.fields:
        item[sub.name] = None
        if sub.kind in RAW_KINDS:
            item[f"{sub.name}_raw"] = None
        item[f"{sub.name}_box"] = None
        item[f"{sub.name}_confidence"] = None
    return item | {"confidence": None, "page": None}


def _typed(spec: FieldSpec, fix: Mapping[str, Any], evidence: DocumentEvidence | None) -> Any:
    if fix.get("typed_value") is not None:  # as the reviewer saw it typed when saving
        return from_stored(spec, fix["typed_value"])
    try:  # rows written before typed_value: typed now, with the document's evidence
        return type_printed(spec, fix["new_value"], evidence)
    except ValueError:
        return None


def apply_corrections(latest: pa.Table, corrections: pd.DataFrame, schema: Schema) -> pa.Table:
    """`latest` (the latest record of each document, in Arrow) with the latest correction of
    each value applied, and the columns `corrected` and `review_done`. Only the records of
    documents with corrections are read into Python; in a column they change, the other rows stay
    the Arrow they were read as (slices of it), and the columns they do not change stay whole."""
    by_doc = latest_corrections(corrections, schema.name)
    wanted = pa.array(sorted({split_key(key)[0] for key in by_doc}), pa.string())
    mask = pc.fill_null(pc.is_in(latest["doc_id"], value_set=wanted), False).to_numpy(zero_copy_only=False)
    touched = np.flatnonzero(mask)
    originals = latest.take(touched).to_pylist() if len(touched) else []
    applied = [apply_to_record(r, by_doc.get(record_key(r["doc_id"], r.get("segment")), []), schema)
               for r in originals]
    changed = [name for name in latest.column_names
               if any(a.row.get(name) != r.get(name) for a, r in zip(applied, originals, strict=True))]
    for name in changed:
        column = latest[name]
        replaced = pa.array([a.row[name] for a in applied], type=column.type)
        latest = latest.set_column(latest.column_names.index(name), name, _spliced(column, touched, replaced))
    n = latest.num_rows
    paths = [a.paths for a in applied]
    lengths = np.zeros(n, dtype=np.int32)
    lengths[touched] = [len(p) for p in paths]
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    reviewed = pa.ListArray.from_arrays(offsets, pa.array([p for ps in paths for p in ps], pa.string()))
    done = np.zeros(n, dtype=bool)
    done[touched] = [a.done for a in applied]
    latest = latest.append_column(REVIEW_COLUMNS[0], reviewed)
    return latest.append_column(REVIEW_COLUMNS[1], pa.array(done))


def _spliced(column: pa.ChunkedArray, positions: np.ndarray, values: pa.Array) -> pa.ChunkedArray:
    """`column` with the rows at `positions` (sorted) replaced by `values`, in order: slices of the
    column between them, no copy."""
    pieces: list[pa.Array] = []
    start = 0
    for j, at in enumerate(positions.tolist()):
        if at > start:
            pieces += column.slice(start, at - start).chunks
        pieces.append(values.slice(j, 1))
        start = at + 1
    if start < len(column):
        pieces += column.slice(start).chunks
    return pa.chunked_array(pieces, type=column.type)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
