"""Appends never overwrite, readers keep every column, and read_table gives the latest record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from docpipe import read_table
from docpipe.output.tables import ERRORS, read_all, write_rows


def _ts(second):
    return dt.datetime(2026, 1, 1, 0, 0, second, tzinfo=dt.UTC)


def test_appends_make_new_files_and_leave_no_temporary_ones(tmp_path):
    row = {"run_id": "r", "doc_id": "d", "source_path": "p", "page_no": None, "stage": "render",
           "category": "corrupt", "message": "m", "created_at": _ts(0)}
    first = write_rows(tmp_path, "errors", [row], ERRORS, "run1")
    second = write_rows(tmp_path, "errors", [row], ERRORS, "run1")
    assert first != second and first.exists() and second.exists()
    assert not [p for p in (tmp_path / "errors").iterdir() if p.name.startswith(".")]
    assert len(read_all(tmp_path, "errors")) == 2
    assert pq.read_schema(first) == ERRORS


def test_a_column_added_by_a_later_run_is_kept(tmp_path):
    old = pa.schema([("doc_id", pa.string()), ("extracted_at", pa.timestamp("us", tz="UTC")), ("total", pa.float64())])
    new = old.append(pa.field("currency", pa.string()))
    write_rows(tmp_path, "invoice", [{"doc_id": "a", "extracted_at": _ts(1), "total": 1.0}], old, "r1")
    write_rows(tmp_path, "invoice", [{"doc_id": "b", "extracted_at": _ts(2), "total": 2.0, "currency": "EUR"}], new, "r2")
    frame = read_all(tmp_path, "invoice")
    assert list(frame.columns) == ["doc_id", "extracted_at", "total", "currency"]
    currency = frame.set_index("doc_id")["currency"]
    assert currency["b"] == "EUR"
    assert pd.isna(currency["a"])  # the earlier file has no such column: null (None or NaN), not dropped


def test_read_table_returns_the_latest_record_per_document(tmp_path):
    schema = pa.schema([("doc_id", pa.string()), ("extracted_at", pa.timestamp("us", tz="UTC")), ("total", pa.float64())])
    write_rows(tmp_path, "invoice", [{"doc_id": "a", "extracted_at": _ts(5), "total": 2.0}], schema, "r2")
    write_rows(tmp_path, "invoice", [{"doc_id": "a", "extracted_at": _ts(1), "total": 1.0},
                                     {"doc_id": "b", "extracted_at": _ts(1), "total": 3.0}], schema, "r1")
    latest = read_table(tmp_path, "invoice").set_index("doc_id")["total"].to_dict()
    assert latest == {"a": 2.0, "b": 3.0}


def test_nested_cells_read_as_dicts_and_lists_and_a_missing_one_as_na(tmp_path):
    """read_table keeps struct and list columns Arrow-backed (fast); a cell still reads as a dict or
    a list. python_cells=True gives Python objects in every cell, None where missing."""
    box = pa.struct([("page", pa.int32()), ("x0", pa.float32())])
    schema = pa.schema([("doc_id", pa.string()), ("extracted_at", pa.timestamp("us", tz="UTC")),
                        ("total_box", box), ("items", pa.list_(pa.struct([("amount", pa.float64())])))])
    write_rows(tmp_path, "invoice", [
        {"doc_id": "a", "extracted_at": _ts(1), "total_box": {"page": 1, "x0": 0.5}, "items": [{"amount": 2.0}]},
        {"doc_id": "b", "extracted_at": _ts(1), "total_box": None, "items": None},
        {"doc_id": "a", "extracted_at": _ts(0), "total_box": {"page": 9, "x0": 0.0}, "items": []},  # older
    ], schema, "r1")
    fast = read_table(tmp_path, "invoice").set_index("doc_id")
    assert isinstance(fast["total_box"].dtype, pd.ArrowDtype)
    assert fast.loc["a", "total_box"] == {"page": 1, "x0": 0.5}
    assert fast.loc["a", "items"] == [{"amount": 2.0}]
    assert fast.loc["b", "total_box"] is pd.NA and pd.isna(fast.loc["b", "items"])
    plain = read_table(tmp_path, "invoice", python_cells=True).set_index("doc_id")
    assert plain.loc["a", "total_box"] == {"page": 1, "x0": 0.5} and list(plain.loc["a", "items"]) == [{"amount": 2.0}]
    assert plain.loc["b", "total_box"] is None and plain.loc["b", "items"] is None


def test_each_cell_of_a_list_item_has_its_own_confidence_and_older_files_still_read(tmp_path):
    """A line item's cells carry their own confidence (from their own tokens); the item's is the
    least certain of them. Records written before cells had one read beside the new ones, and
    `cell_confidence` falls back to the item's for them."""
    from docpipe.core.types import ExtractedRecord
    from docpipe.output.record_columns import cell_confidence, item_fields, record_columns
    from docpipe.output.tables import records_schema
    from docpipe.schema.load import resolve_schema

    schema = resolve_schema("invoice")
    item = {"description": "gloves", "quantity": 2.0, "unit_price": Decimal("5.00"), "amount": Decimal("10.00")}
    record = ExtractedRecord("a", {"line_items": [item]}, True, confidence={
        ("line_items",): 0.4, ("line_items", 0): 0.4, ("line_items", 0, "description"): 0.4,
        ("line_items", 0, "quantity"): 0.97, ("line_items", 0, "amount"): 0.6})
    row = record_columns(schema, record)
    cells = row["line_items"][0]
    assert (cells["quantity_confidence"], cells["amount_confidence"], cells["confidence"]) == (0.97, 0.6, 0.4)
    assert cells["unit_price_confidence"] is None  # no tokens seen for it: unknown, not the item's
    assert item_fields(cells) == ["description", "quantity", "unit_price", "amount"]

    new = records_schema(schema)
    meta = {name: None for name in new.names} | {"extracted_at": _ts(2)}
    write_rows(tmp_path, "invoice", [meta | {"doc_id": "a"} | row], new, "new")
    old_item = pa.struct([f for f in new.field("line_items").type.value_type if not f.name.endswith("_confidence")])
    old = new.set(new.get_field_index("line_items"), pa.field("line_items", pa.list_(old_item)))
    old_cells = {k: v for k, v in cells.items() if not k.endswith("_confidence")} | {"confidence": 0.3}
    write_rows(tmp_path, "invoice", [meta | {"doc_id": "b", "line_items": [old_cells]}], old, "old")
    read = read_table(tmp_path, "invoice", python_cells=True).set_index("doc_id")
    assert cell_confidence(read.loc["a", "line_items"][0], "quantity") == 0.97
    assert cell_confidence(read.loc["b", "line_items"][0], "quantity") == 0.3  # the item's: nothing finer known
