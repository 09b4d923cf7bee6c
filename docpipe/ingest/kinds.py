"""Every input kind in one place: how it is recognised by content, and what it becomes.

A kind is one entry of KINDS: its shape, and what people call it.

- `pages`: rendered page by page (ingest/render.py): PDF, and the raster images (PNG, JPEG, TIFF,
  WebP, BMP, GIF, HEIC), EXIF-turned.
- `converted`: turned into a PDF by LibreOffice first (ingest/convert.py), then read as a PDF:
  Word, Excel, PowerPoint, OpenDocument, RTF, HTML.
- `container`: its members or attachments are documents of their own (ingest/unpack.py): ZIP,
  tar, gzip, e-mail (EML), Outlook messages (MSG).
- `none`: not a document (empty, unknown, a password-protected Office file: its row says why).

`identify(head, path)` recognises a file by its first KiB and, for ZIP and OLE2 files, by their
members and streams: a DOCX is a ZIP holding word/document.xml, an Outlook message an OLE2 file
with __substg1.0_ streams, an e-mail a text file that starts with header lines. Never by name.

To add a kind: a DocumentKind value (core/vocab.py), an entry here with its shape and how it is
recognised, and, for `pages`, the renderer's branch; a container's unpacker in unpack.py.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from docpipe.core.vocab import DocumentKind as K


@dataclass(frozen=True)
class KindInfo:
    shape: str  # pages | converted | container | none
    label: str  # what people call it


KINDS: dict[K, KindInfo] = {
    K.PDF: KindInfo("pages", "PDF"),
    K.PNG: KindInfo("pages", "PNG image"),
    K.JPEG: KindInfo("pages", "JPEG image"),
    K.TIFF: KindInfo("pages", "TIFF image"),
    K.WEBP: KindInfo("pages", "WebP image"),
    K.BMP: KindInfo("pages", "BMP image"),
    K.GIF: KindInfo("pages", "GIF image"),
    K.HEIC: KindInfo("pages", "HEIC/HEIF photo"),
    K.ZIP: KindInfo("container", "ZIP archive"),
    K.TAR: KindInfo("container", "tar archive"),
    K.GZIP: KindInfo("container", "gzip file"),
    K.EML: KindInfo("container", "e-mail"),
    K.MSG: KindInfo("container", "Outlook message"),
    K.DOCX: KindInfo("converted", "Word document"),
    K.XLSX: KindInfo("converted", "Excel workbook"),
    K.PPTX: KindInfo("converted", "PowerPoint presentation"),
    K.ODT: KindInfo("converted", "OpenDocument text"),
    K.ODS: KindInfo("converted", "OpenDocument spreadsheet"),
    K.ODP: KindInfo("converted", "OpenDocument presentation"),
    K.RTF: KindInfo("converted", "RTF document"),
    K.DOC: KindInfo("converted", "Word 97-2003 document"),
    K.XLS: KindInfo("converted", "Excel 97-2003 workbook"),
    K.PPT: KindInfo("converted", "PowerPoint 97-2003 presentation"),
    K.HTML: KindInfo("converted", "HTML page"),
    K.ENCRYPTED_OFFICE: KindInfo("none", "password-protected Office file"),
    K.UNKNOWN: KindInfo("none", "unknown file"),
    K.EMPTY: KindInfo("none", "empty file"),
    K.UNREADABLE: KindInfo("none", "unreadable file"),
}

HEAD = 1024  # bytes read to recognise a file
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", K.PNG),
    (b"\xff\xd8\xff", K.JPEG),
    (b"II*\x00", K.TIFF),
    (b"MM\x00*", K.TIFF),
    (b"GIF87a", K.GIF),
    (b"GIF89a", K.GIF),
    (b"BM", K.BMP),
    (b"\x1f\x8b", K.GZIP),
    (b"{\\rtf", K.RTF),
)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"heif", b"avif"}
_OPENDOCUMENT = {
    b"application/vnd.oasis.opendocument.text": K.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": K.ODS,
    b"application/vnd.oasis.opendocument.presentation": K.ODP,
}
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]")  # a field name (printable, no colon), a colon
_MAIL_FIELDS = (b"from:", b"to:", b"subject:", b"date:", b"message-id:", b"mime-version:", b"received:",
                b"return-path:", b"delivered-to:")


def shape(kind: K | str) -> str:
    return KINDS[K(kind)].shape


def label(kind: K | str) -> str:
    return KINDS[K(kind)].label


def identify(head: bytes, path: Path | None = None) -> K:
    """The kind of a file from its first KiB (`head`), and for ZIP and OLE2 files from their
    members or streams (read from `path`; without it, a ZIP is a ZIP and an OLE2 file unknown)."""
    if not head:
        return K.EMPTY
    if head.startswith(_ZIP):
        return _zip_kind(path) if path is not None else K.ZIP
    if head.startswith(_OLE2):
        return _ole_kind(path) if path is not None else K.UNKNOWN
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return K.WEBP
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return K.HEIC
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) > 262 and head[257:262] == b"ustar":
        return K.TAR
    if _is_mail(head):
        return K.EML
    if b"%PDF-" in head[:HEAD]:  # PDF allows junk before the header
        return K.PDF
    if looks_like_html(head):
        return K.HTML
    return K.UNKNOWN


def _zip_kind(path: Path) -> K:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100].strip()
                if mimetype in _OPENDOCUMENT:
                    return _OPENDOCUMENT[mimetype]
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, NotImplementedError):
        return K.ZIP  # unpacking it says what is wrong
    if "[Content_Types].xml" in names:
        for prefix, kind in (("word/", K.DOCX), ("xl/", K.XLSX), ("ppt/", K.PPTX)):
            if any(n.startswith(prefix) for n in names):
                return kind
    return K.ZIP


def _ole_kind(path: Path) -> K:
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except Exception:  # noqa: BLE001 - a broken OLE2 file, whatever the parser raises: not one we read
        return K.UNKNOWN
    top = {s.split("/", 1)[0] for s in streams}
    if "EncryptedPackage" in top:
        return K.ENCRYPTED_OFFICE
    if any(s.startswith("__substg1.0_") for s in top):
        return K.MSG
    if "WordDocument" in top:
        return K.DOC
    if "Workbook" in top or "Book" in top:
        return K.XLS
    if "PowerPoint Document" in top:
        return K.PPT
    return K.UNKNOWN


def _is_mail(head: bytes) -> bool:
    """Header lines first (RFC 5322: `Name: value`, folded lines start with white space), with at
    least two fields an e-mail has (From, Subject, Date, Message-ID, MIME-Version, Received...)."""
    text = _ascii(head)
    lines = text.split(b"\n")[:-1] or [text]
    seen, headers = set(), 0
    for line in lines[:40]:
        line = line.rstrip(b"\r")
        if not line:
            break  # the blank line that ends the headers
        if line[:1] in (b" ", b"\t"):
            continue
        if not _HEADER_LINE.match(line):
            return False
        headers += 1
        seen |= {f for f in _MAIL_FIELDS if line.lower().startswith(f)}
    return headers >= 2 and len(seen) >= 2


def _ascii(head: bytes) -> bytes:
    """The text of a file's head, byte order marks and UTF-16 undone."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[: len(head) // 2 * 2].decode("utf-16", errors="ignore").encode("ascii", errors="ignore")
    return head.removeprefix(b"\xef\xbb\xbf")


def looks_like_html(head: bytes) -> bool:
    """An HTML page by its first bytes (a doctype or an <html>, <head>, <body> or <meta> tag)."""
    text = _ascii(head).lstrip(b" \t\r\n").lower()
    return text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta")) or (
        text.startswith((b"<?xml", b"<!--")) and b"<html" in text)
