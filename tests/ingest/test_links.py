"""Symbolic links under INPUT: a link to a file outside the input folder is not read (a link
dropped into a served inbox must not make docpipe send any file of the host to a model); it gets
a documents row saying so. --follow-links reads it. Links that stay inside are read as usual."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from docpipe.core.errors import Category
from docpipe.flows.ingest import ingest
from docpipe.ingest.discover import discover, sha256_file
from docpipe.run.config import RunConfig
from tests.conftest import SAMPLES
from tests.fakes import ConstantEngine

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server


@pytest.fixture
def inbox(tmp_path):
    secret = tmp_path / "elsewhere" / "private.pdf"
    secret.parent.mkdir()
    shutil.copy(SAMPLES / "invoice_acme.pdf", secret)
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(SAMPLES / "receipt_cafe.pdf", folder / "receipt.pdf")
    (folder / "outside.pdf").symlink_to(secret)
    (folder / "inside.pdf").symlink_to(folder / "receipt.pdf")
    return folder, secret


def test_a_link_to_a_file_outside_the_input_is_not_read(inbox):
    folder, secret = inbox
    receipt = sha256_file(folder / "receipt.pdf")
    refused = [d for d in discover(folder) if d.failure is not None]
    read = [d for d in discover(folder) if d.failure is None]
    assert [d.path for d in refused] == [folder / "outside.pdf"]
    assert refused[0].failure.category == Category.OUTSIDE_INPUT and str(secret) in refused[0].failure.message
    assert refused[0].doc_id != sha256_file(secret)  # not even hashed
    assert [d.doc_id for d in read] == [receipt, receipt]  # the link inside is read (as a copy)

    followed = discover(folder, follow_links=True)
    assert all(d.failure is None for d in followed)
    assert sorted(d.doc_id for d in followed) == sorted([receipt, receipt, sha256_file(secret)])


@pytest.mark.slow
def test_a_run_gives_the_link_its_row_and_sends_nothing_of_it_to_the_model(inbox, tmp_path):
    folder, secret = inbox
    engine = ConstantEngine()
    ingest(RunConfig(input=folder, out=tmp_path / "out", budget=70, render_workers=0), engine=engine)
    documents = pd.read_parquet(tmp_path / "out" / "documents").set_index("source_path")
    link = documents.loc[str(folder / "outside.pdf")]
    assert link["error_category"] == "outside_input" and link["status"] == "failed"
    assert sha256_file(secret) not in {r.doc_id for r in engine.requests}

    followed = ConstantEngine()
    ingest(RunConfig(input=folder, out=tmp_path / "followed", budget=70, render_workers=0, follow_links=True),
           engine=followed)
    assert sha256_file(secret) in {r.doc_id for r in followed.requests}
