"""Learning from corrections on CPU: the tiny random Gemma 4, tuned with LoRA on four reviewed
sample invoices (a schema of their four head values, so it runs in seconds), writes the reviewed
values back through the real engine and grammar with the adapter (exact match >= 0.9) where the
base model writes none of them; the adapter folder says what it was trained on; a run with an
adapter made for another schema or model is refused with one message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.eval.report import ALL_FIELDS
from docpipe.run.adapters import MANIFEST, read_manifest
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.run.tasks.choose import task_for
from docpipe.schema.load import load_schema
from docpipe.tune.measure import before_and_after
from tests.conftest import SAMPLES
from tests.fakes import GroundTruthEngine
from tests.review.conftest import WRITE, client_for

INVOICES = ["invoice_acme.pdf", "invoice_globex_2p.pdf", "invoice_initech_scan.png", "invoice_umbrella_scan.tif"]
HEAD = """name: invoice_head
version: 1
title: invoice
description: The head of an invoice.
budget: 140
fields:
  invoice_number: {kind: text, max_length: 24, description: "The invoice's number"}
  invoice_date: {kind: date, description: "Date of issue"}
  currency: {kind: text, max_length: 8, description: "ISO 4217 code"}
  total: {kind: money, description: "Total due"}
"""
SETTINGS = {"budget": 140, "max_new_tokens": 200, "batch_size": 4}


@pytest.fixture
def reviewed(tmp_path) -> tuple[Path, Path]:
    """(OUT with the four invoices read and every one marked done by a reviewer, the schema file)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in INVOICES:
        shutil.copy(SAMPLES / name, folder / name)
    schema_file = tmp_path / "invoice_head.yaml"
    schema_file.write_text(HEAD, encoding="utf-8")
    out = tmp_path / "out"
    config = RunConfig(input=folder, out=out, schemas=(str(schema_file),), render_workers=0, **SETTINGS)
    with plain_stages() as stages:
        execute(config, GroundTruthEngine(SAMPLES), NoProgress(), task_for(config), stages)
    client = client_for(out, schemas=())  # no built-in schema: the page gets the file's below
    from docpipe.review.app import build_review, review_app
    from docpipe.review.guard import loopback_hosts
    from starlette.testclient import TestClient
    from tests.review.conftest import COOKIE, CSRF, PORT, TOKEN

    review = build_review(out, [load_schema(schema_file)], "ana", CSRF)
    client = TestClient(review_app(review, TOKEN, COOKIE, loopback_hosts(PORT)), base_url=f"http://127.0.0.1:{PORT}",
                        follow_redirects=False)
    client.get(f"/?token={TOKEN}")
    for doc_id in review.backlogs["invoice_head"].frame()["key"]:
        assert client.post("/api/invoice_head/correct", headers=WRITE,
                           json={"doc_id": doc_id, "action": "done"}).status_code == 200
    return out, schema_file


def test_too_few_reviewed_documents_is_one_message(reviewed, tmp_path):
    out, schema_file = reviewed
    result = CliRunner().invoke(app, ["finetune", str(out), "--schema", str(schema_file), "--model", "tiny-random",
                                      "--adapter-out", str(tmp_path / "a"), "--min-documents", "5"])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "4 reviewed invoice_head documents can be trained on" in said and "at least 5" in said


@pytest.mark.slow
@pytest.mark.cpu_heavy
def test_the_tiny_model_learns_its_reviewed_training_set(reviewed, tmp_path):
    out, schema_file = reviewed
    adapter = tmp_path / "adapter"
    result = CliRunner().invoke(app, [
        "finetune", str(out), "--schema", str(schema_file), "--model", "tiny-random", "--adapter-out", str(adapter),
        "--epochs", "150", "--learning-rate", "0.005", "--alpha", "64", "--held-out", "0"])
    assert result.exit_code == 0, result.output
    manifest = read_manifest(adapter)
    assert (manifest.base_model, manifest.schema, manifest.schema_version, manifest.budgets) == (
        "tiny-random", "invoice_head", 1, [140])
    assert sorted(manifest.trained_on) == sorted(INVOICES) and manifest.held_out == []
    assert len(manifest.losses) == 150 and manifest.losses[-1] < manifest.losses[0]
    assert json.loads((adapter / MANIFEST).read_text())["hyperparameters"]["rank"] == 16
    # the same documents, read by the base model and with the adapter, scored against the reviews
    comparison = before_and_after(out, load_schema(schema_file), str(schema_file), INVOICES, "tiny-random", adapter,
                                  tmp_path / "measure", SETTINGS)
    base, tuned = comparison.results
    exact = lambda r: r.summary.set_index("field").loc[ALL_FIELDS, "exact"]  # noqa: E731
    assert exact(tuned) >= 0.9, tuned.details[["truth_key", "field", "truth", "prediction", "exact"]].to_string()
    assert exact(base) <= 0.1


def test_an_adapter_is_refused_by_a_run_it_was_not_trained_for(reviewed, tmp_path):
    out, schema_file = reviewed
    adapter = tmp_path / "adapter"
    result = CliRunner().invoke(app, ["finetune", str(out), "--schema", str(schema_file), "--model", "tiny-random",
                                      "--adapter-out", str(adapter), "--epochs", "1", "--held-out", "0"])
    assert result.exit_code == 0, result.output
    config = RunConfig(input=tmp_path, out=tmp_path / "other", schemas=("invoice",), adapter=adapter)
    with pytest.raises(ValueError, match=r"trained for schema invoice_head@1 \(this run: invoice@\d\)"):
        task_for(config, model="tiny-random")
    same = RunConfig(input=tmp_path, out=tmp_path / "other", schemas=(str(schema_file),), adapter=adapter)
    with pytest.raises(ValueError, match=r"trained for model tiny-random \(this run: google/gemma-4-E2B-it\)"):
        task_for(same, model="google/gemma-4-E2B-it")
    assert task_for(same, model="tiny-random").key.startswith("invoice_head@1+adapter-")  # read again with it
    with pytest.raises(ValueError, match="not an adapter of docpipe finetune"):
        task_for(RunConfig(input=tmp_path, out=tmp_path / "o", schemas=(str(schema_file),), adapter=tmp_path))


def test_finetune_ends_by_scoring_the_base_model_and_the_adapter_on_the_held_out_documents(reviewed, tmp_path):
    out, schema_file = reviewed
    adapter = tmp_path / "adapter"
    result = CliRunner().invoke(app, ["finetune", str(out), "--schema", str(schema_file), "--model", "tiny-random",
                                      "--adapter-out", str(adapter), "--epochs", "1", "--held-out", "0.25"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    manifest = read_manifest(adapter)
    assert len(manifest.trained_on) == 3 and len(manifest.held_out) == 1
    assert "training on 3 reviewed invoice_head documents, 1 held out" in result.output
    table = result.output[result.output.index("held-out reviewed documents"):]
    assert "base" in table and "adapter" in table and "exact" in table
