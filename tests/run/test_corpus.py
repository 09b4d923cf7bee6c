"""Every real-world file in ../shared/corpus ends as exactly one documents row with a clear
status, category and message; nothing crashes, hangs or is dropped."""

from __future__ import annotations

import pandas as pd
import pytest

from docpipe.core.errors import Category
from docpipe.flows.ingest import ingest
from docpipe.ingest.discover import iter_files
from docpipe.ingest.passwords import read_passwords
from docpipe.run.config import RunConfig
from tests.conftest import CORPUS
from tests.fakes import ConstantEngine

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

STATUSES = {"ok", "partial", "failed", "skipped"}
CATEGORIES = {str(c) for c in Category}


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the project")
    out = tmp_path_factory.mktemp("corpus") / "out"
    passwords = read_passwords(CORPUS / "weird_pdfs" / "passwords.tsv")
    results = {}
    for folder in ("weird_pdfs", "kie", "born_digital"):
        config = RunConfig(input=CORPUS / folder, out=out, schema_name="invoice", budget=70,
                           passwords=passwords, render_timeout=60)
        results[folder] = ingest(config, engine=ConstantEngine())
    return out, results


def test_every_file_gets_exactly_one_row_with_a_clear_outcome(corpus_run):
    out, _ = corpus_run
    documents = pd.read_parquet(out / "documents")
    inputs = sorted(str(p.resolve()) for folder in ("weird_pdfs", "kie", "born_digital")
                    for p in iter_files(CORPUS / folder))
    assert sorted(documents["source_path"]) == inputs  # one row per file, none missing
    assert set(documents["status"]) <= STATUSES
    not_ok = documents[documents["status"] != "ok"]
    assert set(not_ok["error_category"]) <= CATEGORIES
    assert not_ok["error_message"].str.len().min() > 10
    assert (documents.loc[documents["status"] == "ok", "error_category"].isna()).all()


def test_outcomes_by_kind_of_trouble(corpus_run):
    out, _ = corpus_run
    documents = pd.read_parquet(out / "documents")
    documents["name"] = documents["source_path"].str.rsplit("/", n=1).str[-1]
    row = documents.set_index("name")
    # damaged beyond repair, empty, not a document
    assert row.loc["pdfjs__bug1020226.pdf", "error_category"] == "corrupt"
    assert row.loc["pdfplumber__empty.pdf", "error_category"] == "empty"
    assert row.loc["passwords.tsv", ["status", "error_category"]].tolist() == ["skipped", "unsupported"]
    # encrypted files open with the passwords of passwords.tsv
    for name in ("pypdf__r4-aes-user-password.pdf", "pdfjs__issue6010_2.pdf", "unstructured__password.pdf"):
        assert row.loc[name, "status"] == "ok", row.loc[name, "error_message"]
    # 600 pages: 16 read, the rest recorded as not read
    big = row.loc["unstructured__DA-619p.pdf"]
    assert big["status"] == "partial" and big["error_category"] == "too_large"
    assert "were not read" in big["error_message"]
    pages = pd.read_parquet(out / "pages")
    of_big = pages[pages["doc_id"] == big["doc_id"]]
    assert (of_big["status"] == "ok").sum() == 16 and (of_big["status"] == "skipped").sum() == big["pages"] - 16
    # scans, odd codecs, forms, rotated and non-Latin pages all render
    for name in ("pdfjs__bitmap-mmr.pdf", "pdfjs__bug_jpx.pdf", "pdfjs__xfa_filled_imm1344e.pdf",
                 "pdfjs__rotation.pdf", "pdfjs__ArabicCIDTrueType.pdf", "sroie_000.jpg"):
        assert row.loc[name, "status"] == "ok", (name, row.loc[name, "error_message"])


def test_without_the_password_an_encrypted_pdf_fails_as_encrypted(tmp_path):
    source = CORPUS / "weird_pdfs" / "encrypted" / "pypdf__r2-user-password.pdf"
    if not source.is_file():
        pytest.skip("corpus missing")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "locked.pdf").write_bytes(source.read_bytes())
    ingest(RunConfig(input=folder, out=tmp_path / "out", budget=70), engine=ConstantEngine())
    documents = pd.read_parquet(tmp_path / "out" / "documents")
    assert documents[["status", "error_category"]].values.tolist() == [["failed", "encrypted"]]
    assert "--password" in documents.loc[0, "error_message"]
