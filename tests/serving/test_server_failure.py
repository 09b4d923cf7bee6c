"""The vLLM server killed in the middle of a run and started again on its port, as an operator (or
systemd) would: the served engine's retries and Prefect's retry of the chunk carry the run over the
gap, and it ends with every document read, none left as model_error. Also: the engine processes
that outlive a killed API server are stopped with its process group."""

from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import pytest

from docpipe.engines.served.openai_engine import OpenAIEngine
from docpipe.engines.served.openai_server import Retry, check_servers
from docpipe.flows.ingest import ingest
from docpipe.output.reading import read_table
from docpipe.run.config import RunConfig
from tests.serving.conftest import restart_on_its_port

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

ANSWERED = '"POST /v1/chat/completions HTTP/1.1" 200'


def _answers_so_far(server) -> int:
    return server.log.read_text(errors="replace").count(ANSWERED)


def _kill_after_an_answer_then_restart(server, tiny_model, seen: dict, deadline_s: float = 600) -> None:
    from docpipe.engines.served.vllm_launch import group_alive

    before, end = _answers_so_far(server), time.monotonic() + deadline_s
    while _answers_so_far(server) == before:
        if time.monotonic() > end:
            return
        time.sleep(0.05)
    os.kill(server.process.pid, signal.SIGKILL)  # the API server only, as a crash would
    seen["killed_at"] = time.monotonic()
    time.sleep(0.5)
    seen["engine_outlived_api_server"] = group_alive(server.process.pid)
    old_group = server.process.pid
    restart_on_its_port(server, tiny_model)  # stops the old group first
    seen["old_group_alive"] = group_alive(old_group)
    seen["restarted_at"] = time.monotonic()


def test_server_killed_mid_run_and_restarted_on_its_port_then_every_document_is_read(
        tiny_model, samples_copy, bounded_schemas, tmp_path, vllm_server):
    out = tmp_path / "out"
    config = RunConfig(input=samples_copy, out=out, schema_dir=bounded_schemas, model="tiny-random", engine="openai",
                       schema_name="receipt", max_new_tokens=300, max_text_length=6, budget=280, max_in_flight=1,
                       base_urls=(vllm_server.base_url,), engine_retries=8)
    # one request at a time, so the kill lands between two documents; a short retry of its own
    engine = OpenAIEngine(check_servers((vllm_server.base_url,), "tiny-random", 1), Retry(attempts=2, first_wait=0.2))
    seen: dict = {}
    operator = threading.Thread(target=_kill_after_an_answer_then_restart, args=(vllm_server, tiny_model, seen))
    operator.start()
    try:
        result = ingest(config, engine=engine)
        finished_at = time.monotonic()
    finally:
        operator.join()
    assert "restarted_at" in seen, "the server was never killed"
    assert seen["engine_outlived_api_server"], "vLLM's engine processes should have outlived the API server"
    assert not seen["old_group_alive"], "the killed server's engine processes were not stopped"
    assert seen["killed_at"] < seen["restarted_at"] < finished_at  # the run went on over the gap

    documents = read_table(out, "documents")
    assert sorted(documents["status"].value_counts().items()) == [("ok", 6), ("skipped", 2)]
    assert "model_error" not in set(documents["error_category"].dropna())
    assert result.stats.records_valid == 6 and not result.stats.categories.get("model_error")
    records = read_table(out, "receipt")
    assert len(records) == 6 and records["valid"].all()
    assert pd.read_parquet(out / "runs")["status"].tolist() == ["completed"]
