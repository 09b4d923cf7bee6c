"""The whole path: a folder in, every table out, through the CLI, the Prefect flow and Gemma 4."""

from __future__ import annotations

import json
from decimal import Decimal
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from docpipe import read_table
from docpipe.cli.app import app
from docpipe.flows.ingest import ingest
from docpipe.ingest.discover import iter_files, sha256_file
from docpipe.output import tables
from docpipe.run.config import RunConfig
from docpipe.schema.load import resolve_schema
from tests.conftest import corpus_file
from tests.fakes import GroundTruthEngine

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

TINY_ARGS = [
    "--schema", "invoice", "--model", "tiny-random", "--max-new-tokens", "24", "--batch-size", "4",
    "--budget", "280",
]


def _run(input_dir: Path, out: Path):
    result = CliRunner().invoke(app, ["run", str(input_dir), "--out", str(out), *TINY_ARGS])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def _files(folder: Path, table: str) -> list[Path]:
    return sorted(tables.table_dir(folder, table).glob("*.parquet"))


def test_whole_run_writes_every_table_with_its_documented_types(tiny_model, samples_copy, tmp_path):
    out = tmp_path / "out"
    output = _run(samples_copy, out)
    assert "documents found" in output and "pages / s" in output

    # transcripts come from --task transcribe, corrections from docpipe review, segments from sorting: not from this run
    expected = {name: schema for name, schema in tables.FIXED.items() if name not in ("transcripts", "corrections", "segments")}
    expected["invoice"] = tables.records_schema(resolve_schema("invoice"))
    for table, schema in expected.items():
        files = _files(out, table)
        assert files, f"no {table} table written"
        for path in files:
            assert pq.read_schema(path).remove_metadata() == schema, table
        pd.read_parquet(tables.table_dir(out, table))  # analysts open it as-is

    inputs = list(iter_files(samples_copy))
    documents = pd.read_parquet(out / "documents")
    assert len(documents) == len(inputs)
    assert sorted(documents["source_path"]) == sorted(str(p.resolve()) for p in inputs)
    by_name = documents.assign(name=documents["source_path"].map(lambda p: Path(p).name)).set_index("name")
    assert by_name.loc["ground_truth.json", "status"] == "skipped"
    assert by_name.loc["ground_truth.json", "error_category"] == "unsupported"
    assert by_name.loc["invoice_globex_2p.pdf", "pages"] == 2
    assert by_name.loc["invoice_umbrella_scan.tif", "pages"] == 2

    pages = pd.read_parquet(out / "pages")
    assert len(pages) == 8  # 1 + 2 + 1 + 2 + 1 + 1 sample pages
    assert (pages["soft_tokens"] <= 280).all() and (pages["render_width"] % 48 == 0).all()
    records = pd.read_parquet(out / "records" / "invoice")
    assert len(records) == 6 and records["doc_id"].is_unique
    generations = pd.read_parquet(out / "generations")
    assert (generations["model"] == "tiny-random").all()
    assert (generations["output_tokens"] <= 24).all()
    runs = pd.read_parquet(out / "runs")
    assert runs.loc[0, "documents_processed"] == len(inputs) and runs.loc[0, "status"] == "completed"


@pytest.mark.slow
def test_second_run_reprocesses_nothing_and_adds_no_duplicate(tiny_model, samples_copy, tmp_path):
    out = tmp_path / "out"
    _run(samples_copy, out)
    before = {t: len(tables.read_all(out, t)) for t in ("documents", "pages", "generations", "invoice")}
    output = _run(samples_copy, out)
    after = {t: len(tables.read_all(out, t)) for t in ("documents", "pages", "generations", "invoice")}
    assert after == before
    runs = pd.read_parquet(out / "runs").sort_values("started_at")
    assert runs["documents_processed"].tolist() == [8, 0]
    assert runs["documents_already_done"].tolist() == [0, 8]
    assert "already done (skipped) │ 8" in output or "already done (skipped) 8" in output.replace("│", "")
    assert read_table(out, "invoice")["doc_id"].is_unique


def test_corrupt_and_encrypted_pdfs_fail_alone(tiny_model, samples_copy, tmp_path):
    shutil.copy(corpus_file("weird_pdfs/broken/pdfjs__bug1020226.pdf"), samples_copy / "corrupt.pdf")
    shutil.copy(corpus_file("weird_pdfs/encrypted/pypdf__r4-aes-user-password.pdf"), samples_copy / "locked.pdf")
    out = tmp_path / "out"
    _run(samples_copy, out)
    documents = read_table(out, "documents")
    documents["name"] = documents["source_path"].map(lambda p: Path(p).name)
    rows = documents.set_index("name")
    assert rows.loc["corrupt.pdf", ["status", "error_category"]].tolist() == ["failed", "corrupt"]
    assert rows.loc["locked.pdf", ["status", "error_category"]].tolist() == ["failed", "encrypted"]
    assert "password" in rows.loc["locked.pdf", "error_message"]
    errors = pd.read_parquet(out / "errors")
    assert set(errors.loc[errors["source_path"].str.endswith(("corrupt.pdf", "locked.pdf")), "category"]) == {"corrupt", "encrypted"}
    # every real document still reached the model and got a record
    records = read_table(out, "invoice")
    assert len(records) == 6
    others = rows.drop(["corrupt.pdf", "locked.pdf", "generate.py", "ground_truth.json"])
    assert not others["error_category"].isin(["corrupt", "encrypted", "render_error"]).any()


def _plain(value):
    """A record value as JSON would hold it: dates as ISO text, arrays as lists, NaN as None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, Decimal):  # money is exact; JSON holds it as a number
        return float(value)
    return value


def test_right_answers_become_typed_records_equal_to_the_ground_truth(samples_copy, tmp_path):
    """With an engine that answers like a perfect model, the records equal the ground truth."""
    engine = GroundTruthEngine(samples_copy)
    out = tmp_path / "out"
    result = ingest(RunConfig(input=samples_copy, out=out, schema_name="invoice"), engine=engine)
    assert result.stats.statuses["ok"] == 6 and result.stats.records_valid == 6
    records = read_table(out, "invoice").set_index("doc_id")
    assert records["valid"].all()
    truth = json.loads((samples_copy / "ground_truth.json").read_text())
    schema = resolve_schema("invoice")
    checked = 0
    for name, entry in truth.items():
        if entry["schema"] != "invoice":
            continue
        row = records.loc[sha256_file(samples_copy / name)]
        for field in schema.fields:
            expected = entry["fields"][field.name]
            got = _plain(row[field.name])
            if field.kind == "list":  # items also carry _raw, confidence and page
                got = [{k: item[k] for k in want} for item, want in zip(got, expected)]
            assert got == expected, (name, field.name)
        checked += 1
    assert checked == 4
    assert engine.calls == 6
    ingest(RunConfig(input=samples_copy, out=out, schema_name="invoice"), engine=engine)
    assert engine.calls == 6  # the rerun asked the model nothing
