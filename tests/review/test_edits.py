"""What the page's actions keep: corrections typed with the document's evidence and shown before
they are saved, list items added and removed, a document marked done, the model's confidence and
whether it was right; read_table(..., corrected=True) and `docpipe eval --truth OUT` then see them."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.eval.report import evaluate
from docpipe.output.tables import read_all
from docpipe.output.reading import read_table
from tests.conftest import examples
from tests.review.conftest import WRITE, client_for, doc_of


def _do(client, doc_id, **asked):
    return client.post("/api/invoice/correct", json={"doc_id": doc_id, **asked}, headers=WRITE)


def _fixed(out, doc_id):
    return read_table(out, "invoice", corrected=True, python_cells=True).set_index("doc_id").loc[doc_id]


def _with_date_order(out, order: str) -> None:
    """Make every record of `out` say the document prints dates `order` (as a run would when the
    document's other dates settle it)."""
    folder = out / "records" / "invoice"
    for path in folder.glob("*.parquet"):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        table = table.set_column(table.schema.get_field_index("date_order"), "date_order",
                                 pa.array([order] * table.num_rows, pa.string()))
        pq.write_table(table, path)


def test_a_date_is_typed_with_the_documents_date_order_and_shown_before_it_is_saved(out):
    _with_date_order(out, "MDY")
    client, acme = client_for(out), doc_of(out, "invoice_acme.pdf")
    preview = client.post("/api/invoice/preview", json={"doc_id": acme, "field": "due_date", "new_value": "04/05/2026"},
                          headers=WRITE)
    assert preview.status_code == 200 and preview.json()["value"] == "2026-04-05"
    assert "MDY" in preview.json()["note"]
    assert read_all(out, "corrections").empty  # a preview writes nothing
    saved = _do(client, acme, action="set", field="due_date", new_value="04/05/2026")
    assert saved.status_code == 200 and saved.json()["value"] == "2026-04-05"
    fixed = _fixed(out, acme)
    assert fixed["due_date"] == dt.date(2026, 4, 5) and fixed["due_date_raw"] == "04/05/2026"
    bad = client.post("/api/invoice/preview", json={"doc_id": acme, "field": "total", "new_value": "lots"}, headers=WRITE)
    assert bad.status_code == 422 and "not a money" in bad.json()["error"]
    assert _do(client, acme, action="set", field="total", new_value="lots").status_code == 422


def test_items_are_added_and_removed_and_each_cell_is_reviewed_on_its_own(out):
    client, acme = client_for(out), doc_of(out, "invoice_acme.pdf")
    before = list(_fixed(out, acme)["line_items"])
    assert _do(client, acme, action="remove_item", field="line_items", list_index=0).status_code == 200
    assert _do(client, acme, action="add_item", field="line_items").status_code == 200
    added = int(read_all(out, "corrections").sort_values("created_at")["list_index"].iloc[-1])
    assert added == len(before)  # the next free index
    assert _do(client, acme, action="set", field="line_items", list_index=added, item_field="description",
               new_value="Freight").status_code == 200
    assert _do(client, acme, action="set", field="line_items", list_index=added, item_field="amount",
               new_value="$12.50").json()["value"] == "12.50"
    assert _do(client, acme, action="set", field="line_items", list_index=0, item_field="amount",
               new_value="1").status_code == 404  # removed: no such item any more
    items = list(_fixed(out, acme)["line_items"])
    assert [i["description"] for i in items] == [i["description"] for i in before[1:]] + ["Freight"]
    assert items[-1]["amount"] == 12.5 and items[-1]["quantity"] is None
    again = _do(client, acme, action="add_item", field="line_items")  # a second one never reuses an index
    assert again.status_code == 200
    assert int(read_all(out, "corrections").sort_values("created_at")["list_index"].iloc[-1]) == added + 1


def test_done_accepts_every_untouched_value_and_records_what_the_model_got_right(out):
    client, acme = client_for(out), doc_of(out, "invoice_acme.pdf")
    record = _fixed(out, acme)
    _do(client, acme, action="set", field="total", new_value="$1,600.00")  # the model said 1545.80
    _do(client, acme, action="set", field="invoice_number", new_value=record["invoice_number"])  # the same value
    accepted = _do(client, acme, action="accept", field="total")  # accepting a corrected value keeps the correction
    assert accepted.json()["saved"] == 0 and "already corrected" in accepted.json()["why"]
    assert _do(client, acme, action="done").status_code == 200
    fixed = _fixed(out, acme)
    assert fixed["total"] == 1600.0 and bool(fixed["review_done"])
    assert len(fixed["corrected"]) == 11 + 4 * len(record["line_items"])  # every scalar and every cell
    rows = read_all(out, "corrections")
    by_field = rows[rows["list_index"].isna()].sort_values("created_at").drop_duplicates("field", keep="last").set_index("field")
    assert not by_field.loc["total", "model_right"] and by_field.loc["invoice_number", "model_right"]
    assert by_field.loc["seller_name", "action"] == "accept" and by_field.loc["seller_name", "model_right"]
    assert by_field.loc["total", "model_confidence"] == record["total_confidence"] < 1  # the model's, not the review's 1.0
    assert by_field.loc["", "action"] == "done"


def test_eval_against_a_reviewed_folder_scores_only_reviewed_values(out):
    client = client_for(out)
    acme, globex = doc_of(out, "invoice_acme.pdf"), doc_of(out, "invoice_globex_2p.pdf")
    _do(client, acme, action="set", field="total", new_value="$1,600.00")
    _do(client, acme, action="accept", field="invoice_number")
    _do(client, globex, action="done")
    result = evaluate(out, out, "invoice")  # this run scored against its own reviews
    assert result.documents == 2
    acme_fields = set(result.details[result.details["source_path"].str.endswith("invoice_acme.pdf")]["field"])
    assert acme_fields == {"total", "invoice_number"}  # the unreviewed values are no one's truth
    acme_rows = result.details[result.details["source_path"].str.endswith("invoice_acme.pdf")]
    assert dict(zip(acme_rows["field"], acme_rows["outcome"], strict=True))["total"] == "mismatch"
    globex_fields = set(result.details[result.details["source_path"].str.endswith("invoice_globex_2p.pdf")]["field"])
    assert "line_items" in globex_fields and "seller_name" in globex_fields  # done: labelled whole
    assert "2 documents (1 marked done)" in result.coverage
    printed = CliRunner().invoke(app, ["eval", str(out), "--truth", str(out), "--schema", "invoice"])
    assert printed.exit_code == 0 and "values nobody reviewed are not scored" in " ".join(printed.output.split())


FIELDS = ["total", "invoice_date", "line_items", "nope", "", None, 3]
ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(-2, 12), st.text(max_size=12), st.sampled_from(FIELDS),
                     st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asked=st.fixed_dictionaries({}, optional={
    "action": st.one_of(st.sampled_from(["set", "accept", "add_item", "remove_item", "done", "undo"]), ANYTHING),
    "field": st.one_of(st.sampled_from(FIELDS), ANYTHING),
    "list_index": ANYTHING, "item_field": st.one_of(st.sampled_from(["amount", "quantity", "x"]), ANYTHING),
    "new_value": ANYTHING}), endpoint=st.sampled_from(["correct", "preview"]))
def test_any_request_gets_an_answer_that_says_what_is_wrong_never_a_crash(out, asked, endpoint):
    client = client_for(out)  # raises any exception the page meets instead of answering 500
    answer = client.post(f"/api/invoice/{endpoint}", json={"doc_id": doc_of(out, "invoice_acme.pdf"), **asked},
                         headers=WRITE)
    assert answer.status_code in (200, 400, 404, 409, 422), answer.text
    assert ("error" in answer.json()) == (answer.status_code != 200)
