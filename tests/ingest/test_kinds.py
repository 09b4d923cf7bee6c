"""Every input kind is recognised by content, never by name: a ZIP that stores PDFs is an archive
(not the first PDF in it), a DOCX is a ZIP with word/, an Outlook message an OLE2 file with its
streams, an e-mail a text that starts with header lines; images as phones send them are images."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from PIL import Image

from docpipe.core.vocab import DocumentKind as K
from docpipe.ingest.kinds import HEAD, KINDS, identify
from tests.conftest import CORPUS, SAMPLES

OFFICE = CORPUS / "office_email"


def _kind(path: Path) -> K:
    with path.open("rb") as handle:
        return identify(handle.read(HEAD), path)


def test_every_kind_has_one_entry():
    assert set(KINDS) == set(K)
    assert {info.shape for info in KINDS.values()} == {"pages", "converted", "container", "none"}


def test_generated_files_are_recognised_by_content_whatever_their_names(tmp_path):
    image = Image.open(SAMPLES / "invoice_initech_scan.png")
    made = {}
    for kind, fmt in ((K.WEBP, "WEBP"), (K.BMP, "BMP"), (K.GIF, "GIF")):
        made[kind] = tmp_path / f"{kind}.bin"
        image.convert("RGB" if fmt != "GIF" else "P").save(made[kind], fmt)
    made[K.ZIP] = tmp_path / "archive.pdf"  # a ZIP of PDFs, stored: '%PDF' is in its first KiB
    with zipfile.ZipFile(made[K.ZIP], "w", zipfile.ZIP_STORED) as archive:
        archive.write(SAMPLES / "invoice_acme.pdf", "acme.pdf")
    assert b"%PDF" in made[K.ZIP].read_bytes()[:HEAD]
    made[K.DOCX] = tmp_path / "looks.zip"
    with zipfile.ZipFile(made[K.DOCX], "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    made[K.ODS] = tmp_path / "sheet.bin"
    with zipfile.ZipFile(made[K.ODS], "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    message = EmailMessage()
    message["From"], message["Subject"], message["Date"] = "a@b.example", "Invoice", "Tue, 03 Mar 2026 10:00:00 +0000"
    message.set_content("see attached")
    message.add_attachment((SAMPLES / "invoice_acme.pdf").read_bytes(), maintype="application", subtype="pdf",
                           filename="x.pdf")
    made[K.EML] = tmp_path / "mail.txt"
    made[K.EML].write_bytes(bytes(message))
    made[K.TAR] = tmp_path / "t.bin"
    with tarfile.open(made[K.TAR], "w") as archive:
        archive.add(SAMPLES / "invoice_acme.pdf", "acme.pdf")
    made[K.GZIP] = tmp_path / "g.bin"
    made[K.GZIP].write_bytes(gzip.compress((SAMPLES / "invoice_acme.pdf").read_bytes()))
    made[K.HTML] = tmp_path / "page.txt"
    made[K.HTML].write_text("\n  <!DOCTYPE html><html><body>Invoice</body></html>")
    made[K.RTF] = tmp_path / "r.bin"
    made[K.RTF].write_text("{\\rtf1\\ansi Invoice}")
    made[K.UNKNOWN] = tmp_path / "notes.pdf"
    made[K.UNKNOWN].write_text("Subject line without headers\nand some text")
    for kind, path in made.items():
        assert _kind(path) == kind, path


def test_heic_photos_are_images(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 48), "white").save(path, "HEIF")
    assert _kind(path) == K.HEIC


@pytest.mark.parametrize(("name", "kind"), [
    ("fake.docx", K.DOCX), ("stanley-cups.xlsx", K.XLSX), ("fake-power-point.pptx", K.PPTX), ("fake.odt", K.ODT),
    ("fake-doc.rtf", K.RTF), ("fake.doc", K.DOC), ("tests-example.xls", K.XLS), ("fake-power-point.ppt", K.PPT),
    ("fake-html.html", K.HTML), ("fake-email-attachment.msg", K.MSG), ("eml_fake-email-attachment.eml", K.EML),
    ("eml_fake-email-utf-16.eml", K.EML), ("simple.zip", K.ZIP), ("password_protected.xlsx", K.ENCRYPTED_OFFICE),
])
def test_the_corpus_office_and_email_files(name, kind):
    path = OFFICE / name
    if not path.is_file():
        pytest.skip(f"{path} is not here (../shared/corpus is expected beside the project)")
    assert _kind(path) == kind


def test_a_zip_read_without_its_path_is_an_archive():
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("a.txt", "x")
    assert identify(data.getvalue()[:HEAD]) == K.ZIP
