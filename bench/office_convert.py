"""Office files to PDF per second: one soffice process per file against a chunk's files in one.

    python bench/office_convert.py [--files 40] [--single 6] [--out bench/results/office_convert]

Makes --files one-page DOCX invoices, each with other text (LibreOffice writes the first from an
HTML invoice; the others are that DOCX with its text changed), then times, side by side:
- one `soffice --convert-to pdf` process per file, as a plain converter does (--single files);
- docpipe's `convert_many`: the files of a chunk in one soffice process (what `docpipe run` does);
- a run of docpipe over the folder (a test engine answers: conversion and rendering are what is timed);
- a rerun of docpipe over the folder: it converts nothing (the PDFs are kept in OUT/_converted).
Prints files per second for each and writes them to --out/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INVOICE = """<html><body><h1>Invoice INV-{n:05d}</h1><p>Acme Industrial Supply Co., 1200 Foundry Road</p>
<table border="1"><tr><th>Item</th><th>Qty</th><th>Amount</th></tr>
<tr><td>Widget {n}</td><td>3</td><td>{amount}.00</td></tr></table><p>Total due: {amount}.00 USD</p></body></html>"""


def make_docx(folder: Path, count: int) -> list[Path]:
    """`count` one-page DOCX files with different text (different content hashes)."""
    work = Path(tempfile.mkdtemp(prefix="bench-docx-"))
    try:
        (work / "invoice.html").write_text(INVOICE.format(n=0, amount=100))
        subprocess.run(["soffice", f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless",
                        "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(work), str(work / "invoice.html")],
                       check=True, capture_output=True, timeout=120)
        template = work / "invoice.docx"
        with zipfile.ZipFile(template) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for n in range(count):
        xml = members["word/document.xml"].decode()
        xml = re.sub(r"INV-00000", f"INV-{n:05d}", xml).replace("100.00", f"{100 + n}.00")
        path = folder / f"invoice_{n:03d}.docx"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, xml.encode() if name == "word/document.xml" else data)
        made.append(path)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--single", type=int, default=6, help="files converted one process each (the baseline)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "office_convert")
    args = parser.parse_args(argv)
    if shutil.which("soffice") is None:
        print("LibreOffice is not installed (bash install.sh installs it)")
        return 1

    from docpipe.core.types import SourceDocument
    from docpipe.core.vocab import DocumentKind
    from docpipe.ingest.convert import converted_pdf, convert_many
    from docpipe.ingest.discover import sha256_file

    root = Path(tempfile.mkdtemp(prefix="bench-office-"))
    try:
        files = make_docx(root / "inbox", args.files)
        sources = [SourceDocument(p, sha256_file(p), DocumentKind.DOCX, p.stat().st_size) for p in files]

        started = time.perf_counter()
        for source in sources[: args.single]:
            converted_pdf(source, root / "single", 120)
        single = args.single / (time.perf_counter() - started)

        started = time.perf_counter()
        made = convert_many(sources, root / "many")
        many = made / (time.perf_counter() - started)
        assert made == len(sources), f"{made} of {len(sources)} converted"

        rerun = _rerun_converts_nothing(root)
        result = {
            "files": len(sources), "cpu_count": os.cpu_count(), "machine": platform.machine(),
            "libreoffice": subprocess.run(["soffice", "--version"], capture_output=True, text=True).stdout.strip(),
            "one_process_per_file_files_per_s": round(single, 2),
            "one_process_per_chunk_files_per_s": round(many, 2),
            "ratio": round(many / single, 1),
            **rerun,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"one soffice process per file:  {result['one_process_per_file_files_per_s']:6.2f} files/s")
    print(f"one soffice process per chunk: {result['one_process_per_chunk_files_per_s']:6.2f} files/s "
          f"({result['ratio']}x)")
    print(f"docpipe run over the folder (conversion, rendering, a test engine): "
          f"{result['first_run_documents_per_s']:.2f} documents/s")
    print(f"rerun over the folder: {result['rerun_documents_processed']} documents read, "
          f"{result['rerun_pdfs_written']} PDFs written, {result['rerun_seconds']} s")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"written to {args.out / 'results.json'}")
    return 0


def _rerun_converts_nothing(root: Path) -> dict:
    """Run docpipe over the folder twice (a test engine answers): the second converts nothing."""
    from docpipe.run.config import RunConfig
    from docpipe.run.progress import NoProgress
    from docpipe.run.protocol import execute, plain_stages
    from docpipe.schema.load import resolve_schema
    from tests.fakes import ConstantEngine

    config = RunConfig(input=root / "inbox", out=root / "out", budget=70, render_workers=2)
    started = time.perf_counter()
    with plain_stages() as stages:
        first = execute(config, ConstantEngine(), NoProgress(), resolve_schema("invoice"), stages)
    first_seconds = time.perf_counter() - started
    kept = {p: p.stat().st_mtime_ns for p in (root / "out" / "_converted").glob("*.pdf")}
    started = time.perf_counter()
    with plain_stages() as stages:
        again = execute(config, ConstantEngine(), NoProgress(), resolve_schema("invoice"), stages)
    seconds = time.perf_counter() - started
    now = {p: p.stat().st_mtime_ns for p in (root / "out" / "_converted").glob("*.pdf")}
    return {"rerun_documents_processed": again.stats.processed, "rerun_pdfs_written": sum(now[p] != kept.get(p) for p in now),
            "rerun_seconds": round(seconds, 2), "first_run_pdfs_kept": len(kept),
            "first_run_documents_per_s": round(first.stats.processed / first_seconds, 2)}


if __name__ == "__main__":
    raise SystemExit(main())
