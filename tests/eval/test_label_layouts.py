"""Labels where people keep them: in a labels/ folder inside the documents' folder (the README's
layout), or each beside its document (SROIE's). A label file is never a document, so the score is
the score of the documents alone; a label keyed by a path under the input folder matches that file,
and a bare name that files in two folders share is reported as ambiguous, not applied to both."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from docpipe.eval.report import ALL_FIELDS, evaluate
from docpipe.run.config import RunConfig
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import SAMPLES
from tests.fakes import GroundTruthEngine
from tests.run.test_protocol import Notes

TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())
INVOICES = [name for name, entry in TRUTH.items() if entry["schema"] == "invoice"]
RECEIPTS = [name for name, entry in TRUTH.items() if entry["schema"] == "receipt"]


def _run(folder: Path, out: Path, schema: str = "invoice", **settings) -> None:
    config = RunConfig(input=folder, out=out, budget=280, render_workers=0, schema_name=schema, **settings)
    with plain_stages() as stages:
        execute(config, GroundTruthEngine(SAMPLES), Notes(), resolve_schema(schema), stages)


def _label(path: Path, name: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(TRUTH[name]))


def _exact(result) -> float:
    return result.summary.set_index("field").loc[ALL_FIELDS, "exact"]


def test_the_readmes_layout_scores_the_documents_alone(tmp_path):
    docs = tmp_path / "my_docs"
    docs.mkdir()
    for name in INVOICES:
        shutil.copy(SAMPLES / name, docs / name)
        _label(docs / "labels" / f"{Path(name).stem}.json", name)
    _run(docs, tmp_path / "out_a")  # as the README writes it: the labels are inside my_docs/
    result = evaluate(tmp_path / "out_a", docs / "labels", "invoice")
    assert result.documents == len(INVOICES) and _exact(result) == 1.0
    assert not result.unmatched and not result.ambiguous


def test_labels_beside_their_documents_sroie_style(tmp_path):
    docs = tmp_path / "receipts"
    docs.mkdir()
    for name in RECEIPTS:
        shutil.copy(SAMPLES / name, docs / name)
        _label(docs / f"{Path(name).stem}.json", name)
    _run(docs, tmp_path / "out", schema="receipt")
    result = evaluate(tmp_path / "out", docs, "receipt")
    assert result.documents == len(RECEIPTS) and _exact(result) == 1.0


def test_a_path_names_one_of_two_same_named_files_and_a_bare_name_is_ambiguous(tmp_path):
    docs = tmp_path / "inbox"
    for supplier, sample in (("supplierA", "invoice_acme.pdf"), ("supplierB", "invoice_globex_2p.pdf")):
        (docs / supplier).mkdir(parents=True)
        shutil.copy(SAMPLES / sample, docs / supplier / "invoice.pdf")
    out = tmp_path / "out"
    _run(docs, out)

    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"invoice.pdf": TRUTH["invoice_acme.pdf"]}))
    result = evaluate(out, bare, "invoice")
    assert result.documents == 0 and [names for _, names in result.ambiguous] == [
        ["supplierA/invoice.pdf", "supplierB/invoice.pdf"]]

    keyed = tmp_path / "keyed.json"
    keyed.write_text(json.dumps({"supplierB/invoice.pdf": TRUTH["invoice_globex_2p.pdf"]}))
    result = evaluate(out, keyed, "invoice")
    assert result.documents == 1 and _exact(result) == 1.0
    assert result.details["source_path"].str.endswith("supplierB/invoice.pdf").all()

    folder = tmp_path / "labels"  # one file per document, in the documents' folders
    _label(folder / "supplierA" / "invoice.json", "invoice_acme.pdf")
    _label(folder / "supplierB" / "invoice.json", "invoice_globex_2p.pdf")
    result = evaluate(out, folder, "invoice")
    assert result.documents == 2 and _exact(result) == 1.0 and not result.ambiguous
