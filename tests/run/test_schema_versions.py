"""A schema that changes: one output folder read with three versions of a schema (a field's kind
changed, a field added, then removed, a list item's field retyped) reads as one table everywhere
-- read_table, pd.read_parquet, show, eval, review, compact, revalidate -- every column of every
version kept, older values typed again by the newest kind from their printed text; an edited
schema that kept its version is refused with what changed named."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.eval.report import evaluate
from docpipe.output import tables
from docpipe.output import reading
from docpipe.output.compact import compact
from docpipe.output.schema_store import SchemaEdited
from docpipe.review.app import build_review, review_app
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import load_schema
from tests.conftest import SAMPLES
from tests.fakes import ConstantEngine

VERSIONS = {
    1: ("""name: po
version: 1
fields:
  number: {kind: text, max_length: 20}
  tax: {kind: money}
  total: {kind: money}
  lines:
    kind: list
    fields:
      qty: {kind: number}
      amount: {kind: money}
""", {"number": "A-1", "tax": "1,50 €", "total": "16,50 €", "lines": [{"qty": "2", "amount": "15,00 €"}]}),
    2: ("""name: po
version: 2
fields:
  number: {kind: text, max_length: 20}
  tax: {kind: text, description: "the tax as printed, or why there is none"}
  currency: {kind: text, max_length: 8}
  total: {kind: money}
  lines:
    kind: list
    fields:
      qty: {kind: integer}
      amount: {kind: money}
""", {"number": "B-2", "tax": "VAT exempt", "currency": "EUR", "total": "10,00 €",
      "lines": [{"qty": "3", "amount": "10,00 €"}]}),
    3: ("""name: po
version: 3
fields:
  number: {kind: text, max_length: 20}
  tax: {kind: money}
  total: {kind: money}
  lines:
    kind: list
    fields:
      qty: {kind: integer}
      amount: {kind: money}
""", {"number": "C-3", "tax": "2,00 €", "total": "22,00 €", "lines": [{"qty": "4", "amount": "20,00 €"}]}),
}
INPUTS = ["invoice_acme.pdf", "receipt_cafe.pdf"]


def _run(out, folder, tmp_path, version: int, text: str | None = None, answer: dict | None = None):
    path = tmp_path / f"po-v{version}.yaml"
    path.write_text(text or VERSIONS[version][0], encoding="utf-8")
    config = RunConfig(input=folder, out=out, schema_name=str(path), budget=70, render_workers=0)
    with plain_stages() as stages:
        return execute(config, ConstantEngine(json.dumps(answer or VERSIONS[version][1])), NoProgress(),
                       load_schema(path), stages)


@pytest.fixture
def three_versions(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in INPUTS:
        shutil.copy(SAMPLES / name, folder / name)
    out = tmp_path / "out"
    for version in VERSIONS:
        _run(out, folder, tmp_path, version)
    return out, folder


def test_three_versions_read_as_one_table_every_column_kept(three_versions):
    out, _ = three_versions
    rows = tables.read_all(out, "po").sort_values("schema_version")
    assert rows["schema_version"].tolist() == [1, 1, 2, 2, 3, 3]
    by_version = rows.groupby("schema_version").first()
    # tax: money in 1 and 3 (the newest), text in 2: typed again from the printed text
    assert by_version.loc[1, "tax"] == 1.5 and by_version.loc[3, "tax"] == 2.0
    assert pd.isna(by_version.loc[2, "tax"]) and by_version.loc[2, "tax_raw"] == "VAT exempt"  # not money: kept as printed
    assert by_version.loc[2, "currency"] == "EUR" and pd.isna(by_version.loc[3, "currency"])  # removed in 3: kept
    assert [item["qty"] for item in by_version.loc[1, "lines"]] == [2]  # a number then, an integer now
    latest = reading.read_table(out, "po").set_index("schema_version")
    assert set(latest.index) == {3} and "currency" in latest.columns

    # pandas and pyarrow as the README shows them: every column of every version, every row
    frame = pd.read_parquet(out / "records" / "po")
    assert {"currency", "tax_raw", "lines"} <= set(frame.columns) and len(frame) == 6
    assert all(isinstance(v, Decimal) for v in frame["tax"].dropna())  # money: exact amounts
    dataset = ds.dataset(out / "records" / "po")
    assert "currency" in dataset.schema.names and dataset.to_table().num_rows == 6
    assert sorted(p.name.startswith("part-compact-") for p in (out / "records" / "po").glob("*.parquet")) \
        == [False, True]  # the earlier versions' files were rewritten once, when version 3 first ran


def test_show_eval_review_compact_and_revalidate_read_the_folder(three_versions, tmp_path):
    out, _ = three_versions
    shown = CliRunner().invoke(app, ["show", str(out), "po"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "C-3" in shown.output, shown.output
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({name: {"schema": "po", "fields": {"number": "C-3", "tax": "2.00"}} for name in INPUTS}))
    result = evaluate(out, truth, "po")  # the folder knows po: no path needed
    assert result.documents == 2 and result.overall()["exact"] == 1.0
    review = build_review(out, [load_schema(next(tmp_path.glob("po-v3.yaml")))], "ana", "c")
    client = TestClient(review_app(review, "t", "c", None))
    client.headers["Authorization"] = "token t"
    page = client.get("/po/?show=all").text
    doc = page.split("/po/doc/")[1].split("?")[0]
    assert client.get(f"/po/doc/{doc}").status_code == 200
    assert CliRunner().invoke(app, ["revalidate", str(out)]).exit_code == 0
    assert {c.table for c in compact(out)} >= {"records/po"}
    frame = pd.read_parquet(out / "records" / "po")
    assert len(frame) == 12 and "currency" in frame.columns


def test_an_edited_schema_that_kept_its_version_is_refused_naming_what_changed(three_versions, tmp_path):
    out, folder = three_versions
    edited = VERSIONS[3][0].replace("number: {kind: text, max_length: 20}", "number: {kind: text, max_length: 30}")
    with pytest.raises(SchemaEdited, match=r"po@3 is not the po@3 .*field number: max_length 20 -> 30.*version: 4"):
        _run(out, folder, tmp_path, 3, edited)
    path = tmp_path / "po-v3.yaml"
    path.write_text(edited, encoding="utf-8")
    refused = CliRunner().invoke(app, ["run", str(folder), "--schema", str(path), "--out", str(out),
                                       "--model", "tiny-random"])
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2 and "max_length 20 -> 30" in said and "Traceback" not in said
    listy = VERSIONS[3][0].replace("version: 3", "version: 4").replace("  tax: {kind: money}\n",
                                                                      "  tax:\n    kind: list\n    fields:\n"
                                                                      "      rate: {kind: number}\n")
    with pytest.raises(SchemaEdited, match="cannot turn into or out of a list"):
        _run(out, folder, tmp_path, 4, listy, VERSIONS[3][1])


def test_a_folder_an_older_docpipe_wrote_with_two_types_still_reads(tmp_path):
    """Before the folder kept its schemas: files of version 1 (tax money) and version 2 (tax
    text) side by side, read and compacted by the Arrow types alone."""
    meta = [pa.field(n, t) for n, t in tables.RECORD_META]
    old = pa.schema([*meta, ("tax", pa.float64()), ("tax_raw", pa.string())])
    new = pa.schema([*meta, ("tax", pa.string())])
    base = {f.name: None for f in meta} | {"extracted_at": pd.Timestamp("2026-01-01", tz="UTC")}
    tables.write_rows(tmp_path, "po", [base | {"doc_id": "a", "schema_version": 1, "tax": 1.5, "tax_raw": "1,50 €"}],
                      old, "v1-c00000")
    tables.write_rows(tmp_path, "po", [base | {"doc_id": "b", "schema_version": 2, "tax": "exempt"}], new, "v2-c00000")
    with pytest.raises(pa.ArrowTypeError):  # what an older docpipe's reader did here
        pa.concat_tables([ds.dataset(p).to_table() for p in (tmp_path / "records" / "po").glob("*")],
                         promote_options="default")
    read = reading.read_table(tmp_path, "po").set_index("doc_id")
    assert read.loc["a", "tax"] == "1,50 €" and read.loc["b", "tax"] == "exempt"  # the newest type, as printed


def test_money_written_as_float64_by_an_older_docpipe_becomes_exact_at_the_next_run(tmp_path):
    """Amounts were float64 before they were exact: the next run rewrites the table once, each
    amount typed again from its printed text, so every file has one type and pd.read_parquet reads."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "invoice_acme.pdf", folder / "invoice_acme.pdf")
    out = tmp_path / "out"
    _run(out, folder, tmp_path, 1)
    [written] = (out / "records" / "po").glob("*.parquet")
    table = pq.read_table(written)
    floats = table.schema
    for name in ("tax", "total"):  # as an older docpipe wrote them
        floats = floats.set(floats.get_field_index(name), pa.field(name, pa.float64()))
    old = pa.Table.from_arrays([table[n].cast(pa.float64()) if n in ("tax", "total") else table[n]
                                for n in table.column_names], schema=floats)
    pq.write_table(old, written)
    shutil.rmtree(out / "_schemas")  # nor did it keep its schemas
    assert reading.read_table(out, "po")["total"].iloc[0] == Decimal("16.5")  # docpipe's reader already reads it

    shutil.copy(SAMPLES / "receipt_cafe.pdf", folder / "receipt_cafe.pdf")
    _run(out, folder, tmp_path, 1)  # the same version, one new document
    frame = pd.read_parquet(out / "records" / "po")
    assert len(frame) == 2 and all(isinstance(v, Decimal) for v in frame["total"])
    assert set(frame["total"]) == {Decimal("16.5")}  # from '16,50 €', exactly
    assert {pq.read_schema(p).field("total").type for p in (out / "records" / "po").glob("*.parquet")} \
        == {pa.decimal128(38, 4)}


def test_one_way_to_name_a_schema_in_every_command(three_versions, tmp_path, monkeypatch):
    """The folder was read with po-v*.yaml files: every command takes the name the folder knows,
    or the file's path, the same way."""
    out, _ = three_versions
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({name: {"schema": "po", "fields": {"number": "C-3"}} for name in INPUTS}))
    for schema in ("po", str(tmp_path / "po-v3.yaml")):
        scored = CliRunner().invoke(app, ["eval", str(out), "--truth", str(truth), "--schema", schema])
        assert scored.exit_code == 0, scored.output
        assert CliRunner().invoke(app, ["calibration", str(out), "--schema", schema]).exit_code == 0
        assert CliRunner().invoke(app, ["revalidate", str(out), "--schema", schema]).exit_code == 0
        served = {}
        from docpipe.cli import announced_server

        monkeypatch.setattr(announced_server, "serve_announced", lambda app_, *args: served.update(app=app_))
        reviewed = CliRunner().invoke(app, ["review", str(out), "--schema", schema])
        assert reviewed.exit_code == 0, reviewed.output
        assert list(served["app"].app.state.review.backlogs) == ["po"]
    unknown = CliRunner().invoke(app, ["eval", str(out), "--truth", str(truth), "--schema", "purchase"])
    assert unknown.exit_code == 2 and "po" in unknown.output and "Traceback" not in unknown.output
