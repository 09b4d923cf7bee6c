"""Sorting a mixed folder (docpipe/classify, run/tasks/sorting.py): each document classified among
the given schemas and extracted with its class's schema; with --split a packet cut into its
documents, each extracted as its own record with its pages. A scripted engine answers as a
perfect reader would (tests/fakes.SortingTruthEngine), so what is checked is the routing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from docpipe.output.reading import read_table
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.run.tasks.choose import task_for
from tests.fakes import SortingTruthEngine

PACKET = "packet/scanned_batch.pdf"


def _run(folder: Path, out: Path, engine=None, **settings):
    config = RunConfig(input=folder, out=out, render_workers=0, **settings)
    engine = engine or SortingTruthEngine(folder)
    with plain_stages() as stages:
        return execute(config, engine, NoProgress(), task_for(config), stages), engine


def _truth(folder: Path) -> dict[str, dict]:
    labels = json.loads((folder / "ground_truth.json").read_text())
    return {name: entry for name, entry in labels.items()}


def test_a_mixed_folder_gives_one_record_per_real_document_under_its_schema(mixed_folder, tmp_path):
    out = tmp_path / "out"
    result, engine = _run(mixed_folder, out, schemas=("invoice", "receipt", "form"), split=True)
    invoices, receipts = read_table(out, "invoice"), read_table(out, "receipt")
    assert result.stats.records == 9 and result.stats.records_valid == 9
    # four invoices and the packet's two; two receipts and the packet's one
    assert sorted(invoices["name"]) == sorted(["invoice_acme.pdf", "invoice_globex_2p.pdf", "invoice_initech_scan.png",
                                               "invoice_umbrella_scan.tif", PACKET, PACKET])
    assert sorted(receipts["name"]) == ["packet/scanned_batch.pdf", "receipt_cafe.pdf", "receipt_grocery_scan.jpg"]
    assert read_table(out, "form").empty
    packet = invoices[invoices["name"] == PACKET].sort_values("segment")
    assert packet[["segment", "page_from", "page_to"]].values.tolist() == [[1, 1, 1], [3, 3, 4]]
    # each segment's record holds its own document's values, not the packet's first
    truth = _truth(mixed_folder)
    assert [str(v) for v in packet["total"]] == [f"{truth['invoice_acme.pdf']['fields']['total']:.4f}",
                                                 f"{truth['invoice_globex_2p.pdf']['fields']['total']:.4f}"]
    segments = read_table(out, "segments")
    cut = segments[segments["name"] == PACKET][["segment", "page_from", "page_to", "doc_class", "schema"]]
    assert cut.values.tolist() == [[1, 1, 1, "invoice", "invoice"], [2, 2, 2, "receipt", "receipt"],
                                   [3, 3, 4, "invoice", "invoice"]]
    assert (segments["class_rule"] == "model").all() and segments["class_confidence"].gt(0.5).all()
    # every page was sorted once at 140; each document's pages were then asked with its schema
    sorted_pages = [(d, p) for d, p, sorting in engine.asked if sorting]
    assert len(sorted_pages) == sum(read_table(out, "documents")["pages"].fillna(0))
    generations = pd.read_parquet(out / "generations")
    assert set(generations.loc[generations["schema"] == "segments", "budget"]) == {140}
    assert set(generations.loc[generations["schema"] == "receipt", "budget"]) == {280}


def test_without_split_a_document_is_classified_by_its_first_page_and_extracted_whole(mixed_folder, tmp_path):
    out = tmp_path / "out"
    shutil.rmtree(mixed_folder / "packet")
    result, engine = _run(mixed_folder, out, schemas=("invoice", "receipt"))
    assert sorted(read_table(out, "receipt")["name"]) == ["receipt_cafe.pdf", "receipt_grocery_scan.jpg"]
    invoices = read_table(out, "invoice")
    assert len(invoices) == 4 and invoices["segment"].eq(1).all()
    two_pages = invoices[invoices["name"] == "invoice_globex_2p.pdf"].iloc[0]
    assert (two_pages["page_from"], two_pages["page_to"]) == (1, 2)
    assert all(pages == (1,) for _, pages, sorting in engine.asked if sorting)  # --classify-pages 1
    # a rerun reads nothing: what was sorted and extracted is finished work
    again, engine = _run(mixed_folder, out, schemas=("receipt", "invoice"))
    assert again.stats.already_done == 8 and again.stats.processed == 0 and engine.asked == []  # 6 and 2 unsupported


def test_an_unsure_class_is_recorded_not_extracted(mixed_folder, tmp_path):
    out = tmp_path / "out"
    shutil.rmtree(mixed_folder / "packet")
    engine = SortingTruthEngine(mixed_folder, doubtful=("receipt_cafe.pdf",))
    _run(mixed_folder, out, engine, schemas=("invoice", "receipt"), class_threshold=0.5)
    assert read_table(out, "receipt")["name"].tolist() == ["receipt_grocery_scan.jpg"]
    segments = read_table(out, "segments").set_index("name")
    cafe = segments.loc["receipt_cafe.pdf"]
    assert cafe["doc_class"] == "receipt" and pd.isna(cafe["schema"]) and pd.isna(cafe["record_status"])
    assert cafe["class_rule"].startswith("below --class-threshold 0.5 (0.30)")
    assert read_table(out, "documents").set_index("name").loc["receipt_cafe.pdf", "status"] == "ok"


def test_one_schema_with_split_cuts_a_packet_into_its_documents_and_other_pages(mixed_folder, tmp_path):
    out = tmp_path / "out"
    _run(mixed_folder / "packet", out, SortingTruthEngine(mixed_folder), schemas=("invoice",), split=True)
    segments = read_table(out, "segments")
    assert segments[["page_from", "page_to", "doc_class"]].values.tolist() == [
        [1, 1, "invoice"], [2, 2, "other"], [3, 4, "invoice"]]
    assert segments.loc[1, "class_rule"] == "model: none of the schemas" and pd.isna(segments.loc[1, "schema"])
    assert len(read_table(out, "invoice")) == 2


def test_a_packet_longer_than_max_pages_keeps_what_it_read_and_says_what_it_did_not(mixed_folder, tmp_path):
    out = tmp_path / "out"
    _run(mixed_folder / "packet", out, SortingTruthEngine(mixed_folder), schemas=("invoice", "receipt"), split=True,
         max_pages=3)
    segments = read_table(out, "segments")
    assert segments[["page_from", "page_to", "doc_class"]].values.tolist() == [
        [1, 1, "invoice"], [2, 2, "receipt"], [3, 3, "invoice"]]
    document = read_table(out, "documents").set_index("name").loc["scanned_batch.pdf"]
    assert document["status"] == "partial" and document["error_category"] == "too_large"
    errors = read_table(out, "errors")
    assert errors["message"].str.contains("pages 4-4 of 4 were not read").any()


def test_segment_max_pages_cuts_a_long_run_of_one_document(mixed_folder, tmp_path):
    out = tmp_path / "out"
    _run(mixed_folder / "packet", out, SortingTruthEngine(mixed_folder), schemas=("invoice", "receipt"), split=True,
         segment_max_pages=1)
    segments = read_table(out, "segments")
    assert segments[["page_from", "page_to"]].values.tolist() == [[1, 1], [2, 2], [3, 3], [4, 4]]
    assert "cut at --segment-max-pages 1" in segments.loc[2, "class_rule"]


def test_unknown_schemas_and_sorting_settings_are_refused_with_what_to_give(tmp_path):
    with pytest.raises(ValueError, match="unknown schema 'recipt': known schemas are form, invoice, receipt"):
        task_for(RunConfig(input=tmp_path, out=tmp_path / "out", schemas=("invoice", "recipt")))
    with pytest.raises(ValueError, match="--task extract"):
        RunConfig(input=tmp_path, task="transcribe", schemas=("invoice", "receipt"))
    every = task_for(RunConfig(input=tmp_path, out=tmp_path / "out", schemas=("all",)))
    assert sorted(every.schemas) == ["form", "invoice", "receipt"]
    one = task_for(RunConfig(input=tmp_path, out=tmp_path / "out", schemas=("invoice", "invoice")))
    assert one.name == "extract"  # the same schema twice is one schema: plain extraction


def test_the_tiny_model_under_the_real_grammar_writes_only_the_classes_given(tiny_model, mixed_folder, tmp_path):
    """Random weights, real transformers and the real grammar: whatever the model picks, it is one
    of the schemas or other, and a page's start is true or false."""
    import json as json_module

    from docpipe.engines.inprocess.transformers_engine import TransformersEngine

    out = tmp_path / "out"
    engine = TransformersEngine(tiny_model, batch_size=8)
    _run(mixed_folder / "packet", out, engine, schemas=("invoice", "receipt"), split=True, budget=70,
         classify_budget=70, max_new_tokens=64, max_text_length=4, class_threshold=0.0)
    generations = pd.read_parquet(out / "generations")
    sorting = generations[generations["schema"] == "segments"]
    assert len(sorting) == 4 and sorting["constrained"].all()
    for text in sorting["text"]:
        answer = json_module.loads(text)
        assert answer["document_type"] in {"invoice", "receipt", "other"} and isinstance(answer["first_page"], bool)
    segments = read_table(out, "segments")
    assert set(segments["doc_class"]) <= {"invoice", "receipt", "other"}
    assert segments["page_from"].tolist()[0] == 1 and segments["page_to"].tolist()[-1] == 4
    extracted = segments.dropna(subset=["schema"])  # threshold 0: every class the model chose is extracted
    assert len(extracted) == (segments["doc_class"] != "other").sum()


def test_show_names_each_document_of_a_packet_by_its_pages(mixed_folder, tmp_path):
    from typer.testing import CliRunner

    from docpipe.cli.app import app

    out = tmp_path / "out"
    _run(mixed_folder, out, schemas=("invoice", "receipt"), split=True)
    overview = CliRunner().invoke(app, ["show", str(out), "invoice"], env={"COLUMNS": "160"})
    assert overview.exit_code == 0, overview.output
    assert "packet/scanned_batch.pdf (page 1)" in overview.output
    assert "packet/scanned_batch.pdf (pages 3-4)" in overview.output
    whole = CliRunner().invoke(app, ["show", str(out), "invoice", "--doc", "scanned_batch.pdf"], env={"COLUMNS": "160"})
    assert whole.exit_code == 0, whole.output
    assert "INV-2026-0142" in whole.output and "RE-2026-00417" in whole.output  # each document whole


def test_revalidate_rebuilds_each_segments_record_from_its_own_answers(mixed_folder, tmp_path):
    from docpipe.run.revalidate import revalidate

    out = tmp_path / "out"
    _run(mixed_folder / "packet", out, SortingTruthEngine(mixed_folder), schemas=("invoice", "receipt"), split=True)
    before = read_table(out, "invoice")[["segment", "page_from", "page_to", "invoice_number", "total"]]
    result = revalidate(out)
    assert result.records == {"invoice": 2, "receipt": 1}  # the sorting's own answers are not records
    after = read_table(out, "invoice")
    assert after["run_id"].str.startswith("revalidate-").all()
    pd.testing.assert_frame_equal(after[before.columns].reset_index(drop=True), before.reset_index(drop=True))
