"""Office and HTML files become PDFs through LibreOffice, then are read as PDFs: the real files of
../shared/corpus/office_email end to end; a converter that hangs is stopped with its whole process
group (timeout), one that fails says so (render_error), and without LibreOffice a file gets one
unsupported row naming the package to install."""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from docpipe.core.errors import Category, DocpipeError
from docpipe.core.types import SourceDocument
from docpipe.core.vocab import DocumentKind
from docpipe.ingest.convert import PACKAGES, converted_pdf
from docpipe.run.config import RunConfig
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import CORPUS
from tests.fakes import ConstantEngine
from tests.run.test_protocol import Notes

OFFICE = CORPUS / "office_email"
READ = ["fake.docx", "docx-tables.docx", "stanley-cups.xlsx", "fake-power-point.pptx", "fake.odt", "fake-doc.rtf",
        "fake.doc", "tests-example.xls", "fake-power-point.ppt", "fake-html.html", "fake-html-cp1252.html"]
needs_office = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (install.sh installs it)")


def _source(tmp_path: Path, kind: DocumentKind = DocumentKind.DOCX) -> SourceDocument:
    path = tmp_path / "x.docx"
    path.write_bytes(b"PK\x03\x04 not really")
    return SourceDocument(path, "f" * 64, kind, path.stat().st_size)


def _fake_soffice(tmp_path: Path, body: str, monkeypatch) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "soffice"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(folder))


def test_without_libreoffice_the_row_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DocpipeError) as raised:
        converted_pdf(_source(tmp_path), None, 10)
    assert raised.value.category == Category.UNSUPPORTED and PACKAGES in raised.value.message


def test_a_hanging_converter_is_stopped_with_its_whole_process_group(tmp_path, monkeypatch):
    marker = tmp_path / "child.pid"
    _fake_soffice(tmp_path, f"{shutil.which('sleep')} 300 & echo $! > {marker}\nwait", monkeypatch)
    started = time.monotonic()
    with pytest.raises(DocpipeError) as raised:
        converted_pdf(_source(tmp_path), None, 1.5)
    assert raised.value.category == Category.TIMEOUT and time.monotonic() - started < 30
    child = int(marker.read_text())
    deadline = time.monotonic() + 10
    while psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the converter's child process was left running"
        time.sleep(0.1)


def test_a_failing_converter_fails_that_file_alone(tmp_path, monkeypatch):
    _fake_soffice(tmp_path, "echo 'Error: source file could not be loaded' ; exit 1", monkeypatch)
    with pytest.raises(DocpipeError) as raised:
        converted_pdf(_source(tmp_path), None, 10)
    assert raised.value.category == Category.RENDER_ERROR and "could not be loaded" in raised.value.message


@needs_office
def test_the_corpus_office_and_html_files_are_read_as_pdfs_once(tmp_path):
    if not OFFICE.is_dir():
        pytest.skip("../shared/corpus is not beside the project")
    folder, out = tmp_path / "office", tmp_path / "out"
    folder.mkdir()
    for name in [*READ, "password_protected.xlsx"]:
        shutil.copy(OFFICE / name, folder / name)
    config = RunConfig(input=folder, out=out, budget=70, render_workers=0, max_pages=2)
    with plain_stages() as stages:
        execute(config, ConstantEngine('{"invoice_number": "X"}'), Notes(), resolve_schema("invoice"), stages)
    documents = pd.read_parquet(out / "documents").set_index("name")
    for name in READ:
        row = documents.loc[name]
        assert row["status"] in ("ok", "partial") and row["pages"] >= 1, (name, row["error_message"])
    assert documents.loc["password_protected.xlsx", "error_category"] == "encrypted"
    converted = sorted((out / "_converted").glob("*.pdf"))
    assert len(converted) == len(READ)
    mtimes = [p.stat().st_mtime_ns for p in converted]
    with plain_stages() as stages:  # a rerun converts nothing
        again = execute(config, ConstantEngine(), Notes(), resolve_schema("invoice"), stages)
    assert again.stats.processed == 0 and [p.stat().st_mtime_ns for p in converted] == mtimes
    assert not any(p.info["name"] == "soffice.bin" for p in psutil.process_iter(["name"]) if p.ppid() == os.getpid())


@needs_office
def test_a_password_protected_docx_opens_with_a_given_password(tmp_path):
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    if not (OFFICE / "fake.docx").is_file():
        pytest.skip("../shared/corpus is not beside the project")
    folder, out = tmp_path / "office", tmp_path / "out"
    folder.mkdir()
    with (OFFICE / "fake.docx").open("rb") as plain, (folder / "locked.docx").open("wb") as locked:
        OOXMLFile(plain).encrypt("s3cret", locked)
    assert msoffcrypto.OfficeFile((folder / "locked.docx").open("rb")).is_encrypted()

    def run(**settings):
        config = RunConfig(input=folder, out=out, budget=70, render_workers=0, **settings)
        with plain_stages() as stages:
            return execute(config, ConstantEngine('{"invoice_number": "X"}'), Notes(), resolve_schema("invoice"), stages)

    run()
    row = pd.read_parquet(out / "documents").iloc[-1]
    assert (row["kind"], row["status"], row["error_category"]) == ("encrypted_office", "failed", "encrypted")
    again = run(passwords=("wrong", "s3cret"))
    assert again.stats.retried == {"passwords given: 0 -> 2": 1}
    latest = pd.read_parquet(out / "documents").sort_values("finished_at").iloc[-1]
    assert latest["status"] == "ok" and latest["pages"] >= 1
