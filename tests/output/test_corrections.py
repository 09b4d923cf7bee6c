"""Corrections keep what the reviewer meant: typed with the document's own evidence, list items
added and removed under indices that keep their meaning, a document marked done; applied by
read_table(..., corrected=True) to the records of the documents that have some, the others left
as they were."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from docpipe.core.vocab import ReviewAction
from docpipe.output.corrections import correction, record_corrections, record_evidence, type_printed
from docpipe.output.rows import CorrectionRow
from docpipe.output.tables import records_schema, write_rows
from docpipe.output.reading import read_table
from docpipe.schema.load import resolve_schema

INVOICE = resolve_schema("invoice")
SPECS = {f.name: f for f in INVOICE.fields}


def _item(description: str, amount: float, confidence: float) -> dict:
    money = Decimal(str(amount))
    item = {"description": description, "quantity": 1.0, "quantity_raw": "1", "unit_price": money,
            "unit_price_raw": str(amount), "amount": money, "amount_raw": str(amount)}
    for sub in ("description", "quantity", "unit_price", "amount"):
        item[f"{sub}_box"] = None
        item[f"{sub}_confidence"] = confidence
    return item | {"confidence": confidence, "page": 1}


def _record(doc_id: str, date_order: str | None = "MDY", **values) -> dict:
    row = {name: None for name in records_schema(INVOICE).names}
    row |= {"doc_id": doc_id, "work_key": f"wk-{doc_id}", "extracted_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "valid": True, "date_order": date_order, "date_order_rule": "dates: '12/25/2026'",
            "decimal_mark": ".", "printed_currency": "USD"}
    for name in ("total", "invoice_date", "invoice_number"):
        row[f"{name}_confidence"] = 0.6
    row["lowest_confidence"] = 0.4
    return row | values


@pytest.fixture
def out(tmp_path):
    items = [_item("gloves", 10.0, 0.9), _item("invented", 99.0, 0.4), _item("tubes", 5.0, 0.8)]
    write_rows(tmp_path, "invoice", [
        _record("a", total=Decimal("15.00"), total_raw="15.00", invoice_number="A-1", line_items=items,
                line_items_confidence=0.4),
        _record("b", total=Decimal("7.00"), invoice_number="B-1"),
        _record("c", date_order=None, total=Decimal("1.00")),
    ], records_schema(INVOICE), "run1")
    return tmp_path


def _fix(doc_id, field, action, **kw) -> CorrectionRow:
    return correction(doc_id, f"wk-{doc_id}", "invoice", field, action, "ana", **kw)


def test_a_date_is_typed_with_the_documents_own_date_order(out):
    record = read_table(out, "invoice", python_cells=True).set_index("doc_id")
    mdy = record_evidence(record.loc["a"].to_dict())
    assert type_printed(SPECS["invoice_date"], "04/05/2026", mdy) == dt.date(2026, 4, 5)  # April 5: the document is MDY
    assert type_printed(SPECS["invoice_date"], "04/05/2026", None) == dt.date(2026, 5, 4)  # a value alone: day first
    with pytest.raises(ValueError, match="ambiguous|04/05/2026"):  # the document's order was undecided
        type_printed(SPECS["invoice_date"], "04/05/2026", record_evidence(record.loc["c"].to_dict()))
    record_corrections(out, [_fix("a", "invoice_date", ReviewAction.SET, new_value="04/05/2026",
                                  typed_value=dt.date(2026, 4, 5))])
    fixed = read_table(out, "invoice", corrected=True).set_index("doc_id")
    assert fixed.loc["a", "invoice_date"] == dt.date(2026, 4, 5) and fixed.loc["a", "invoice_date_raw"] == "04/05/2026"


def test_items_are_added_and_removed_under_indices_that_keep_their_meaning(out):
    record_corrections(out, [
        _fix("a", "line_items", ReviewAction.REMOVE_ITEM, list_index=1),  # the invented one
        _fix("a", "line_items", ReviewAction.ADD_ITEM, list_index=3),  # a missed one, at the next free index
        _fix("a", "line_items", ReviewAction.SET, list_index=3, item_field="description", new_value="pipettes"),
        _fix("a", "line_items", ReviewAction.SET, list_index=3, item_field="amount", new_value="$4.50",
             typed_value=4.5),
        _fix("a", "line_items", ReviewAction.SET, list_index=2, item_field="amount", new_value="6.00", typed_value=6.0),
    ])
    fixed = read_table(out, "invoice", corrected=True, python_cells=True).set_index("doc_id").loc["a"]
    items = fixed["line_items"]
    assert [i["description"] for i in items] == ["gloves", "tubes", "pipettes"]
    assert [i["amount"] for i in items] == [10.0, 6.0, 4.5]
    assert items[1]["amount_confidence"] == 1.0 and items[1]["description_confidence"] == 0.8  # only that cell
    assert items[2]["amount_raw"] == "$4.50" and items[2]["quantity"] is None
    assert sorted(fixed["corrected"]) == ["line_items[1].amount", "line_items[2].amount", "line_items[2].description"]
    # a later correction of a removed item changes nothing, and removing it again is idempotent
    record_corrections(out, [_fix("a", "line_items", ReviewAction.SET, list_index=1, item_field="amount",
                                  new_value="1", typed_value=1.0)])
    again = read_table(out, "invoice", corrected=True, python_cells=True).set_index("doc_id").loc["a"]
    assert [i["description"] for i in again["line_items"]] == ["gloves", "tubes", "pipettes"]
    # undoing the removal brings the item back where it was
    record_corrections(out, [_fix("a", "line_items", ReviewAction.ADD_ITEM, list_index=1)])
    undone = read_table(out, "invoice", corrected=True, python_cells=True).set_index("doc_id").loc["a"]
    assert [i["description"] for i in undone["line_items"]] == ["gloves", "invented", "tubes", "pipettes"]
    assert undone["line_items"][1]["amount"] == 1.0


def test_accept_and_done_and_the_untouched_records(out):
    record_corrections(out, [_fix("b", "total", ReviewAction.ACCEPT, old_value=7.0, model_confidence=0.6,
                                  model_right=True),
                             _fix("b", "", ReviewAction.DONE)])
    fixed = read_table(out, "invoice", corrected=True).set_index("doc_id")
    assert fixed.loc["b", "total"] == 7.0 and fixed.loc["b", "total_confidence"] == 1.0
    assert list(fixed.loc["b", "corrected"]) == ["total"] and bool(fixed.loc["b", "review_done"])
    assert list(fixed.loc["a", "corrected"]) == [] and not fixed.loc["a", "review_done"]
    assert isinstance(fixed["line_items"].dtype, pd.ArrowDtype)  # untouched records stay Arrow-backed
    assert fixed.loc["a", "total"] == 15.0  # and as they were
    plain = read_table(out, "invoice").set_index("doc_id")
    assert plain.loc["b", "total_confidence"] == 0.6 and "corrected" not in plain.columns  # the record itself is kept


def test_corrections_written_before_actions_existed_still_apply(out):
    old = pa.schema([  # the table as it was first written: no action, typed value or model columns
        ("doc_id", pa.string()), ("work_key", pa.string()), ("schema", pa.string()), ("field", pa.string()),
        ("list_index", pa.int32()), ("item_field", pa.string()), ("old_value", pa.string()),
        ("new_value", pa.string()), ("accepted", pa.bool_()), ("reviewer", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC"))])
    now = dt.datetime.now(dt.UTC)
    rows = [{"doc_id": "b", "work_key": "wk-b", "schema": "invoice", "field": "total", "list_index": None,
             "item_field": None, "old_value": "7.0", "new_value": "$8.00", "accepted": False, "reviewer": "ana",
             "created_at": now},
            {"doc_id": "b", "work_key": "wk-b", "schema": "invoice", "field": "invoice_number", "list_index": None,
             "item_field": None, "old_value": "B-1", "new_value": None, "accepted": True, "reviewer": "ana",
             "created_at": now}]
    write_rows(out, "corrections", rows, old, "review-old")
    fixed = read_table(out, "invoice", corrected=True).set_index("doc_id").loc["b"]
    assert fixed["total"] == 8.0 and fixed["invoice_number"] == "B-1" and fixed["invoice_number_confidence"] == 1.0
