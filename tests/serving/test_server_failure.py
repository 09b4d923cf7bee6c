"""A vLLM server killed in the middle of a run: its documents are model_error, the others are kept,
and the next run reads exactly those again. Also: stopping the server's process group stops the
engine processes that outlive a killed API server."""

from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import pytest

from docpipe.engines.openai_engine import OpenAIEngine
from docpipe.engines.openai_server import Retry, check_servers
from docpipe.flows.ingest import ingest
from docpipe.output.tables import read_table
from docpipe.run.config import RunConfig

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

ANSWERED = '"POST /v1/chat/completions HTTP/1.1" 200'


def _kill_after_first_answer(server, killed: threading.Event, deadline_s: float = 600) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if ANSWERED in server.log.read_text(errors="replace"):
            os.kill(server.process.pid, signal.SIGKILL)  # the API server only, as a crash would
            killed.set()
            return
        time.sleep(0.05)


def _engine(url: str) -> OpenAIEngine:
    # one request at a time, so the kill lands between two documents; a short retry budget
    return OpenAIEngine(check_servers((url,), "tiny-random", 1), Retry(attempts=2, first_wait=0.2, timeout=300))


def test_server_killed_mid_run_then_a_rerun_completes_the_documents(tiny_model, samples_copy, bounded_schemas, tmp_path,
                                                                    vllm_server, spare_vllm_server):
    from docpipe.engines.vllm_launch import group_alive, stop_server

    out = tmp_path / "out"
    config = RunConfig(input=samples_copy, out=out, schema_dir=bounded_schemas, model="tiny-random", engine="openai",
                       schema_name="receipt", max_new_tokens=300, max_text_length=6, budget=280, max_in_flight=1)
    server = spare_vllm_server  # started with the same options as the session's
    try:
        killed = threading.Event()
        killer = threading.Thread(target=_kill_after_first_answer, args=(server, killed), daemon=True)
        killer.start()
        first = ingest(config.model_copy(update={"base_urls": (server.base_url,)}), engine=_engine(server.base_url))
        killer.join(timeout=5)
        assert killed.is_set()
        assert group_alive(server.process.pid), "vLLM's engine processes should have outlived the API server"
    finally:
        stop_server(server.process)
    assert not group_alive(server.process.pid), "the orphaned engine processes were not stopped"

    documents = read_table(out, "documents").set_index("doc_id")
    read = documents[documents["status"] != "skipped"]
    failed = read[read["error_category"] == "model_error"]
    assert len(read) == 6 and 1 <= len(failed) <= 5, read[["status", "error_category"]]
    assert (read.drop(index=failed.index)["status"] == "ok").all()
    assert (failed["status"] == "failed").all() and failed["error_message"].str.contains("Connection refused").all()
    assert first.stats.categories.get("model_error") == len(failed)

    # the rerun, on another server (the session's, started with the same options)
    rerun = config.model_copy(update={"base_urls": (vllm_server.base_url,)})
    second = ingest(rerun, engine=_engine(vllm_server.base_url))
    assert second.stats.processed == len(failed) and second.stats.already_done == 6 - len(failed) + 2
    latest = read_table(out, "documents")
    assert sorted(latest["status"].value_counts().items()) == [("ok", 6), ("skipped", 2)]
    records = read_table(out, "receipt")
    assert len(records) == 6 and records["valid"].all()
    assert set(records["doc_id"]) >= set(failed.index)
    assert pd.read_parquet(out / "runs")["status"].tolist().count("completed") == 2
