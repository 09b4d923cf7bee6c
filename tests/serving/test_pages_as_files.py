"""--media-dir against a real vLLM server on this host: pages go as PPM files the server reads
(its --allowed-local-media-path), with the same results' shape as pages inside the requests, no
file left behind, and one clear message when the server does not read that folder."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.flows.ingest import ingest
from docpipe.run.config import RunConfig

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

SETTINGS = {"schema_name": "receipt", "max_new_tokens": 300, "max_text_length": 6, "batch_size": 8, "budget": 280}


def _run(samples, out, schemas, server, **extra):
    config = RunConfig(input=samples, out=out, schema_dir=schemas, model="tiny-random", engine="openai",
                       base_urls=(server.base_url,), **{**SETTINGS, **extra})
    return ingest(config)


def test_pages_as_files_give_what_pages_in_requests_give(vllm_server, samples_copy, bounded_schemas, tmp_path):
    inline = _run(samples_copy, tmp_path / "inline", bounded_schemas, vllm_server, image_encoding="png")
    files = _run(samples_copy, tmp_path / "files", bounded_schemas, vllm_server, media_dir=vllm_server.media_dir)

    assert files.stats.categories.get("model_error", 0) == 0 and files.stats.records_valid == 6
    by_file = pd.read_parquet(tmp_path / "files" / "generations").set_index("doc_id").sort_index()
    by_request = pd.read_parquet(tmp_path / "inline" / "generations").set_index("doc_id").sort_index()
    assert (by_file["error"].isna()).all() and (by_file["finish_reason"] == "stop").all()
    # the server read every page (its image tokens are in the prompt) at the size it was rendered
    assert (by_file["prompt_tokens"] == by_request["prompt_tokens"]).all()
    assert inline.stats.records_valid == files.stats.records_valid
    assert list(vllm_server.media_dir.iterdir()) == []  # every page file removed when the run ends


def test_the_cli_leaves_no_page_file_and_no_line_that_says_nothing(vllm_server, samples_copy, tmp_path):
    result = CliRunner().invoke(app, [
        "run", str(samples_copy), "--out", str(tmp_path / "out"), "--engine", "openai", "--model", "tiny-random",
        "--base-url", vllm_server.base_url, "--media-dir", str(vllm_server.media_dir),
        "--max-new-tokens", "24", "--budget", "70",
    ])
    assert result.exit_code == 0, result.output
    assert list(vllm_server.media_dir.iterdir()) == []
    # six documents: most runs never see the server full, learn nothing of its limit and say
    # nothing of it; on a slow host a look may catch some waiting for their prefill, and the line
    # then says what it learnt. Never a line that says nothing ("never seen full", "256 requests").
    said = [line for line in result.output.splitlines() if "requests in flight" in line]
    assert all(re.search(r"\d+ requests in flight, twice the \d+ it ran at once", line) for line in said), said
    assert "never seen full" not in result.output
    generations = pd.read_parquet(tmp_path / "out" / "generations")
    assert len(generations) == 6 and generations["error"].isna().all()


def test_a_folder_the_server_does_not_read_stops_the_run_at_start(vllm_server, samples_copy, tmp_path):
    elsewhere = tmp_path / "not-the-servers-folder"
    elsewhere.mkdir()
    result = CliRunner().invoke(app, [
        "run", str(samples_copy), "--out", str(tmp_path / "out"), "--engine", "openai",
        "--base-url", vllm_server.base_url, "--model", "tiny-random", "--media-dir", str(elsewhere),
    ])
    message, unwrapped = " ".join(result.output.split()), "".join(result.output.split())  # rich wraps paths
    assert result.exit_code == 2, result.output
    assert f"doesnotreadpagefilesfrom{elsewhere}" in unwrapped and f"--media-dir{elsewhere}" in unwrapped
    assert "Traceback" not in message and message.count("error:") == 1
    assert not (tmp_path / "out" / "documents").exists() and list(elsewhere.iterdir()) == []


def test_a_missing_folder_is_named(vllm_server, samples_copy, tmp_path):
    result = CliRunner().invoke(app, [
        "run", str(samples_copy), "--out", str(tmp_path / "out"), "--engine", "openai",
        "--base-url", vllm_server.base_url, "--model", "tiny-random", "--media-dir", str(tmp_path / "nowhere"),
    ])
    assert result.exit_code == 2 and "is not a folder" in " ".join(result.output.split())
