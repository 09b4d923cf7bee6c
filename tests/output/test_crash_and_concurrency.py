"""A run killed with SIGKILL and rerun, and two runs at once into one folder: every document
ends with exactly one documents row and one record, and no half-written file is visible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pymupdf
import pytest

from docpipe.output import tables
from docpipe.output.recovery import recover_orphans
from tests.conftest import own_server_env

DOCS = 10


def _inputs(folder: Path) -> Path:
    folder.mkdir()
    for index in range(DOCS):
        doc = pymupdf.open()
        page = doc.new_page(width=612, height=792)
        page.insert_text((72, 72), f"INVOICE NO. {1000 + index}  TOTAL {index}.99", fontsize=14)
        doc.save(folder / f"invoice_{index:02d}.pdf")
    return folder


def _command(inputs: Path, out: Path) -> list[str]:
    # a short lease (renewed every 2 s): the killed run's documents are taken over after 6 s, not 60
    return [sys.executable, "-m", "docpipe", "run", str(inputs), "--out", str(out), "--model", "tiny-random",
            "--batch-size", "2", "--chunk-size", "2", "--budget", "70", "--max-new-tokens", "24", "--max-text-length", "4",
            "--lease-seconds", "6"]


def _env(home: str) -> dict[str, str]:
    # each process its own temporary Prefect server, as a user's runs without a shared server have,
    # and its own Prefect home: temporary servers of two processes on one SQLite file time out
    return own_server_env(PREFECT_HOME=home)


def _check_one_row_and_one_record_per_document(inputs: Path, out: Path) -> None:
    documents = pd.read_parquet(out / "documents")
    assert sorted(documents["source_path"]) == sorted(str(p.resolve()) for p in inputs.iterdir())
    records = pd.read_parquet(out / "records" / "invoice")
    assert len(records) == DOCS and records["doc_id"].is_unique
    generations = pd.read_parquet(out / "generations")
    assert generations["doc_id"].is_unique
    for folder in (out / "documents", out / "records" / "invoice", out / "generations", out / "pages"):
        assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left


@pytest.mark.slow
@pytest.mark.processes
def test_sigkill_in_the_middle_then_rerun(tiny_model, tmp_path, prefect_home):
    inputs, out, home = _inputs(tmp_path / "in"), tmp_path / "out", prefect_home("a")
    process = subprocess.Popen(_command(inputs, out), env=_env(home), start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 400
    while len(list((out / "documents").glob("*.parquet"))) < 2:  # two chunks committed
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the run never wrote a chunk"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    committed = len(pd.read_parquet(out / "documents"))
    assert 0 < committed < DOCS, "the kill did not land in the middle of the run"

    # the killed run's Prefect home: its server is dead, so one server uses the database at a time
    rerun = subprocess.run(_command(inputs, out), env=_env(home), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    _check_one_row_and_one_record_per_document(inputs, out)
    runs = pd.read_parquet(out / "runs")
    assert runs["documents_already_done"].tolist() == [committed]  # the killed run wrote no runs row


@pytest.mark.slow
@pytest.mark.processes
def test_two_runs_at_once_into_one_folder(tiny_model, tmp_path, prefect_home):
    inputs, out = _inputs(tmp_path / "in"), tmp_path / "out"
    runs = [subprocess.Popen(_command(inputs, out), env=_env(prefect_home(name)), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for name in ("a", "b")]
    outputs = [r.communicate(timeout=900)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    _check_one_row_and_one_record_per_document(inputs, out)
    table = pd.read_parquet(out / "runs")
    # claims are per document: the runs may split the folder in any proportion, or one may find it
    # all done; either way each document is read by exactly one of them
    assert sum(table["documents_processed"]) == DOCS
    processed = table["documents_processed"].tolist()
    if min(processed) > 0:  # both read: each waited for the documents the other held
        assert all("waiting for it to finish" in " ".join(o.split()) for o in outputs), outputs


def test_files_of_an_uncommitted_chunk_are_moved_aside(tmp_path):
    out = tmp_path / "out"
    row = {"run_id": "r", "doc_id": "d", "source_path": "p", "page_no": None, "stage": "render",
           "category": "corrupt", "message": "m", "created_at": pd.Timestamp("2026-01-01", tz="UTC")}
    tables.write_rows(out, "errors", [row], tables.ERRORS, "20260101T000000Z-aaaaaa-c00000")
    tables.write_rows(out, "errors", [row], tables.ERRORS, "20260101T000000Z-aaaaaa-c00001")
    doc = {"doc_id": "d", "work_key": "k", "run_id": "r", "source_path": "p", "size_bytes": 1, "kind": "pdf",
           "pages": 1, "schema": "invoice", "status": "failed", "budget": None, "error_category": "corrupt",
           "error_message": "m", "render_seconds": 0.0, "infer_seconds": 0.0,
           "finished_at": pd.Timestamp("2026-01-01", tz="UTC"), "name": "p", "model": "m", "budget_policy": "fixed-70",
           "prompt_version": "v", "task_key": "invoice@1", "failed_with": None,
           "parent_doc_id": None, "path_in_parent": None, "email_from": None, "email_subject": None, "email_date": None, "email_message_id": None}
    tables.write_rows(out, "documents", [doc], tables.DOCUMENTS, "20260101T000000Z-aaaaaa-c00000")
    (out / "errors" / ".part-x.parquet.tmp").write_bytes(b"half a file")
    moved = recover_orphans(out)
    assert len(moved) == 2  # chunk 1's errors file (no documents file) and the temporary file
    assert all(".orphaned" in str(p) for p in moved)
    assert len(tables.read_all(out, "errors")) == 1
