"""One name per file, and what discovery never reads: an output folder inside the input (this
run's or another's) is not input; --include and --exclude choose files by their path under the
input folder; records carry the file they were read from; every copy of a content is listed;
`show --doc` takes a path under the input folder and asks which when a bare name means two files."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from docpipe import read_table
from docpipe.cli.app import app
from docpipe.core.child_server import free_port
from docpipe.ingest.discover import discover
from docpipe.ingest.selection import Selection
from docpipe.run.config import RunConfig
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import SAMPLES
from tests.fakes import GroundTruthEngine
from tests.run.test_protocol import Notes


def _run(folder: Path, out: Path, **settings):
    config = RunConfig(input=folder, out=out, budget=280, render_workers=0, **settings)
    with plain_stages() as stages:
        return execute(config, GroundTruthEngine(SAMPLES), Notes(), resolve_schema("invoice"), stages)


def _show(*args: str):
    return CliRunner().invoke(app, ["show", *map(str, args)], env={"COLUMNS": "200"})


def test_an_output_folder_inside_the_input_is_never_read(samples_copy):
    out = samples_copy / "out"
    first = _run(samples_copy, out)
    second = _run(samples_copy, out)
    assert first.stats.found == second.stats.found == 8 and second.stats.processed == 0
    shutil.copytree(out, samples_copy / "last_year")  # another docpipe output folder, moved in
    third = _run(samples_copy, out)
    assert third.stats.found == 8 and third.stats.processed == 0
    rows = pd.read_parquet(out / "documents")
    assert not rows["source_path"].str.contains("/out/|/last_year/").any()
    assert len(rows) == 8  # the documents table does not grow with the folder's own files


def test_include_and_exclude_choose_files_by_their_path_under_the_input(tmp_path):
    folder = tmp_path / "in"
    (folder / "labels" / "deep").mkdir(parents=True)
    (folder / "a").mkdir()
    shutil.copy(SAMPLES / "invoice_acme.pdf", folder / "a" / "acme.pdf")
    shutil.copy(SAMPLES / "receipt_cafe.pdf", folder / "cafe.pdf")
    (folder / "labels" / "acme.json").write_text("{}")
    (folder / "labels" / "deep" / "x.json").write_text("{}")

    def names(**chosen) -> list[str]:
        return [d.name for d in discover(folder, selection=Selection(**chosen))]

    assert names() == ["a/acme.pdf", "cafe.pdf", "labels/acme.json", "labels/deep/x.json"]
    assert names(exclude=("labels/**",)) == names(exclude=("labels",)) == ["a/acme.pdf", "cafe.pdf"]
    assert names(exclude=("*.json",)) == ["a/acme.pdf", "cafe.pdf"]
    assert names(include=("*.pdf",)) == ["a/acme.pdf", "cafe.pdf"]
    assert names(include=("a/*",)) == ["a/acme.pdf"]
    assert names(include=("*.pdf",), exclude=("a/**",)) == ["cafe.pdf"]
    result = _run(folder, tmp_path / "out", exclude=("labels/**",))
    assert result.stats.found == 2


def test_records_name_the_file_read_and_every_copy_is_listed(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    (folder / "supplierA").mkdir(parents=True)
    (folder / "supplierB").mkdir()
    shutil.copy(SAMPLES / "invoice_acme.pdf", folder / "acme.pdf")
    shutil.copy(SAMPLES / "invoice_acme.pdf", folder / "acme copy (2).pdf")  # same bytes; its name sorts first
    shutil.copy(SAMPLES / "invoice_globex_2p.pdf", folder / "supplierA" / "invoice.pdf")
    shutil.copy(SAMPLES / "invoice_umbrella_scan.tif", folder / "supplierB" / "invoice.pdf")  # a scan, misnamed
    shutil.copy(SAMPLES / "invoice_initech_scan.png", folder / "supplierB" / "scan.png")
    _run(folder, out)
    records = read_table(out, "invoice", python_cells=True)
    assert sorted(records["name"]) == ["acme copy (2).pdf", "supplierA/invoice.pdf", "supplierB/invoice.pdf",
                                       "supplierB/scan.png"]
    assert all(Path(p).is_absolute() and Path(p).relative_to(folder).as_posix() == n
               for p, n in zip(records["source_path"], records["name"]))

    shutil.copy(SAMPLES / "invoice_initech_scan.png", folder / "supplierB" / "resent.png")  # a copy, next run
    later = _run(folder, out)
    assert later.stats.processed == 0 and later.stats.copies == 1
    documents = read_table(out, "documents")
    resent = documents[documents["name"] == "supplierB/resent.png"].iloc[0]
    assert (resent["status"], resent["error_category"]) == ("skipped", "duplicate")
    assert "supplierB/scan.png" in resent["error_message"]
    assert _run(folder, out).stats.copies == 0  # listed once
    assert len(pd.read_parquet(out / "documents")) == 6  # five files, one copy found later

    overview = _show(out, "invoice")
    assert "supplierA/invoice.pdf" in overview.output and "resent" not in overview.output
    for name in ("acme.pdf", "acme copy (2).pdf", "acme"):  # the copy read, the one skipped, a stem
        shown = _show(out, "invoice", "--doc", name)
        assert shown.exit_code == 0 and "INV-2026-0142" in shown.output, name
    ambiguous = _show(out, "invoice", "--doc", "invoice.pdf")  # two suppliers' invoice.pdf: which one?
    assert ambiguous.exit_code == 2
    assert "supplierA/invoice.pdf" in ambiguous.output and "supplierB/invoice.pdf" in ambiguous.output
    for name in ("supplierB/invoice.pdf", "supplierB/invoice", str(folder / "supplierB" / "invoice.pdf")):
        one = _show(out, "invoice", "--doc", name)
        assert one.exit_code == 0 and "supplierB/invoice.pdf" in one.output and "supplierA" not in one.output, name
    copy = _show(out, "invoice", "--doc", "supplierB/resent.png")
    assert copy.exit_code == 0 and "supplierB/scan.png" in copy.output


def test_review_opens_at_a_document_named_by_its_path(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    for supplier, sample in (("supplierA", "invoice_acme.pdf"), ("supplierB", "invoice_globex_2p.pdf")):
        (folder / supplier).mkdir(parents=True)
        shutil.copy(SAMPLES / sample, folder / supplier / "invoice.pdf")
    _run(folder, out)
    ambiguous = CliRunner().invoke(app, ["review", str(out), "--doc", "invoice.pdf"], env={"COLUMNS": "200"})
    assert ambiguous.exit_code == 2 and "supplierA/invoice.pdf" in ambiguous.output
    unknown = CliRunner().invoke(app, ["review", str(out), "--doc", "nothing.pdf"], env={"COLUMNS": "200"})
    assert unknown.exit_code == 2 and "no document 'nothing.pdf'" in unknown.output

    records = read_table(out, "invoice")
    wanted = records.loc[records["name"] == "supplierB/invoice.pdf", "doc_id"].item()
    command = [sys.executable, "-m", "docpipe", "review", str(out), "--port", str(free_port()), "--doc",
               "supplierB/invoice.pdf"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, env=dict(os.environ, COLUMNS="300"))
    try:
        printed = ""
        while "?token=" not in printed and process.poll() is None:
            printed += process.stdout.readline()
        assert f"/invoice/doc/{wanted}?token=" in printed, printed
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=20)
