"""Office and HTML files to PDF, through LibreOffice headless; then they are read as PDFs.

    OUT/_converted/<sha256>.pdf     the converted PDF, kept by the source's content: a rerun converts nothing

The files of a chunk are converted together, by one soffice process (`convert_many`: starting
LibreOffice costs most of a second, converting a page a few hundredths), under a time limit for
the lot; a file that batch left without a PDF (it hung, crashed or failed the lot) is then converted
alone by its render worker (`converted_pdf`), under its own limit: one bad file costs the batch's
time, never another file's PDF. Each process is a fresh one (recycled every batch).

Each conversion runs `soffice --headless --convert-to pdf` in a session of its own, with a private
profile folder (two soffice processes on one profile fail), under a time limit that kills the
whole process group (a bad file can spin soffice at 100% CPU), with macros never run (LibreOffice's
headless conversion runs none, and the profile is fresh). Without LibreOffice, such a file gets one
`unsupported` row naming the package to install.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

from docpipe.core.errors import Category, DocpipeError
from docpipe.core.types import SourceDocument
from docpipe.core.vocab import DocumentKind
from docpipe.ingest.kinds import label

CONVERTED = "_converted"
PACKAGES = "libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui"
# the suffix LibreOffice's import filters expect for each kind
SUFFIX = {
    DocumentKind.DOCX: ".docx", DocumentKind.XLSX: ".xlsx", DocumentKind.PPTX: ".pptx", DocumentKind.ODT: ".odt",
    DocumentKind.ODS: ".ods", DocumentKind.ODP: ".odp", DocumentKind.RTF: ".rtf", DocumentKind.DOC: ".doc",
    DocumentKind.XLS: ".xls", DocumentKind.PPT: ".ppt", DocumentKind.HTML: ".html",
}


def soffice() -> str | None:
    """LibreOffice's command, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def kept_pdf(folder: Path | None, doc_id: str) -> Path | None:
    """The PDF an earlier conversion of this content left in `folder`, or None."""
    if folder is None:
        return None
    kept = Path(folder) / f"{doc_id}.pdf"
    return kept if kept.is_file() else None


def _keep(pdf: Path, final: Path) -> Path:
    """Move a converted PDF to `final` whole (readers never see half of one)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
    shutil.move(pdf, tmp)
    os.replace(tmp, final)
    return final


def converted_pdf(source: SourceDocument, folder: Path | None, timeout: float) -> Path:
    """The PDF of an Office or HTML file: kept in `folder` by content (converted once), or
    converted into a temporary one. DocpipeError: not installed (unsupported), too slow
    (timeout), LibreOffice failed on it (render_error, or corrupt when it made no PDF)."""
    command = soffice()
    if command is None:
        raise DocpipeError(Category.UNSUPPORTED, (
            f"a {label(source.kind)} is read once LibreOffice turns it into a PDF, and LibreOffice is not installed: "
            f"apt-get install {PACKAGES}"))
    if (kept := kept_pdf(folder, source.doc_id)) is not None:
        return kept
    work = Path(tempfile.mkdtemp(prefix="docpipe-convert-"))
    try:
        pdf = _convert(command, source, work, timeout)
        if folder is None:
            return _keep(pdf, Path(tempfile.mkdtemp(prefix="docpipe-converted-")) / "converted.pdf")
        return _keep(pdf, Path(folder) / f"{source.doc_id}.pdf")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def decrypted(source: SourceDocument, passwords: tuple[str, ...], folder: Path) -> SourceDocument:
    """A password-protected DOCX/XLSX/PPTX opened with the first of `passwords` that fits
    (msoffcrypto-tool), written into `folder`: the same document (its doc_id), now readable."""
    import io

    import msoffcrypto

    from docpipe.ingest.kinds import HEAD, identify

    tried = f" (none of the {len(passwords)} given passwords opens it)" if passwords else ""
    for password in passwords:
        try:
            with source.path.open("rb") as handle:
                office = msoffcrypto.OfficeFile(handle)
                office.load_key(password=password)
                plain = io.BytesIO()
                office.decrypt(plain)
        except Exception:  # noqa: BLE001 - a wrong password, or a file msoffcrypto cannot read: try the next
            continue
        data = plain.getvalue()
        target = Path(folder) / "decrypted"
        target.write_bytes(data)
        return SourceDocument(target, source.doc_id, identify(data[:HEAD], target), len(data), name=source.name)
    raise DocpipeError(Category.ENCRYPTED, (
        f"a password-protected Office file{tried}; pass its password with --password or --password-file"))


def convert_many(sources: list[SourceDocument], folder: Path, seconds_per_file: float = 2.0,
                 base_seconds: float = 10.0) -> int:
    """Convert the Office and HTML files among `sources` that `folder` does not hold yet, in one
    soffice process; returns how many PDFs it made. Whatever goes wrong is left to the per-file
    conversion (converted_pdf), which says why."""
    todo = {s.doc_id: s for s in sources
            if s.kind in SUFFIX and s.failure is None and kept_pdf(folder, s.doc_id) is None}
    command = soffice() if len(todo) >= 2 else None  # (most chunks hold no Office file: no PATH search)
    if command is None:
        return 0
    work = Path(tempfile.mkdtemp(prefix="docpipe-convert-"))
    try:
        given = []
        for doc_id, source in todo.items():
            target = work / f"{doc_id}{SUFFIX[source.kind]}"
            try:
                shutil.copyfile(source.path, target)
            except OSError:
                continue
            given.append(target)
        timeout = base_seconds + seconds_per_file * len(given)
        _soffice(command, work, [str(p) for p in given], timeout)
        made = 0
        for pdf in (work / "pdf").glob("*.pdf"):
            if pdf.stem in todo and pdf.stat().st_size > 0:
                _keep(pdf, Path(folder) / pdf.name)
                made += 1
        return made
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _soffice(command: str, work: Path, files: list[str], timeout: float) -> tuple[int | None, bytes]:
    """One soffice process converting `files` into work/pdf: (its exit code, None when it was
    stopped at `timeout`; its output)."""
    profile = work / "profile"
    args = [command, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
            "--nodefault", "--nologo", "--convert-to", "pdf", "--outdir", str(work / "pdf"), *files]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                               env={**os.environ, "HOME": str(work)})
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        return None, b""
    finally:
        _kill(process)  # what soffice left behind in its session


def _convert(command: str, source: SourceDocument, work: Path, timeout: float) -> Path:
    given = work / f"document{SUFFIX.get(source.kind, '')}"
    shutil.copyfile(source.path, given)
    code, output = _soffice(command, work, [str(given)], timeout)
    if code is None:
        raise DocpipeError(Category.TIMEOUT, (
            f"LibreOffice took longer than {timeout:g} s to convert it (--render-timeout); it was stopped"))
    pdf = work / "pdf" / "document.pdf"
    if code != 0:
        raise DocpipeError(Category.RENDER_ERROR, (
            f"LibreOffice failed on it (exit code {code}): {output.decode(errors='replace').strip()[-300:]}"))
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise DocpipeError(Category.CORRUPT, (
            f"LibreOffice could not read this {label(source.kind)}: {output.decode(errors='replace').strip()[-300:]}"))
    return pdf


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
