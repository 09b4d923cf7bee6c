"""docpipe eval on a sorted folder: the packet's documents scored field by field as records of
their own, the classes as accuracy with a confusion table, the cuts as boundary precision and
recall and exact segments (eval/sorting.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.eval import evaluate
from docpipe.eval.report import ALL_FIELDS
from docpipe.eval.sorting import score_sorting
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.run.tasks.choose import task_for
from tests.fakes import SortingTruthEngine

SCHEMAS = ("invoice", "receipt")


def _sort(folder: Path, out: Path, engine=None, **settings) -> Path:
    config = RunConfig(input=folder, out=out, render_workers=0, schemas=SCHEMAS, split=True, **settings)
    with plain_stages() as stages:
        execute(config, engine or SortingTruthEngine(folder), NoProgress(), task_for(config), stages)
    return out


def test_a_perfect_sorting_scores_one_everywhere_and_each_packet_document_is_scored_alone(mixed_folder, tmp_path):
    out = _sort(mixed_folder, tmp_path / "out")
    invoices = evaluate(out, mixed_folder, "invoice")
    assert invoices.documents == 6  # four files, and the packet's two invoices, each against its own labels
    assert invoices.summary.set_index("field").loc[ALL_FIELDS, "exact"] == pytest.approx(1.0)
    assert {"scanned_batch.pdf#p1-1", "scanned_batch.pdf#p3-4"} <= set(invoices.details["truth_key"])
    scored = score_sorting(out, mixed_folder)
    assert scored.documents == 9 and scored.files == 7
    assert scored.class_accuracy == 1.0 and scored.exact_segments == 1.0
    assert (scored.boundary_precision, scored.boundary_recall) == (1.0, 1.0)
    assert scored.confusion.loc["invoice", "invoice"] == 6 and scored.confusion.loc["receipt", "receipt"] == 3


def test_wrong_classes_and_cuts_are_counted_where_they_are_wrong(mixed_folder, tmp_path):
    # the packet cut after every page (its two-page invoice becomes two), the grocery receipt taken
    # for an invoice
    engine = SortingTruthEngine(mixed_folder)
    truth = engine.documents
    grocery = next(d for d, parts in truth.items() if parts[0][3].get("merchant_name", "").startswith("FreshMart"))
    truth[grocery] = [(1, 999, "invoice", {})]
    out = _sort(mixed_folder, tmp_path / "out", engine, segment_max_pages=1)
    scored = score_sorting(out, mixed_folder)
    assert scored.class_accuracy == pytest.approx(8 / 9)
    assert scored.confusion.loc["receipt", "invoice"] == 1
    # not exact: the grocery receipt (its class), and every two-page document (cut in two): the
    # packet's pages 3-4, invoice_globex_2p.pdf and invoice_umbrella_scan.tif
    assert scored.exact_segments == pytest.approx(5 / 9)
    # the run starts documents at page 2 of the two two-page files, and at 2, 3 and 4 of the
    # packet; the labels at the packet's 2 and 3 only
    assert scored.boundary_precision == pytest.approx(2 / 5) and scored.boundary_recall == 1.0
    invoices = evaluate(out, mixed_folder, "invoice")
    globex = invoices.details[invoices.details["truth_key"] == "scanned_batch.pdf#p3-4"]
    assert not globex["has_record"].any()  # no record was cut at its pages: scored as missing


def test_eval_without_schema_scores_every_schema_and_the_sorting(mixed_folder, tmp_path):
    out = _sort(mixed_folder, tmp_path / "out")
    result = CliRunner().invoke(app, ["eval", str(out), "--truth", str(mixed_folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "invoice: 6 labelled documents" in result.output and "receipt: 3 labelled documents" in result.output
    assert "sorting: 9 labelled documents in 7 files" in result.output
    assert "class accuracy" in result.output and "boundary recall" in result.output
    assert (out / "eval" / "segments" / "confusion.parquet").is_file()
