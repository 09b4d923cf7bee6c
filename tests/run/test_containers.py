"""A folder as people have it: e-mails with invoices attached, ZIPs from suppliers, images as
phones send them. Every document inside a container is a document of its own, with its lineage
(the container, its path inside, the e-mail it came with); the same attachment in two e-mails is
read once and both are listed; a rerun unpacks and reads nothing; bad containers get one row each
with a category, and nothing is written outside the output folder."""

from __future__ import annotations

import email
import email.policy
import io
import os
import time
import shutil
import subprocess
import tarfile
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from docpipe import read_table
from docpipe.ingest import unpack
from docpipe.run.config import RunConfig
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import CORPUS, SAMPLES
from tests.fakes import GroundTruthEngine
from tests.run.test_protocol import Notes


def _run(folder: Path, out: Path, **settings):
    config = RunConfig(input=folder, out=out, budget=280, render_workers=0, **settings)
    engine = GroundTruthEngine(SAMPLES)
    with plain_stages() as stages:
        return execute(config, engine, Notes(), resolve_schema("invoice"), stages), engine


def _mail(subject: str, attachments: dict[str, bytes], message_id: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = "billing@supplier.example", "ap@us.example"
    message["Subject"], message["Date"] = subject, "Tue, 03 Mar 2026 10:00:00 +0000"
    message["Message-ID"] = message_id
    message.set_content("Please find our invoice attached.")
    for name, data in attachments.items():
        maintype, subtype = ("application", "pdf") if data.startswith(b"%PDF") else ("application", "octet-stream")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return data.getvalue()


def _documents(out: Path) -> pd.DataFrame:
    return read_table(out, "documents", python_cells=True).set_index("name")


def test_emails_archives_and_phone_images_become_one_record_per_document(tmp_path, monkeypatch):
    folder, out = tmp_path / "inbox", tmp_path / "out"
    folder.mkdir()
    acme = (SAMPLES / "invoice_acme.pdf").read_bytes()
    (folder / "mail.eml").write_bytes(_mail("Invoice INV-2026-0142", {"invoice.pdf": acme}, "<1@supplier.example>"))
    (folder / "reminder.eml").write_bytes(_mail("Reminder", {"copy.pdf": acme}, "<2@supplier.example>"))
    (folder / "two.zip").write_bytes(_zip({  # stored: the first PDF's header is in the archive's first KiB
        "march/globex.pdf": (SAMPLES / "invoice_globex_2p.pdf").read_bytes(),
        "initech.png": (SAMPLES / "invoice_initech_scan.png").read_bytes(),
    }))
    (folder / "nested.zip").write_bytes(_zip({"inner.zip": _zip({"umbrella.tif": (SAMPLES / "invoice_umbrella_scan.tif").read_bytes()})}))
    Image.open(SAMPLES / "invoice_initech_scan.png").save(folder / "scan.webp", "WEBP", lossless=True)
    with tarfile.open(folder / "batch.tar.gz", "w:gz") as archive:  # a tar inside gzip: its member is a document
        archive.add(SAMPLES / "invoice_umbrella_scan.tif", "scans/umbrella.tif")
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    Image.open(SAMPLES / "receipt_grocery_scan.jpg").save(folder / "photo.heic", "HEIF", quality=95)

    result, engine = _run(folder, out)
    records = read_table(out, "invoice", python_cells=True).set_index("name")
    numbers = records["invoice_number"].to_dict()
    assert numbers["mail.eml/invoice.pdf"] == "INV-2026-0142"
    assert numbers["two.zip/march/globex.pdf"] == "RE-2026-00417"  # two records from the one ZIP
    assert numbers["two.zip/initech.png"] == "IT-88213"  # the scan, from the ZIP (its WebP copy: other bytes)
    assert numbers["batch.tar.gz/scans/umbrella.tif"] == "UMB-7730-B"
    assert sorted(numbers) == ["batch.tar.gz/scans/umbrella.tif", "mail.eml/invoice.pdf", "photo.heic", "scan.webp",
                               "two.zip/initech.png", "two.zip/march/globex.pdf"]  # the nested TIFF: same bytes, read once

    documents = _documents(out)
    for container in ("mail.eml", "reminder.eml", "two.zip", "nested.zip", "nested.zip/inner.zip"):
        assert documents.loc[container, "status"] == "unpacked", container
    attached = documents.loc["mail.eml/invoice.pdf"]
    assert attached["parent_doc_id"] == documents.loc["mail.eml", "doc_id"]
    assert (attached["path_in_parent"], attached["email_subject"], attached["email_message_id"]) == (
        "invoice.pdf", "Invoice INV-2026-0142", "<1@supplier.example>")
    assert attached["email_from"] == "billing@supplier.example"
    copy = documents.loc["reminder.eml/copy.pdf"]  # the same attachment in another e-mail: read once, listed
    assert (copy["status"], copy["error_category"], copy["email_subject"]) == ("skipped", "duplicate", "Reminder")
    assert pd.isna(documents.loc["nested.zip/inner.zip/umbrella.tif", "email_subject"])
    assert documents.loc["batch.tar.gz", "status"] == "unpacked"
    assert documents.loc["nested.zip/inner.zip/umbrella.tif", "error_category"] == "duplicate"
    assert documents.loc["photo.heic", ["kind", "pages"]].tolist() == ["heic", 1]

    unpacked = sorted(p.name for p in (out / "_unpacked").rglob("*"))
    def opened(path):
        raise AssertionError(f"a rerun opened {path}: what each member is was kept when it was unpacked")

    monkeypatch.setattr(unpack, "_identify", opened)
    again, engine = _run(folder, out)
    assert again.stats.processed == 0 and not engine.calls  # a rerun reads nothing ...
    assert sorted(p.name for p in (out / "_unpacked").rglob("*")) == unpacked  # ... and unpacks nothing


def test_an_email_without_an_attachment_is_read_by_its_body(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    message = EmailMessage()
    message["From"], message["Subject"] = "shop@cafe.example", "Your receipt"
    message["Date"] = "Tue, 03 Mar 2026 10:00:00 +0000"
    message.set_content("<html><body><h1>Receipt</h1><p>Total 12.50 EUR</p></body></html>", subtype="html")
    (folder / "receipt.eml").write_bytes(bytes(message))
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed (install.sh installs it): the body is an HTML page")
    _run(folder, tmp_path / "out")
    body = _documents(tmp_path / "out").loc["receipt.eml/body.html"]
    assert (body["kind"], body["email_subject"]) == ("html", "Your receipt")
    assert body["pages"] >= 1, body["error_message"]  # rendered (the test engine has no answer for it)
    pages = read_table(tmp_path / "out", "pages")
    assert (pages.loc[pages["doc_id"] == body["doc_id"], "render_width"] > 0).all()


def test_bad_containers_each_get_one_row_and_nothing_lands_outside_out(tmp_path):
    folder, out = tmp_path / "inbox", tmp_path / "out"
    folder.mkdir()
    (folder / "bomb.zip").write_bytes(_zip({"zeros.bin": b"\0" * (64 << 20)}, zipfile.ZIP_DEFLATED))
    deep = _zip({"umbrella.tif": (SAMPLES / "invoice_umbrella_scan.tif").read_bytes()})
    for _ in range(3):
        deep = _zip({"deeper.zip": deep})
    (folder / "deep.zip").write_bytes(deep)
    (folder / "escape.zip").write_bytes(_zip({"../../escaped.pdf": (SAMPLES / "invoice_acme.pdf").read_bytes(),
                                              "notes.txt": b"not a document"}))
    (folder / "broken.zip").write_bytes(_zip({"a.pdf": (SAMPLES / "invoice_acme.pdf").read_bytes()})[:300])
    (folder / "empty.zip").write_bytes(_zip({}))
    (folder / "broken.eml").write_bytes(b"From: a@b.example\nSubject: x\nContent-Type: multipart/mixed; boundary=\"zz\"\n\n--zz\n")
    _run(folder, out, unpack_depth=3)

    documents = _documents(out)
    assert (documents.loc["bomb.zip", "status"], documents.loc["bomb.zip", "error_category"]) == ("failed", "too_large")
    too_deep = documents.loc["deep.zip/deeper.zip/deeper.zip/deeper.zip"]  # the fourth level, with unpack_depth 3
    assert (too_deep["status"], too_deep["error_category"]) == ("failed", "too_large")
    assert documents.loc["deep.zip/deeper.zip/deeper.zip", "status"] == "unpacked"
    assert documents.loc["broken.zip", "error_category"] in ("corrupt", "too_large")
    escaped = documents.loc["escape.zip/../../escaped.pdf"]
    assert escaped["status"] == "ok" and Path(escaped["source_path"]).is_relative_to(out)
    assert not (tmp_path / "escaped.pdf").exists() and not (folder.parent.parent / "escaped.pdf").exists()
    assert documents.loc["escape.zip/notes.txt", "error_category"] == "unsupported"  # a member of its own
    broken = documents.loc["broken.eml"]  # the parser is lenient: what it finds is nothing to read
    assert (broken["status"], broken["error_category"]) == ("failed", "empty") and "no attachment" in broken["error_message"]
    assert documents.loc["empty.zip", "error_category"] == "empty"
    assert len(documents) == len(set(documents.index))  # one row each


def test_an_encrypted_zip_member_opens_with_a_given_password(tmp_path):
    if shutil.which("zip") is None:
        pytest.skip("the zip command makes the encrypted archive")
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(SAMPLES / "invoice_acme.pdf", tmp_path / "acme.pdf")
    subprocess.run(["zip", "-q", "-j", "-P", "s3cret", str(folder / "locked.zip"), str(tmp_path / "acme.pdf")], check=True)
    _run(folder, tmp_path / "out")
    locked = _documents(tmp_path / "out").loc["locked.zip"]
    assert (locked["status"], locked["error_category"]) == ("failed", "encrypted")
    result, _ = _run(folder, tmp_path / "out", passwords=("wrong", "s3cret"))
    assert result.stats.retried == {"passwords given: 0 -> 2": 1}
    records = read_table(tmp_path / "out", "invoice", python_cells=True)
    assert records.set_index("name").loc["locked.zip/acme.pdf", "invoice_number"] == "INV-2026-0142"


def test_the_corpus_emails_messages_and_archive_each_give_their_documents(tmp_path):
    office = CORPUS / "office_email"
    names = ["fake-email-attachment.msg", "fake-encrypted.msg", "eml_fake-email-attachment.eml",
             "eml_email-with-image.eml", "eml_fake-email-utf-16.eml", "eml_mime-html-only.eml", "simple.zip"]
    if not all((office / n).is_file() for n in names):
        pytest.skip("../shared/corpus/office_email is not beside the project")
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in names:
        shutil.copy(office / name, folder / name)
    _run(folder, tmp_path / "out")
    documents = _documents(tmp_path / "out")
    for name in names:
        assert documents.loc[name, "status"] == "unpacked", name
        inside = documents[documents["parent_doc_id"] == documents.loc[name, "doc_id"]]
        assert len(inside) >= 1, name
    assert documents.loc["eml_email-with-image.eml/unstructured_logo.png", "kind"] == "png"
    assert documents.loc["eml_email-with-image.eml/unstructured_logo.png", "pages"] == 1
    assert documents.loc["eml_mime-html-only.eml/body.html", "kind"] == "html"  # no attachment: its body
    assert documents.loc["fake-email-attachment.msg/fake-attachment.txt", "email_subject"] == "Fake email with attachment"
    assert documents.loc["simple.zip/stanley-cups.csv", "error_category"] == "unsupported"  # a member of its own


def test_a_forwarded_email_is_a_document_of_its_own_and_its_attachment_is_its_own(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    inner = email.message_from_bytes(_mail("Invoice INV-2026-0142", {"acme.pdf": (SAMPLES / "invoice_acme.pdf").read_bytes()},
                                           "<inner@supplier.example>"), policy=email.policy.default)
    outer = EmailMessage()
    outer["From"], outer["Subject"], outer["Date"] = "colleague@us.example", "Fwd: Invoice", "Wed, 04 Mar 2026 09:00:00 +0000"
    outer.set_content("forwarding the invoice below")
    outer.add_attachment(inner)
    (folder / "fwd.eml").write_bytes(bytes(outer))
    _run(folder, tmp_path / "out")
    documents = _documents(tmp_path / "out")
    assert sorted(documents.index) == ["fwd.eml", "fwd.eml/attached-1.eml", "fwd.eml/attached-1.eml/acme.pdf"]
    attached = documents.loc["fwd.eml/attached-1.eml/acme.pdf"]
    assert (attached["status"], attached["email_subject"]) == ("ok", "Invoice INV-2026-0142")
    assert documents.loc["fwd.eml/attached-1.eml", "parent_doc_id"] == documents.loc["fwd.eml", "doc_id"]


def test_an_archive_still_being_written_waits_before_it_is_unpacked(tmp_path):
    folder, out = tmp_path / "inbox", tmp_path / "out"
    folder.mkdir()
    (folder / "arriving.zip").write_bytes(_zip({"acme.pdf": (SAMPLES / "invoice_acme.pdf").read_bytes()}))
    first, _ = _run(folder, out, settle_seconds=60)
    assert first.stats.found == 0 and not (out / "_unpacked").exists()  # not even opened yet
    old = time.time() - 600
    os.utime(folder / "arriving.zip", (old, old))  # the copy has finished
    second, _ = _run(folder, out, settle_seconds=60)
    assert second.stats.processed == 1 and "arriving.zip/acme.pdf" in set(_documents(out).index)
