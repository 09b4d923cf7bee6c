"""The queue: pages and filters, the next and previous document, documents marked done leaving the
to-review queue, a random sample of confident documents, one tab per schema, new runs seen at once;
and no view but calibration reads a whole table."""

from __future__ import annotations

import re
import shutil

import pyarrow.parquet as pq
import pytest

from docpipe.output import table_cache, tables
from docpipe.output import reading
from docpipe.output.review_samples import drawn
from docpipe.review.backlog import PER_PAGE, SHOWS, Backlog, Filter
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import SAMPLES
from tests.fakes import ProbableTruthEngine
from tests.review.conftest import INVOICES, WRITE, client_for, doc_of


def _linked(page: str) -> list[str]:
    return re.findall(r"/invoice/doc/([0-9a-f]{64})", page)


def _backlog(out):
    review = client_for(out).app.app.state.review
    return review.backlogs["invoice"]


def test_least_certain_first_filters_and_the_next_document(out):
    client = client_for(out)
    backlog = _backlog(out)
    frame = backlog.frame().set_index("doc_id")
    listed = _linked(client.get("/invoice/").text)
    assert len(listed) == 3
    lowest = [frame.loc[d, "lowest_confidence"] for d in listed]
    assert lowest == sorted(lowest)  # least certain first
    by_file = _linked(client.get("/invoice/?order=file").text)
    assert [frame.loc[d, "name"] for d in by_file] == sorted(INVOICES)
    name = max((c for c in frame.columns if c.endswith("_confidence")), key=lambda c: frame[c].nunique())
    values = frame[name]
    assert values.nunique() > 1  # a field whose confidence tells the documents apart
    cut = float(values.max())
    below = _linked(client.get(f"/invoice/?field={name.removesuffix('_confidence')}&below={cut}").text)
    assert set(below) == set(values[values < cut].index) and 0 < len(below) < 3
    assert [values[d] for d in below] == sorted(values[d] for d in below)  # that field's least certain first
    assert client.get("/invoice/?show=nonsense").status_code == 400
    assert client.get("/invoice/?field=nope").status_code == 400

    first, second = listed[0], listed[1]
    page = client.get(f"/invoice/doc/{first}?show=todo&order=least_certain").text
    assert f"data-next='/invoice/doc/{second}?show=todo&amp;order=least_certain'" in page
    assert client.post("/api/invoice/correct", json={"doc_id": first, "action": "done"}, headers=WRITE).status_code == 200
    assert _linked(client.get("/invoice/").text) == listed[1:]  # done: out of the to-review queue
    assert _linked(client.get("/invoice/?show=done").text) == [first]
    previous = client.get(f"/invoice/doc/{listed[2]}?show=all").text
    assert f"data-prev='/invoice/doc/{second}?show=all&amp;order=least_certain'" in previous and "data-next=''" in previous


def _copies(out, count: int) -> list[str]:
    """`count` more documents, copies of one record, committed as one chunk of a run (its
    documents file written, as a run's chunk is)."""
    import pyarrow as pa

    records = next((out / "records" / "invoice").glob("*.parquet"))
    ids = [f"{i:064x}" for i in range(count)]
    copies = pq.read_table(records).take([0] * count).set_column(0, "doc_id", pa.array(ids))
    documents = next((out / "documents").glob("*.parquet"))
    rows = pq.read_table(documents).take([0] * count).set_column(0, "doc_id", pa.array(ids))
    work_keys = pa.array([f"copy-{i}" for i in range(count)])
    copies = copies.set_column(copies.schema.get_field_index("work_key"), "work_key", work_keys)
    tables.write_parquet(copies, records.with_name("part-copies-c00000-00000000.parquet"))
    rows = rows.set_column(rows.schema.get_field_index("work_key"), "work_key", work_keys)
    tables.write_parquet(rows, documents.with_name("part-copies-c00000-00000000.parquet"))
    return ids


def test_the_queue_pages_through_a_long_backlog(out):
    count = PER_PAGE + 10
    _copies(out, count)
    client = client_for(out)
    first = client.get("/invoice/?show=all").text
    assert len(_linked(first)) == PER_PAGE and "page 1 of 2" in first
    second = client.get("/invoice/?show=all&page=2").text
    assert len(_linked(second)) == count + 3 - PER_PAGE
    assert not set(_linked(first)) & set(_linked(second))


def test_a_random_sample_of_confident_documents(out):
    backlog = _backlog(out)
    frame = backlog.frame()
    above = float(frame["lowest_confidence"].min())
    chosen = backlog.draw_sample(2, above, seed=7)
    assert len(chosen) == 2 and set(chosen) <= set(frame[frame["lowest_confidence"] >= above]["doc_id"])
    assert {d["doc_id"] for d in drawn(out, "invoice")} == set(chosen)
    client = client_for(out)
    assert set(_linked(client.get("/invoice/?show=sample").text)) == set(chosen)
    more = backlog.draw_sample(5, above, seed=7)  # never the same document twice
    assert not set(more) & set(chosen) and len(more) == 1


def test_each_schema_has_its_tab_and_a_new_run_shows_at_once(out, tmp_path):
    client = client_for(out, schemas=("invoice", "receipt"))
    assert "0 documents in this queue" in client.get("/receipt/").text  # offered before it has records
    assert "href='/receipt/'" in client.get("/invoice/").text
    folder = tmp_path / "receipts"
    folder.mkdir()
    shutil.copy(SAMPLES / "receipt_cafe.pdf", folder / "receipt_cafe.pdf")
    with plain_stages() as stages:
        execute(RunConfig(input=folder, out=out, budget=280, render_workers=0), ProbableTruthEngine(SAMPLES),
                NoProgress(), resolve_schema("receipt"), stages)
    receipts = client.get("/receipt/").text  # the same page, still running: the new run's records are there
    assert "receipt_cafe.pdf" in receipts
    receipt = re.findall(r"/receipt/doc/([0-9a-f]{64})", receipts)[0]
    assert "merchant_name" in client.get(f"/receipt/doc/{receipt}").text


def test_views_read_what_they_show_not_the_tables(out, monkeypatch):
    client = client_for(out)
    acme = doc_of(out, "invoice_acme.pdf")
    client.get("/invoice/")  # the first view reads the queue's columns

    def whole_table(*args, **kwargs):
        raise AssertionError("a view read a whole table")

    monkeypatch.setattr(tables, "read_arrow", whole_table)
    for name in ("read_arrow", "read_table", "latest_records"):  # the users' reader, and what it reads with
        monkeypatch.setattr(reading, name, whole_table)
    reads = []
    real = table_cache.pq.ParquetFile

    class Counted(real):
        def read_row_group(self, i, *args, **kwargs):
            reads.append(i)
            return super().read_row_group(i, *args, **kwargs)

    monkeypatch.setattr(table_cache.pq, "ParquetFile", Counted)
    assert client.get("/invoice/?show=all").status_code == 200
    assert reads == []  # the queue: from memory
    assert client.get(f"/invoice/doc/{acme}").status_code == 200
    assert reads == [0]  # a document: its record's row group alone
    assert client.post("/api/invoice/correct", json={"doc_id": acme, "action": "accept", "field": "total"},
                       headers=WRITE).status_code == 200
    assert client.get("/invoice/?show=all").status_code == 200


@pytest.mark.parametrize("show", SHOWS)
def test_every_queue_answers_on_an_empty_folder_of_corrections(out, show):
    backlog: Backlog = _backlog(out)
    records = reading.read_table(out, "invoice")
    expected = {"todo": 3, "all": 3, "invalid": int((~records["parsed"]).sum()), "done": 0, "sample": 0,
                "incomplete": int((records["parsed"] & ~records["complete"]).sum()),
                "inconsistent": int((records["parsed"] & records["complete"] & ~records["consistent"]).sum())}
    assert len(backlog.queue(Filter(show))) == expected[show]


def test_records_with_a_problem_come_first(out):
    client = client_for(out)
    records = reading.read_table(out, "invoice").set_index("doc_id")
    listed = _linked(client.get("/invoice/").text)
    ranks = [0 if not records.loc[d, "parsed"] else 1 if not records.loc[d, "complete"] else
             2 if not records.loc[d, "consistent"] else 3 for d in listed]
    assert ranks == sorted(ranks)


def test_compaction_under_a_running_page_loses_no_record_and_no_correction(out):
    from docpipe.output.compact import RECORD_GROUP, compact

    _copies(out, RECORD_GROUP + 500)
    client = client_for(out)
    acme = doc_of(out, "invoice_acme.pdf")
    for value in ("$1.00", "$2.00"):  # two corrections files
        client.post("/api/invoice/correct", json={"doc_id": acme, "action": "set", "field": "total", "new_value": value},
                    headers=WRITE)
    before = _linked(client.get("/invoice/?show=all&order=file").text)
    assert {c.table for c in compact(out)} >= {"corrections", "records/invoice"}
    assert len(list((out / "corrections").glob("*.parquet"))) == 1
    assert _linked(client.get("/invoice/?show=all&order=file").text) == before
    page = client.get(f"/invoice/doc/{acme}").text
    assert "<span class='shown'>2.00</span>" in page  # the latest correction, after compaction
    [records] = (out / "records" / "invoice").glob("part-compact-*.parquet")
    meta = pq.ParquetFile(records).metadata
    assert meta.num_row_groups >= 2 and max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) <= RECORD_GROUP
    last = f"{RECORD_GROUP + 499:064x}"  # a record in the compacted file's last row group
    assert client.get(f"/invoice/doc/{last}").status_code == 200
