"""`docpipe export OUT SCHEMA`: the latest records as JSON Lines or CSV that other systems load
as they are: money as its exact text, dates ISO 8601, line items nested (in CSV as JSON text),
the reviewers' corrections on request, and a clear error for a table OUT does not hold."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.core.vocab import ReviewAction
from docpipe.ingest.discover import sha256_file
from docpipe.output.corrections import correction, record_corrections
from docpipe.output.export import csv_cell, plain
from docpipe.output.reading import read_table
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import SAMPLES
from tests.fakes import GroundTruthEngine

INVOICES = ["invoice_acme.pdf", "invoice_globex_2p.pdf", "invoice_initech_scan.png", "invoice_umbrella_scan.tif"]
ACME = sha256_file(SAMPLES / "invoice_acme.pdf")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    for name in INVOICES:
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    out = folder / "out"
    with plain_stages() as stages:
        config = RunConfig(input=folder, out=out, budget=280, render_workers=0)
        execute(config, GroundTruthEngine(SAMPLES), NoProgress(), resolve_schema("invoice"), stages)
    return out


def _export(out: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["export", str(out), "invoice", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _jsonl(text: str) -> dict[str, dict]:
    lines = text.splitlines()
    return {row["doc_id"]: row for row in map(json.loads, lines)}


def test_json_lines_hold_one_object_per_record_with_exact_money_and_iso_dates(out):
    records = _jsonl(_export(out, "--format", "jsonl"))
    assert len(records) == len(read_table(out, "invoice")) == len(INVOICES)
    acme = records[ACME]
    assert acme["total"] == "1545.8000" and Decimal(acme["total"]) == Decimal("1545.80")  # text: exact
    assert acme["invoice_number"] == "INV-2026-0142" and acme["invoice_date"] == "2026-03-03"
    assert acme["total_page"] == 1 and isinstance(acme["total_confidence"], float | None)
    assert dt.datetime.fromisoformat(acme["extracted_at"]).tzinfo is not None
    items = acme["line_items"]
    amounts = [Decimal(item["amount"]) for item in items]
    assert amounts == [Decimal(698), Decimal("212.5"), Decimal("219.99"), Decimal("297.5")]
    assert items[0]["description_box"]["source"] == "text_layer"
    assert acme["total_box"]["page"] == 1
    assert list(acme) == list(read_table(out, "invoice").columns)  # every column, in the table's order


def test_csv_has_one_row_per_record_with_nested_values_as_json_text(out):
    text = _export(out, "--format", "csv")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    latest = read_table(out, "invoice")
    assert len(frame) == len(latest) and list(frame.columns) == list(latest.columns)
    acme = frame.set_index("doc_id").loc[ACME]
    assert acme["total"] == "1545.8000" and acme["invoice_date"] == "2026-03-03"
    items = json.loads(acme["line_items"])
    assert len(items) == 4 and items[0]["amount"] == "698.0000"
    assert json.loads(acme["total_box"])["page"] == 1
    assert acme["valid"] == "true"


def test_corrected_applies_the_reviewers_corrections(out, tmp_path):
    reviewed = tmp_path / "out"
    shutil.copytree(out, reviewed)
    work_key = read_table(reviewed, "invoice").set_index("doc_id").loc[ACME, "work_key"]
    record_corrections(reviewed, [correction(ACME, work_key, "invoice", "total", ReviewAction.SET, "ana",
                                             new_value="1,600.00", typed_value=Decimal("1600.00"))])
    assert _jsonl(_export(reviewed))[ACME]["total"] == "1545.8000"  # as the model read it
    fixed = _jsonl(_export(reviewed, "--corrected"))
    assert Decimal(fixed[ACME]["total"]) == Decimal("1600.00") and fixed[ACME]["total_raw"] == "1,600.00"
    assert fixed[ACME]["corrected"] == ["total"]
    others = [row for doc_id, row in fixed.items() if doc_id != ACME]
    assert len(others) == 3 and all(row["corrected"] == [] for row in others)


def test_output_writes_the_file_and_nothing_to_stdout(out, tmp_path):
    target = tmp_path / "exports" / "invoices.csv"
    result = CliRunner().invoke(app, ["export", str(out), "invoice", "--format", "csv", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and f"4 invoice records written to {target}" in " ".join(result.stderr.split())
    assert target.read_text(encoding="utf-8") == _export(out, "--format", "csv")
    assert [p.name for p in target.parent.iterdir()] == ["invoices.csv"]  # no temporary file left


def test_an_unknown_table_names_the_tables_out_holds(out):
    result = CliRunner().invoke(app, ["export", str(out), "receipt"])
    assert result.exit_code == 2
    assert "no records of 'receipt'" in result.stderr and "invoice" in result.stderr
    result = CliRunner().invoke(app, ["export", str(out), "invoice", "--format", "xml"])
    assert result.exit_code == 2 and "xml" in result.stderr


def test_cells_keep_their_exact_text():
    assert plain(Decimal("1E+3")) == "1000" and plain(Decimal("0.10")) == "0.10"
    assert plain({"a": [dt.date(2026, 3, 3), float("nan")]}) == {"a": ["2026-03-03", None]}
    assert csv_cell(None) == "" and csv_cell(False) == "false" and csv_cell(0.1) == "0.1"
    assert csv_cell([{"amount": Decimal("2.50")}]) == '[{"amount": "2.50"}]'
