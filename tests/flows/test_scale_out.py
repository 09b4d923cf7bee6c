"""Scale-out on a real Prefect server with two real workers: shards give the tables of one local
run; a worker killed mid-run is reported lost, its shard submitted again, and nothing is lost or
duplicated; a served deployment picks up a file dropped in after it started; a password never
reaches Prefect."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from docpipe import read_table
from docpipe.ingest.discover import iter_files
from tests.flows.conftest import DEPLOYMENT, TINY
from tests.flows.processes import descendants, stop, wait_gone

RECORD_COLUMNS_NOT_COMPARED = {"run_id", "extracted_at"}


def _run_args(site, input_dir: Path, out: Path) -> list[str]:
    return [str(input_dir), "--out", str(out), *TINY, "--password-file", str(site.passwords)]


def _documents(out: Path) -> pd.DataFrame:
    frame = read_table(out, "documents")[["source_path", "doc_id", "status", "error_category"]]
    return frame.sort_values("source_path").reset_index(drop=True)


def _records(out: Path) -> pd.DataFrame:
    frame = read_table(out, "invoice")
    frame = frame[[c for c in frame.columns if c not in RECORD_COLUMNS_NOT_COMPARED]]
    return frame.sort_values("doc_id").reset_index(drop=True)


def _nothing_lost_nothing_duplicated(input_dir: Path, out: Path) -> None:
    every_row = pd.read_parquet(out / "documents")  # plain pandas, no deduplication
    assert sorted(every_row["source_path"]) == sorted(str(p.resolve()) for p in iter_files(input_dir))
    assert pd.read_parquet(out / "records" / "invoice")["doc_id"].is_unique
    assert pd.read_parquet(out / "generations")["doc_id"].is_unique


@pytest.fixture(scope="module")
def local_run(prefect_site, scale_input, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "out"
    result = prefect_site.docpipe("run", *_run_args(prefect_site, scale_input, out))
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_two_shards_on_two_workers_give_the_tables_of_one_local_run(prefect_site, scale_input, local_run, tmp_path):
    out = tmp_path / "sharded"
    result = prefect_site.docpipe("submit", *_run_args(prefect_site, scale_input, out), "--shards", "2",
                                  "--deployment", DEPLOYMENT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("Completed") == 2
    _nothing_lost_nothing_duplicated(scale_input, out)
    pd.testing.assert_frame_equal(_documents(out), _documents(local_run))
    pd.testing.assert_frame_equal(_records(out), _records(local_run))
    runs = pd.read_parquet(out / "runs")  # two runs, each found only its shard
    total = len(list(iter_files(scale_input)))
    assert len(runs) == 2 and runs["documents_found"].sum() == total and (runs["documents_found"] < total).all()
    # each file hashed once: by the submitter, into the file index the shards then read unchanged
    assert f"indexed {total} files" in result.stdout
    assert len(list((out / ".file_index").glob("seg-*.parquet"))) == 1


def _lease_of_worker(out: Path, worker_pid: int) -> dict | None:
    """The lease (run id, pid, flow run) held by a process under this worker, if one is held."""
    family = descendants(worker_pid)
    for lease in (out / "_leases").glob("*.json"):
        try:
            info = json.loads(lease.read_text())
        except (OSError, ValueError):
            continue
        if info["pid"] in family:
            return info
    return None


def test_a_worker_killed_mid_run_is_reported_lost_and_its_shard_submitted_again(prefect_site, scale_input, local_run,
                                                                                tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    out = tmp_path / "killed"
    args = [*_run_args(prefect_site, scale_input, out), "--shards", "2", "--deployment", DEPLOYMENT]
    submit = subprocess.Popen([sys.executable, "-m", "docpipe", "submit", *args, "--resubmit-lost", "1"],
                              env=prefect_site.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        victim = prefect_site.workers[0]
        deadline, lease = time.monotonic() + 300, None
        while time.monotonic() < deadline:  # until the victim's run has committed a document
            lease = lease or _lease_of_worker(out, victim.pid)
            if lease and list((out / "documents").glob(f"part-{lease['run_id']}-c*.parquet")):
                # freeze the run at once: its shard may be a few documents from its end, and a run
                # that ends before the kill below would not be a lost one
                os.kill(lease["pid"], signal.SIGSTOP)
                break
            assert submit.poll() is None, submit.stdout.read()[-3000:]
            time.sleep(0.05)
        assert lease, "the first worker never ran a shard"
        run_id = lease["run_id"]
        family = descendants(victim.pid) | {victim.pid}
        for pid in family:  # the host is lost: the worker and its flow run die at once
            os.kill(pid, signal.SIGKILL)
        victim.wait()
        assert not wait_gone(family, 10)
        committed_by_victim = len(pd.read_parquet(out / "documents").query("run_id == @run_id"))
        assert 0 < committed_by_victim

        # submit sees the lost run (its lease expires: 6 s), marks it Crashed, submits its shard
        # again (the other worker takes it) and ends with every shard completed
        output, _ = submit.communicate(timeout=300)
    finally:
        submit.kill()
    text = " ".join(output.split())
    assert submit.returncode == 0, output[-3000:]
    assert f"was lost (run {run_id} (pid {lease['pid']}" in text and "submitting it again" in text
    with temporary_settings(updates={PREFECT_API_URL: prefect_site.url}), get_client(sync_client=True) as client:
        assert client.read_flow_run(lease["flow_run_id"]).state.name == "Crashed"
    _nothing_lost_nothing_duplicated(scale_input, out)
    pd.testing.assert_frame_equal(_documents(out), _documents(local_run))
    pd.testing.assert_frame_equal(_records(out), _records(local_run))
    runs = pd.read_parquet(out / "runs")
    assert run_id not in set(runs["run_id"])  # the killed run never finished ...
    assert runs["documents_processed"].sum() + committed_by_victim == len(list(iter_files(scale_input)))  # ... and its work counts once


def test_a_served_deployment_reads_a_file_dropped_in_after_it_started(prefect_site, tmp_path):
    from tests.conftest import SAMPLES

    folder, out = tmp_path / "inbox", tmp_path / "served"
    folder.mkdir()
    shutil.copy(SAMPLES / "receipt_cafe.pdf", folder)
    log = tmp_path / "serve.log"
    serve = subprocess.Popen(
        [sys.executable, "-m", "docpipe", "serve", str(folder), "--out", str(out), "--interval", "5",
         "--settle-seconds", "1", "--name", "served-test", *TINY],
        env=prefect_site.env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        while not list((out / "runs").glob("*.parquet")):  # the first scheduled run is done
            assert serve.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no scheduled run finished: " + log.read_text()[-3000:]
            time.sleep(0.5)
        shutil.copy(SAMPLES / "invoice_acme.pdf", folder / "dropped_in.pdf")
        while "2 documents found, 1 already done" not in log.read_text():  # the run that read it has ended
            assert serve.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the dropped-in file was never read: " + log.read_text()[-3000:]
            time.sleep(0.5)
    finally:
        family = descendants(serve.pid) | {serve.pid}
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        stop(wait_gone(family, 10))
        serve.wait(timeout=10)
    documents = pd.read_parquet(out / "documents")
    assert sorted(Path(p).name for p in documents["source_path"]) == ["dropped_in.pdf", "receipt_cafe.pdf"]
    said = [line for line in log.read_text().splitlines() if "docpipe-ingest run" in line]
    assert any("run finished: 1 documents found, 0 already done, 1 read (" in line for line in said), said  # the first run
    assert any("2 documents found, 1 already done, 1 read (" in line for line in said), said  # the dropped-in file


def test_a_password_never_reaches_prefect(prefect_site, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tests.conftest import corpus_file

    secret = "asdfzxcv"  # pypdf__r2-user-password.pdf's password
    folder = tmp_path / "locked"
    folder.mkdir()
    shutil.copy(corpus_file("weird_pdfs/encrypted/pypdf__r2-user-password.pdf"), folder)
    out = tmp_path / "out"
    result = prefect_site.docpipe("run", str(folder), "--out", str(out), *TINY, "--password", secret, "--verbose")
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_table(out, "documents")["error_category"].tolist() != ["encrypted"]  # the password opened it
    with temporary_settings(updates={PREFECT_API_URL: prefect_site.url}), get_client(sync_client=True) as client:
        # this run, read back from the server (the site's other tests leave runs there, some of a
        # served deployment scheduled after this one was created)
        ours = [r for r in client.read_flow_runs() if (r.parameters.get("config") or {}).get("input") == str(folder)]
        assert len(ours) == 1, [r.parameters for r in client.read_flow_runs()]
        flow_run = ours[0]
        stored = [flow_run.model_dump(mode="json"),
                  [r.model_dump(mode="json") for r in client.read_task_runs()],
                  [a.model_dump(mode="json") for a in client.read_artifacts()],
                  [log.model_dump(mode="json") for log in client.read_logs()]]
    assert flow_run.parameters["config"]["passwords"] == ["**********"]
    assert secret not in json.dumps(stored)
    assert secret not in result.stdout + result.stderr
