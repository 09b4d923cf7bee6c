"""Fix and rerun: a document that failed for a cause an option governs is read again when a run
brings another value of it (the fix the error message names); --retry-failed reads failures again
on demand; finished documents stay skipped, and a failure left as it was says why. An output
folder read with other settings is not read again unless told (--reread older), and the run says
what that would cost."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pandas as pd
from rich.console import Console
from typer.testing import CliRunner

from docpipe import read_table
from docpipe.cli.app import app
from docpipe.cli.summary import print_summary
from docpipe.core.types import RawGeneration
from docpipe.run.config import RunConfig
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import SAMPLES, corpus_file
from tests.fakes import ConstantEngine, GroundTruthEngine, ProbableTruthEngine
from tests.run.test_protocol import Notes


def _run(folder: Path, out: Path, engine=None, reporter=None, **settings):
    config = RunConfig(input=folder, out=out, budget=settings.pop("budget", 280), render_workers=0, **settings)
    with plain_stages() as stages:
        return execute(config, engine or GroundTruthEngine(SAMPLES), reporter or Notes(), resolve_schema("invoice"),
                       stages)


def _summary(result) -> str:
    console = Console(width=200, record=True)
    print_summary(console, result)
    return " ".join(console.export_text().replace("│", " ").split())


def _latest(out: Path, name: str) -> pd.Series:
    documents = read_table(out, "documents", python_cells=True)
    documents = documents[documents["name"] == name].sort_values("finished_at")
    return documents.iloc[-1]


def test_the_password_the_error_asks_for_reads_the_document_on_the_rerun(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    shutil.copy(corpus_file("weird_pdfs/encrypted/pypdf__r2-user-password.pdf"), folder / "locked.pdf")
    engine = ConstantEngine('{"invoice_number": "R2-1"}')  # any answer: the test is about opening the file
    _run(folder, out, engine)
    failed = _latest(out, "locked.pdf")
    assert (failed["status"], failed["error_category"]) == ("failed", "encrypted") and "--password" in failed["error_message"]
    assert json.loads(failed["failed_with"]) == {"passwords": 0}  # how many, never which

    again = _run(folder, out, engine, passwords=("asdfzxcv",))
    assert again.stats.processed == 1 and again.stats.retried == {"passwords given: 0 -> 1": 1}
    opened = _latest(out, "locked.pdf")
    assert opened["error_category"] != "encrypted" and opened["pages"] >= 1 and len(engine.requests) == 1
    assert read_table(out, "invoice").iloc[0]["invoice_number"] == "R2-1"
    assert "failed before, read again: passwords given: 0 -> 1" in _summary(again)

    third = _run(folder, out, engine, passwords=("asdfzxcv",))
    assert (third.stats.processed, third.stats.already_done) == (0, 1)
    assert "asdfzxcv" not in pd.read_parquet(out / "documents").to_csv()


def test_a_higher_page_limit_reads_a_document_cut_at_the_old_one(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    shutil.copy(SAMPLES / "invoice_globex_2p.pdf", folder)
    _run(folder, out, max_pages=1)
    cut = _latest(out, "invoice_globex_2p.pdf")
    assert (cut["status"], cut["error_category"]) == ("partial", "too_large")

    same = _run(folder, out, max_pages=1)
    assert (same.stats.processed, same.stats.already_done) == (0, 1)
    higher = _run(folder, out, max_pages=4)
    assert higher.stats.processed == 1 and higher.stats.retried == {"--max-pages 1 -> 4": 1}
    assert _latest(out, "invoice_globex_2p.pdf")["status"] == "ok"
    record = read_table(out, "invoice", python_cells=True).iloc[0]
    assert record["run_id"] == higher.run_id and record["name"] == "invoice_globex_2p.pdf"
    assert _run(folder, out, max_pages=4).stats.processed == 0  # finished documents stay skipped


class TokenLimitedEngine(GroundTruthEngine):
    """The right answer, cut where the request's token limit falls (one character a token)."""

    def generate(self, requests):
        out = []
        for r, full in zip(requests, super().generate(requests)):
            cut = len(full.text) > r.max_new_tokens
            text = full.text[: r.max_new_tokens] if cut else full.text
            out.append(RawGeneration(r.doc_id, text, 100, min(len(full.text), r.max_new_tokens),
                                     "length" if cut else "stop", 0.01, page_nos=r.page_nos))
        return out


def test_a_larger_token_limit_reads_a_truncated_answer_again_and_the_same_limit_says_why_not(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    shutil.copy(SAMPLES / "invoice_acme.pdf", folder)
    engine = TokenLimitedEngine(SAMPLES)
    _run(folder, out, engine, max_new_tokens=40)
    assert _latest(out, "invoice_acme.pdf")["error_category"] == "truncated"

    same = _run(folder, out, engine, max_new_tokens=40)
    assert same.stats.processed == 0 and same.stats.staying == {"truncated": 1}
    assert "failed before, left: truncated 1 (same limit: raise --max-new-tokens)" in _summary(same)
    larger = _run(folder, out, engine, max_new_tokens=4096)
    assert larger.stats.retried == {"--max-new-tokens 40 -> 4096": 1}
    assert _latest(out, "invoice_acme.pdf")["status"] == "ok"
    assert read_table(out, "invoice").iloc[0]["invoice_number"] == "INV-2026-0142"


def test_retry_failed_reads_failures_again_on_demand_and_only_those_named(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage\n")
    (folder / "notes.txt").write_text("not a document")
    shutil.copy(SAMPLES / "invoice_acme.pdf", folder)
    _run(folder, out)
    again = _run(folder, out)
    assert again.stats.processed == 0 and again.stats.staying == {"corrupt": 1, "unsupported": 1}
    text = _summary(again)
    assert "failed before, left: corrupt 1 (the file is broken" in text and "unsupported 1" in text

    named = _run(folder, out, retry_failed=("corrupt",))
    assert named.stats.processed == 1 and named.stats.retried == {"--retry-failed corrupt": 1}
    every = _run(folder, out, retry_failed=("all",))
    assert every.stats.processed == 2 and every.stats.already_done == 1  # the invoice that was read stays


def test_another_budget_reads_only_new_files_and_says_what_reading_the_rest_would_cost(samples_copy, tmp_path):
    out = tmp_path / "out"
    first = _run(samples_copy, out, budget=280)
    assert first.stats.processed == 8
    notes = Notes()
    other = _run(samples_copy, out, reporter=notes, budget=560)
    pages = _pages_read(out)
    assert other.stats.processed == 0 and other.stats.older == {"budget 280 (now 560)": 6}
    assert other.stats.older_pages == pages > 6  # six documents, one of them two pages
    said = " ".join(notes.notes)
    assert "6 documents in the output folder were read with other settings" in said and "--reread older" in said
    assert f"read with other settings, left 6 (about {pages} pages; --reread older reads them)" in _summary(other)

    shutil.copy(SAMPLES / "invoice_acme.pdf", samples_copy / "new_one.pdf")  # a new file is read, at 560
    (samples_copy / "new_one.pdf").write_bytes((samples_copy / "new_one.pdf").read_bytes() + b"\n% new\n")
    assert _run(samples_copy, out, budget=560).stats.processed == 1

    reread = _run(samples_copy, out, budget=560, reread="older")
    assert reread.stats.processed == 6 and reread.stats.rereading == {"budget 280 (now 560)": 6}
    budgets = read_table(out, "invoice")["budget"]
    assert set(budgets) == {560}


def _pages_read(out: Path) -> int:
    documents = pd.read_parquet(out / "documents")
    return int(documents.loc[documents["error_category"].isna(), "pages"].sum())


def test_status_says_what_each_part_of_the_folder_was_read_with(samples_copy, tmp_path):
    out = tmp_path / "out"
    _run(samples_copy, out, budget=280)
    pages = _pages_read(out)
    (samples_copy / "later.pdf").write_bytes((SAMPLES / "invoice_acme.pdf").read_bytes() + b"\n% later\n")
    _run(samples_copy, out, budget=560)
    result = CliRunner().invoke(app, ["status", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    assert any(f"invoice ground-truth 280 3 invoice@2 8 {pages} 0" in line for line in lines), result.output
    assert any("invoice ground-truth 560 3 invoice@2 1 1 1" in line for line in lines), result.output  # no answer for it
    assert "read with 2 settings" in result.output and "unsupported" in result.output


def test_a_new_schema_version_reads_again_and_says_so(samples_copy, tmp_path):
    out = tmp_path / "out"
    _run(samples_copy, out)
    pages = _pages_read(out)
    schema = resolve_schema("invoice")
    bumped = dataclasses.replace(schema, version=schema.version + 1)
    config = RunConfig(input=samples_copy, out=out, budget=280, render_workers=0)
    notes = Notes()
    with plain_stages() as stages:
        result = execute(config, GroundTruthEngine(SAMPLES), notes, bumped, stages)
    assert result.stats.processed == 6
    assert result.stats.rereading == {f"schema invoice@{schema.version} (now invoice@{schema.version + 1})": 6}
    assert any(f"reading 6 documents again (about {pages} pages)" in n for n in notes.notes), notes.notes


def test_another_model_leaves_the_archive_as_it_was_read(samples_copy, tmp_path):
    out = tmp_path / "out"
    _run(samples_copy, out)
    upgraded = ProbableTruthEngine(SAMPLES)  # another model's name: another work key for every document
    result = _run(samples_copy, out, upgraded)
    assert result.stats.processed == 0
    assert result.stats.older == {"model ground-truth (now probable-truth)": 6}
    assert set(read_table(out, "invoice")["model"]) == {"ground-truth"}
