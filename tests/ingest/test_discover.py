"""Inputs are recognised by content, hashed, and none is dropped."""

from __future__ import annotations

import hashlib

from PIL import Image

from docpipe.ingest.discover import discover


def test_kinds_come_from_content_not_extension(tmp_path):
    Image.new("RGB", (10, 10)).save(tmp_path / "looks_like.pdf", format="PNG")
    Image.new("RGB", (10, 10)).save(tmp_path / "photo.txt", format="JPEG")
    (tmp_path / "real.bin").write_bytes(b"junk before the header\n%PDF-1.7\n...")
    (tmp_path / "notes.pdf").write_text("just text")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (10, 10)).save(tmp_path / "sub" / "scan.tiff", format="TIFF")
    (tmp_path / ".hidden.pdf").write_bytes(b"%PDF-1.4")
    kinds = {d.path.name: d.kind for d in discover(tmp_path)}
    assert kinds == {
        "looks_like.pdf": "png", "photo.txt": "jpeg", "real.bin": "pdf", "notes.pdf": "unknown",
        "empty.png": "empty", "scan.tiff": "tiff",
    }


def test_doc_id_is_the_sha256_of_the_bytes(tmp_path):
    data = b"%PDF-1.4 something"
    (tmp_path / "a.pdf").write_bytes(data)
    (tmp_path / "copy.pdf").write_bytes(data)
    docs = discover(tmp_path)
    assert {d.doc_id for d in docs} == {hashlib.sha256(data).hexdigest()}
    assert [d.size_bytes for d in docs] == [len(data), len(data)]


def test_an_unreadable_file_is_kept_with_its_reason(tmp_path):
    import os

    from docpipe.ingest.limits import RenderOptions
    from docpipe.ingest.render import render_document

    locked = tmp_path / "locked.pdf"
    locked.write_bytes(b"%PDF-1.4")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads anything: simulate with a path that vanishes
        locked.chmod(0o644)
        from unittest import mock

        with mock.patch("docpipe.ingest.discover._read", side_effect=PermissionError("denied")):
            (doc,) = discover(tmp_path)
    else:
        (doc,) = discover(tmp_path)
    assert doc.kind == "unreadable" and "denied" in doc.failure.message.lower()
    rendered = render_document(doc, 70, RenderOptions())
    assert rendered.failure.category == "unreadable" and rendered.failure.stage == "discover"
