"""Many runs write into one output folder: a live run's files are never moved, a dead run's are;
a dead run's claims are taken over, a live run's are not; compaction leaves every reader with
exactly the rows there are, and plain pandas still reads the tables."""

from __future__ import annotations

import json
import threading
import time

import pandas as pd

from docpipe.output import tables
from docpipe.output.claims import holder as claim_holder
from docpipe.output.claims import try_claim
from docpipe.output.compact import compact
from docpipe.output.lease import Lease, is_live, lease_path
from docpipe.output.recovery import recover_orphans

TS = pd.Timestamp("2026-01-01", tz="UTC")


def _error(run: str) -> dict:
    return {"run_id": run, "doc_id": "d", "source_path": "p", "page_no": None, "stage": "render",
            "category": "corrupt", "message": "m", "created_at": TS}


def _document(run: str, n: int) -> dict:
    return {"doc_id": f"d{n}", "work_key": f"k{n}", "run_id": run, "source_path": f"p{n}", "size_bytes": 1,
            "kind": "pdf", "pages": 1, "schema": "invoice", "status": "failed", "budget": None,
            "error_category": "corrupt", "error_message": "m", "render_seconds": 0.0, "infer_seconds": 0.0,
            "finished_at": TS, "name": f"p{n}", "model": "m", "budget_policy": "fixed-70", "prompt_version": "v",
            "task_key": "invoice@1", "failed_with": None,
           "parent_doc_id": None, "path_in_parent": None, "email_from": None, "email_subject": None, "email_date": None, "email_message_id": None}


def _dead_lease(out, run: str) -> None:
    path = lease_path(out, run)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run_id": run, "pid": 1, "host": "gone", "expires_at": time.time() - 1}))


def test_recovery_moves_a_dead_runs_uncommitted_chunk_and_leaves_a_live_runs(tmp_path):
    out = tmp_path / "out"
    live, dead = "20260101T000000Z-aaaaaa", "20260101T000000Z-bbbbbb"
    _dead_lease(out, dead)
    with Lease(out, live, seconds=30):
        tables.write_rows(out, "errors", [_error(live)], tables.ERRORS, f"{live}-c00000")
        tables.write_rows(out, "errors", [_error(dead)], tables.ERRORS, f"{dead}-c00000")
        (out / "errors" / f".part-{live}-c00001-0123abcd.parquet.tmp").write_bytes(b"being written")
        moved = recover_orphans(out)
        assert [p.name.split("-c0")[0] for p in moved] == [f"part-{dead}"]
        assert (out / "errors" / f".part-{live}-c00001-0123abcd.parquet.tmp").exists()
        assert set(tables.read_all(out, "errors")["run_id"]) == {live}
    assert not lease_path(out, live).exists()  # a run that ends gives its lease back
    assert len(recover_orphans(out)) == 2  # now the ended run's uncommitted files are orphans too


def test_a_run_id_that_looks_like_a_chunk_tag_keeps_its_runs_row(tmp_path):
    out = tmp_path / "out"
    (out / "runs").mkdir(parents=True)
    (out / "runs" / "part-20260101T000000Z-c01234-0123abcd.parquet").write_bytes(b"x")
    assert recover_orphans(out) == []


def test_a_lease_is_renewed_while_held(tmp_path):
    with Lease(tmp_path, "r1", seconds=0.6):
        time.sleep(1.5)  # more than twice its length: only renewal keeps it live
        assert is_live(tmp_path, "r1")
    assert not is_live(tmp_path, "r1")


def test_claims_hold_while_their_run_lives_and_pass_on_when_it_died(tmp_path):
    out = tmp_path / "out"
    with Lease(out, "run-a", seconds=30):
        assert try_claim(out, "key1", "run-a") is None
        holder = try_claim(out, "key1", "run-b")
        assert holder is not None and holder.run_id == "run-a"
    _dead_lease(out, "run-a")  # run-a's lease ended without releasing its claim
    with Lease(out, "run-b", seconds=30):
        assert try_claim(out, "key1", "run-b") is None
        assert try_claim(out, "key1", "run-c").run_id == "run-b"
    assert claim_holder(out, "key1") == "run-b"


def test_compaction_while_readers_read_and_a_live_run_writes(tmp_path):
    out = tmp_path / "out"
    committed = []
    for index in range(30):
        run = f"20260101T0000{index:02d}Z-cafe00"
        tag = f"{run}-c00000"
        tables.write_rows(out, "errors", [_error(run)], tables.ERRORS, tag)
        tables.write_rows(out, "documents", [_document(run, index)], tables.DOCUMENTS, tag)
        committed.append(run)
    writer = "20260102T000000Z-beef00"
    seen, failures, stop = [], [], threading.Event()

    def read_again_and_again():
        while not stop.is_set():
            try:
                seen.append((len(tables.read_all(out, "documents")), len(tables.read_all(out, "errors"))))
            except Exception as exc:  # noqa: BLE001 -- any failure of a reader is the finding
                failures.append(exc)

    reader = threading.Thread(target=read_again_and_again)
    with Lease(out, writer, seconds=30):
        tables.write_rows(out, "errors", [_error(writer)], tables.ERRORS, f"{writer}-c00000")  # not committed yet
        reader.start()
        time.sleep(0.2)
        done = compact(out)
        compact(out)  # again: one compacted file replaces the other
        time.sleep(0.2)
        stop.set()
        reader.join()
        assert not failures, failures
        assert seen and set(seen) == {(30, 31)}  # never a row twice, never one missing
        assert {d.table: d.files_before for d in done} == {"documents": 30, "errors": 30}
        errors_files = sorted(p.name for p in (out / "errors").glob("*.parquet"))
        assert len(errors_files) == 2 and any(writer in name for name in errors_files)  # the live chunk left alone
        assert recover_orphans(out) == []  # compacted chunks still count as committed
    assert len(pd.read_parquet(out / "documents")) == 30  # plain pandas reads the folder
    assert len(list((out / "documents").glob("*.parquet"))) == 1
    assert sorted(pd.read_parquet(out / "documents")["doc_id"]) == sorted(f"d{i}" for i in range(30))
