"""`docpipe eval` on real runs over samples/: a perfect model scores 1.0 everywhere, the tiny random
Gemma 4 scores low and its scores are what a hand count gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.eval import evaluate
from docpipe.eval.compare import compare
from docpipe.eval.report import ALL_FIELDS
from docpipe.flows.ingest import ingest
from docpipe.ingest.discover import sha256_file
from docpipe.output.reading import read_table
from docpipe.run.config import RunConfig
from tests.conftest import SAMPLES
from tests.fakes import GroundTruthEngine

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("eval") / "input"
    shutil.copytree(SAMPLES, target, ignore=shutil.ignore_patterns("packet"))  # the six; the packet: test_sorting_eval
    return target


@pytest.fixture(scope="module")
def perfect_out(samples) -> Path:
    out = samples.parent / "perfect"
    for schema in ("invoice", "receipt"):
        ingest(RunConfig(input=samples, out=out, schema_name=schema), engine=GroundTruthEngine(samples))
    return out


@pytest.fixture(scope="module")
def tiny_out(tiny_model, samples) -> Path:
    out = samples.parent / "tiny"
    args = ["run", str(samples), "--out", str(out), "--schema", "invoice", "--model", "tiny-random",
            "--max-new-tokens", "300", "--max-text-length", "4", "--batch-size", "4", "--budget", "280"]
    # short text values let the random model finish most answers: values it gets wrong, not just none
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("schema", ["invoice", "receipt"])
def test_a_perfect_model_scores_one_everywhere(perfect_out, samples, schema):
    result = evaluate(perfect_out, samples / "ground_truth.json", schema)
    labelled = [name for name, entry in TRUTH.items() if entry["schema"] == schema]
    assert result.documents == len(labelled) and not result.unmatched
    summary = result.summary.set_index("field")
    assert (summary["exact"] == 1.0).all() and (summary["anls"] == 1.0).all() and (summary["f1"] == 1.0).all()
    assert (summary[["mismatch", "missing", "extra"]] == 0).all().all()
    assert summary.loc[ALL_FIELDS, "documents"] == len(labelled)


def test_a_folder_of_one_label_per_document_scores_the_same(perfect_out, tmp_path):
    for name, entry in TRUTH.items():
        (tmp_path / f"{Path(name).stem}.json").write_text(json.dumps(entry))
    result = evaluate(perfect_out, tmp_path, "invoice")
    assert result.documents == 4 and result.overall()["exact"] == 1.0


def _hand_count(record: dict | None, fields: dict) -> tuple[int, int, int]:
    """(matching, missing, extra) for the scalar fields of one document, counted by hand."""
    matching = missing = extra = 0
    for name, truth in fields.items():
        if name == "line_items":
            continue
        value = None if record is None else record.get(name)
        if value is not None and isinstance(value, float) and pd.isna(value):
            value = None
        if value is None:
            missing += truth is not None
            matching += truth is None
            continue
        if truth is None:
            extra += 1
        elif name in ("subtotal", "tax", "total"):
            matching += abs(float(value) - float(truth)) <= 0.005
        elif name in ("invoice_date", "due_date"):
            matching += str(value) == truth
        else:
            matching += " ".join(str(value).split()).casefold() == " ".join(truth.split()).casefold()
    return matching, missing, extra


def _nls(truth: str, guess: str) -> float:
    """ANLS's similarity, by hand: 1 - Levenshtein / longer length, 0 under 0.5 (lowercased)."""
    a, b = " ".join(truth.lower().split()), " ".join(guess.lower().split())
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    similarity = 1 - row[-1] / max(len(a), len(b), 1)
    return similarity if similarity >= 0.5 else 0.0


def test_the_tiny_model_scores_low_and_as_counted_by_hand(tiny_out, samples):
    result = evaluate(tiny_out, samples, "invoice")
    assert result.documents == 4
    details, summary = result.details, result.summary.set_index("field")
    overall = summary.loc[ALL_FIELDS]
    assert overall["exact"] < 0.5  # a random model
    # invariants: every document gets one outcome per field; counts never exceed their totals
    fields = summary.drop(index=ALL_FIELDS)
    assert (fields[["matched", "mismatch", "missing", "extra", "empty"]].sum(axis=1) == fields["documents"]).all()
    assert (summary["found"] <= summary["labelled"]).all() and (summary["found"] <= summary["predicted"]).all()
    assert ((summary["anls"] >= 0) & (summary["anls"] <= 1)).all()
    assert overall["exact"] == pytest.approx(details["exact"].mean())
    assert overall["labelled"] == details["labelled"].sum()
    # one document by hand: the record as the tables hold it, against its label
    records = read_table(tiny_out, "invoice").set_index("doc_id")
    doc_id = sha256_file(samples / "invoice_acme.pdf")
    record = records.loc[doc_id].to_dict() if doc_id in records.index else None
    label = TRUTH["invoice_acme.pdf"]["fields"]
    matching, missing, extra = _hand_count(record, label)
    acme = details[(details["doc_id"] == doc_id) & (details["field"] != "line_items")]
    assert len(acme) == len(label) - 1
    assert acme["exact"].sum() == matching
    assert (acme["outcome"] == "missing").sum() == missing and (acme["outcome"] == "extra").sum() == extra
    for name in ("invoice_number", "seller_name", "currency", "invoice_date"):
        value = None if record is None else record.get(name)
        row = acme[acme["field"] == name].iloc[0]
        expected = 0.0 if value is None else _nls(label[name], str(value))  # str(date) is ISO
        assert row["anls"] == pytest.approx(expected), name
    items = details[(details["doc_id"] == doc_id) & (details["field"] == "line_items")].iloc[0]
    predicted_items = 0 if record is None or record["line_items"] is None else len(record["line_items"])
    assert (items["labelled"], items["predicted"]) == (4, predicted_items)


def test_compare_puts_the_two_side_by_side_and_plots_them(perfect_out, tiny_out, samples, tmp_path):
    comparison = compare([perfect_out, tiny_out], samples / "ground_truth.json", "invoice")
    table = comparison.table.set_index("model")
    assert list(table.index) == ["ground-truth", "tiny-random"]
    assert table.loc["ground-truth", "exact"] == 1.0 > table.loc["tiny-random", "exact"]
    assert (table["documents"] == 4).all() and (table["pages"] == 6).all()
    assert table.loc["ground-truth", "tokens_per_page"] == pytest.approx(150 * 4 / 6)  # 4 requests of 100 + 50 tokens
    assert (table["pages_per_second"] > 0).all()

    result = CliRunner().invoke(app, ["eval", str(perfect_out), str(tiny_out), "--compare", "--truth", str(samples),
                                      "--schema", "invoice", "--report", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    png = tmp_path / "cmp" / "accuracy_for_cost.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(pd.read_parquet(tmp_path / "cmp" / "comparison.parquet")) == 2


def test_the_command_prints_the_table_and_writes_parquet_for_pandas(perfect_out, samples):
    command = ["eval", str(perfect_out), "--truth", str(samples), "--schema", "receipt"]
    result = CliRunner().invoke(app, command, env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    assert "(all fields)" in result.output and "merchant_name" in result.output
    summary = pd.read_parquet(perfect_out / "eval" / "receipt" / "summary.parquet")
    details = pd.read_parquet(perfect_out / "eval" / "receipt" / "details.parquet")
    assert summary.set_index("field").loc[ALL_FIELDS, "exact"] == 1.0
    assert len(details) == 2 * 9  # two receipts, nine labelled fields each

    wrong = CliRunner().invoke(app, ["eval", str(perfect_out), "--truth", str(samples), "--schema", "nope"])
    assert wrong.exit_code == 2 and "unknown schema" in wrong.output
