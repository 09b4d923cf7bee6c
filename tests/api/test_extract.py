"""`docpipe.extract` and `docpipe.Extractor`: one document's record from Python, through the run
protocol (no Prefect server), typed, with confidence, source page and box; the failures of a bad
file as its status and errors; clear exceptions for what the caller got wrong."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest

import docpipe
from docpipe.core.errors import ModelNotAvailable
from docpipe.ingest.discover import sha256_file
from docpipe.output.reading import read_table
from tests.conftest import ROOT, SAMPLES, corpus_file
from tests.fakes import GroundTruthEngine, ProbableTruthEngine

ACME = SAMPLES / "invoice_acme.pdf"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())
FAST = {"render_workers": 0}  # render in this process: no render processes to start in a unit test


@pytest.fixture
def own_tempdir(tmp_path, monkeypatch) -> Path:
    """Temporary folders of the call go here, to be looked at."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_path_gives_its_record_typed_with_confidence_page_and_box(own_tempdir):
    result = docpipe.extract(ACME, schema="invoice", engine=ProbableTruthEngine(SAMPLES), **FAST)
    truth = TRUTH["invoice_acme.pdf"]["fields"]
    assert result.status == "ok" and result.ok and not result.reused and result.errors == []
    assert result.doc_id == sha256_file(ACME) and result.schema == "invoice"
    total = result.values["total"]
    assert isinstance(total, Decimal) and total == Decimal("1545.80")  # exact, not 1545.799999...
    assert result.values["invoice_number"] == truth["invoice_number"] == "INV-2026-0142"
    assert result.values["invoice_date"] == dt.date(2026, 3, 3)
    amounts = [item["amount"] for item in result.values["line_items"]]
    assert amounts == [Decimal(str(item["amount"])) for item in truth["line_items"]]
    assert 0.0 < result.confidence["total"] <= 1.0
    assert result.pages["total"] == 1
    assert result.boxes["total"]["page"] == 1 and result.boxes["total"]["source"] == "text_layer"
    assert set(result.boxes["line_items"][0]) == {"description", "quantity", "unit_price", "amount"}
    # the row of the records table and of the documents table, as plain Python
    assert result.record["doc_id"] == result.doc_id and result.record["model"] == "probable-truth"
    assert result.record["total_raw"] is not None and result.record["total"] == total
    assert result.document["source_path"] == str(ACME.resolve()) and result.document["pages"] == 1
    # no output folder given: the tables were written into a temporary one, removed afterwards
    assert result.out is None and list(own_tempdir.iterdir()) == []


def test_bytes_give_the_same_record_under_the_name_given_or_sniffed():
    engine = GroundTruthEngine(SAMPLES)
    from_path = docpipe.extract(ACME, engine=engine, **FAST)
    named = docpipe.extract(ACME.read_bytes(), filename="acme.pdf", engine=engine, **FAST)
    sniffed = docpipe.extract(bytearray(ACME.read_bytes()), engine=engine, **FAST)
    assert named.status == sniffed.status == "ok"
    assert named.values == sniffed.values == from_path.values
    assert named.values["total"] == Decimal("1545.80")
    assert named.doc_id == from_path.doc_id
    assert Path(named.document["source_path"]).name == "acme.pdf"
    assert Path(sniffed.document["source_path"]).name == "document.pdf"  # its bytes say PDF


def test_an_extractor_builds_its_engine_once_and_a_kept_folder_answers_again(tmp_path, monkeypatch):
    built: list[GroundTruthEngine] = []

    def build_engine(model, batch_size, **settings):
        assert model == "my-model" and settings["engine"] == "transformers"
        built.append(GroundTruthEngine(SAMPLES))
        return built[-1]

    monkeypatch.setattr("docpipe.engines.factory.build_engine", build_engine)
    out = tmp_path / "out"
    with docpipe.Extractor(schema="invoice", model="my-model", **FAST) as extractor:
        first = extractor.extract(ACME, out=out)
        other = extractor.extract(SAMPLES / "invoice_initech_scan.png", out=out)
        again = extractor.extract(ACME.read_bytes(), out=out)  # the same bytes: nothing is read again
    assert len(built) == 1 and built[0].calls == 2
    assert first.out == out and not first.reused and again.reused
    assert again.status == "ok" and again.values == first.values and again.record == first.record
    assert again.document["run_id"] == first.document["run_id"]
    assert other.values["invoice_number"] == TRUTH["invoice_initech_scan.png"]["fields"]["invoice_number"]
    assert len(read_table(out, "invoice")) == 2  # the tables stay in `out`
    with pytest.raises(RuntimeError, match="closed"):
        extractor.extract(ACME)


@pytest.mark.parametrize(("relative", "category"), [
    ("weird_pdfs/encrypted/pypdf__r4-aes-user-password.pdf", "encrypted"),
    ("weird_pdfs/broken/pdfjs__bug1020226.pdf", "corrupt"),
])
def test_a_file_that_cannot_be_read_fails_with_its_category(relative, category):
    result = docpipe.extract(corpus_file(relative), engine=GroundTruthEngine(SAMPLES), **FAST)
    assert result.status == "failed" and not result.ok
    assert result.document["error_category"] == category
    assert [(e["stage"], e["category"]) for e in result.errors] == [("render", category)]
    assert result.errors[0]["message"] == result.document["error_message"]
    assert result.record is None and result.values == {} and result.confidence == {}
    if category == "encrypted":
        assert "password" in result.errors[0]["message"]


def test_what_the_caller_got_wrong_is_a_clear_exception(tmp_path):
    engine = GroundTruthEngine(SAMPLES)
    with pytest.raises(FileNotFoundError, match=r"no such file: .*missing\.pdf"):
        docpipe.extract(tmp_path / "missing.pdf", engine=engine)
    with pytest.raises(ValueError, match="is a folder"):
        docpipe.extract(SAMPLES, engine=engine)
    with pytest.raises(ValueError, match=r"unknown schema 'no_such_schema'.*invoice"):
        docpipe.extract(ACME, schema="no_such_schema", engine=engine, **FAST)
    with pytest.raises(TypeError, match=r"unknown settings \['max_page'\]"):
        docpipe.extract(ACME, engine=engine, max_page=3)
    with pytest.raises(ValueError, match="budget"):
        docpipe.extract(ACME, engine=engine, budget=123)
    with pytest.raises(ValueError, match="file name"):
        docpipe.extract(b"%PDF-1.4", filename="../escape.pdf", engine=engine)
    with pytest.raises(ModelNotAvailable, match="no-such-org/no-such-model"):  # tests run offline
        docpipe.extract(ACME, model="no-such-org/no-such-model")


@pytest.mark.slow  # loads the tiny random Gemma 4 (seconds)
def test_the_default_engine_path_reads_with_the_tiny_model(tiny_model):
    """No engine given: it is built from the settings as `docpipe run` builds it, and answers. The
    random model's answer cannot end its JSON within 24 tokens: the document fails as truncated,
    with the record of what it gave."""
    result = docpipe.extract(ACME, model="tiny-random", budget=280, max_new_tokens=24, batch_size=2, **FAST)
    assert result.document["pages"] == 1 and result.document["budget"] == 280
    assert result.status == "failed" and result.document["error_category"] == "truncated"
    assert [(e["stage"], e["category"]) for e in result.errors] == [("validate", "truncated")]
    assert "24 tokens" in result.errors[0]["message"]
    assert result.record["model"] == "tiny-random" and result.record["doc_id"] == result.doc_id


def test_importing_docpipe_or_its_api_loads_nothing_heavy():
    code = ("import sys, docpipe, docpipe.api; heavy = [m for m in ('pandas', 'pyarrow', 'torch', 'prefect') "
            "if m in sys.modules]; assert not heavy, heavy; assert {'extract', 'Extractor'} <= set(docpipe.__all__); "
            "assert docpipe.extract is docpipe.api.extract and callable(docpipe.api.extract); "
            "assert docpipe.Extractor is docpipe.api.Extractor")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
