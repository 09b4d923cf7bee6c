"""Containers become documents: every member of an archive and every attachment of an e-mail is
a document of its own, read like any file of the folder.

    OUT/_unpacked/<container sha256>/<n>-<name>      the members, written once per content
    OUT/_unpacked/<container sha256>/unpacked.json   what they are: inner path, lineage, or why not

A container is unpacked once per content: a rerun reads unpacked.json and writes nothing. Members
are written under names docpipe makes (`0003-invoice.pdf`), never under the names the archive
gives (`../../x` writes nothing outside OUT). Limits, each a failure with a category and the
container's own row: members whose bytes would pass `max_bytes` in all or a compression ratio over
`max_ratio` (a ZIP bomb: too_large; sizes are counted as bytes come out, not taken from headers),
more than `max_members`, containers nested deeper than `max_depth` (too_large), an encrypted
member no given password opens (encrypted), a container that cannot be parsed (corrupt).

E-mail (the standard library's parser, modern policy) and Outlook MSG (extract-msg): each
attachment is a member (an attached e-mail is one too); the sender, subject, date and message id
travel with every document inside. An e-mail without a document attached is read by its body:
its HTML (or its text) is the document, as a person would print the mail.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import json
import os
import re
import shutil
import tarfile
import uuid
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from docpipe.core.errors import Category, DocpipeError, Failure, Stage
from docpipe.core.types import Lineage, SourceDocument
from docpipe.core.vocab import DocumentKind
from docpipe.ingest.file_index import KINDS_VERSION
from docpipe.ingest.kinds import HEAD, identify, looks_like_html, shape

UNPACKED = "_unpacked"
MARKER = "unpacked.json"
_SAFE = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True)
class UnpackLimits:
    max_depth: int = 3  # containers inside containers
    max_members: int = 1000
    max_bytes: int = 1 << 30  # all members of one container together, unpacked
    max_ratio: float = 200.0  # unpacked / packed size of one member
    passwords: tuple[str, ...] = ()  # tried on encrypted ZIP members


@dataclass(frozen=True)
class Member:
    """A member as unpacked.json keeps it."""

    file: str  # its file under the container's folder
    inner: str  # its path inside the container, as the container names it
    sha256: str
    size: int
    email: tuple[str | None, str | None, str | None, str | None] | None = None  # from, subject, date, message id
    kind: str | None = None  # recognised when unpacked (None: under another version of ingest/kinds.py)


def unpack_all(documents: Sequence[SourceDocument], out: Path, limits: UnpackLimits) -> list[SourceDocument]:
    """`documents`, each container followed by the documents inside it (recursively, up to the
    depth limit); a container that could not be unpacked carries its failure."""
    found: list[SourceDocument] = []
    for document in documents:
        found.extend(_expand(document, Path(out), limits, 0))
    return found


def _expand(document: SourceDocument, out: Path, limits: UnpackLimits, depth: int) -> Iterator[SourceDocument]:
    if document.failure is not None or shape(document.kind) != "container":
        yield document
        return
    if depth >= limits.max_depth:
        yield replace(document, failure=Failure(Stage.DISCOVER, Category.TOO_LARGE, (
            f"a {document.kind} nested {depth} containers deep: over the limit of {limits.max_depth}")))
        return
    try:
        members, email_meta = _unpacked(document, out, limits)
    except DocpipeError as exc:
        yield replace(document, failure=Failure(Stage.DISCOVER, exc.category, exc.message))
        return
    lineage = document.lineage
    inherited = email_meta or (lineage.email if lineage is not None else None)
    if not members:  # nothing inside: said, not silently "unpacked"
        what = "no attachment and no body" if document.kind in (DocumentKind.EML, DocumentKind.MSG) else "no file"
        yield replace(document, lineage=_with_email(lineage, email_meta),
                      failure=Failure(Stage.DISCOVER, Category.EMPTY, f"the {document.kind} holds {what}"))
        return
    yield replace(document, lineage=_with_email(lineage, email_meta))
    folder = out / UNPACKED / document.doc_id
    for member in members:
        path = folder / member.file
        kind = DocumentKind(member.kind) if member.kind else _identify(path)
        child = SourceDocument(
            path, member.sha256, kind, member.size, name=f"{document.shown_name}/{member.inner}",
            lineage=Lineage(document.doc_id, member.inner, member.email or inherited),
        )
        yield from _expand(child, out, limits, depth + 1)


def _identify(path: Path) -> DocumentKind:
    with path.open("rb") as handle:
        return identify(handle.read(HEAD), path)


def _with_email(lineage: Lineage | None, meta: tuple | None) -> Lineage | None:
    if meta is None:
        return lineage
    return Lineage(None, None, meta) if lineage is None else replace(lineage, email=meta)


def _unpacked(document: SourceDocument, out: Path, limits: UnpackLimits) -> tuple[list[Member], tuple | None]:
    """The members of a container, unpacked now or by an earlier run (unpacked.json)."""
    folder = out / UNPACKED / document.doc_id
    marker = folder / MARKER
    if marker.is_file():
        return _read_marker(marker)
    tmp = out / UNPACKED / f".{document.doc_id}.{uuid.uuid4().hex}.tmp"
    tmp.mkdir(parents=True)
    try:
        writer = _Writer(tmp, limits)
        meta = UNPACKERS[document.kind](document.path, writer, limits)
        (tmp / MARKER).write_text(json.dumps({"members": [m.__dict__ for m in writer.members], "email": meta,
                                              "kinds": KINDS_VERSION.decode()}))
        try:
            os.rename(tmp, folder)  # another run that unpacked it first keeps its folder
        except OSError:
            if not marker.is_file():
                raise
        return _read_marker(marker)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_marker(marker: Path) -> tuple[list[Member], tuple | None]:
    data = json.loads(marker.read_text())
    current = data.get("kinds") == KINDS_VERSION.decode()  # kinds recognised as this docpipe does: trusted
    members = [Member(**{**m, "email": tuple(m["email"]) if m.get("email") else None,
                         "kind": m.get("kind") if current else None}) for m in data["members"]]
    return members, tuple(data["email"]) if data.get("email") else None


class _Writer:
    """Writes members under names docpipe makes, counting bytes against the limits."""

    def __init__(self, folder: Path, limits: UnpackLimits):
        self.folder, self.limits = folder, limits
        self.members: list[Member] = []
        self.total = 0

    def add(self, inner: str, source: IO[bytes], packed: int | None = None,
            mail: tuple | None = None) -> None:
        if len(self.members) >= self.limits.max_members:
            raise DocpipeError(Category.TOO_LARGE, f"more than {self.limits.max_members} members")
        base = _SAFE.sub("_", inner.replace("\\", "/").rsplit("/", 1)[-1]).strip(". ") or "member"
        name = f"{len(self.members) + 1:04d}-{base[:100]}"
        digest, size = hashlib.sha256(), 0
        with (self.folder / name).open("wb") as target:
            for block in iter(lambda: source.read(1 << 20), b""):
                size += len(block)
                self.total += len(block)
                if self.total > self.limits.max_bytes:
                    raise DocpipeError(Category.TOO_LARGE, (
                        f"its members unpack to more than {self.limits.max_bytes >> 20} MiB (a ZIP bomb?): not unpacked"))
                if packed is not None and size > max(packed, 1024) * self.limits.max_ratio:
                    raise DocpipeError(Category.TOO_LARGE, (
                        f"member {inner!r} unpacks to over {self.limits.max_ratio:g} times its packed size "
                        "(a ZIP bomb?): not unpacked"))
                digest.update(block)
                target.write(block)
        self.members.append(Member(name, inner, digest.hexdigest(), size, mail, str(_identify(self.folder / name))))

    def add_bytes(self, inner: str, data: bytes, mail: tuple | None = None) -> None:
        import io

        self.add(inner, io.BytesIO(data), mail=mail)


def _zip(path: Path, writer: _Writer, limits: UnpackLimits) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocpipeError(Category.CORRUPT, f"the ZIP archive cannot be read: {exc}") from exc
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            password = _zip_password(archive, info, limits.passwords) if info.flag_bits & 0x1 else None
            try:
                with archive.open(info, pwd=password) as source:
                    writer.add(info.filename, source, info.compress_size)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                raise DocpipeError(Category.CORRUPT, f"member {info.filename!r} cannot be unpacked: {exc}") from exc
    return None


def _zip_password(archive: zipfile.ZipFile, info: zipfile.ZipInfo, passwords: tuple[str, ...]) -> bytes:
    for password in passwords:
        try:
            with archive.open(info, pwd=password.encode()) as source:
                source.read(1)
            return password.encode()
        except (RuntimeError, zipfile.BadZipFile, NotImplementedError, zlib.error):
            continue
    tried = f" (none of the {len(passwords)} given passwords opens it)" if passwords else ""
    raise DocpipeError(Category.ENCRYPTED, (
        f"the ZIP member {info.filename!r} is encrypted{tried}; pass the password with --password or --password-file"))


def _tar(path: Path, writer: _Writer, limits: UnpackLimits) -> None:
    try:
        with tarfile.open(path, mode="r:*") as archive:
            for info in archive:
                if not info.isfile():
                    continue  # links, devices, folders: nothing to read
                source = archive.extractfile(info)
                if source is not None:
                    writer.add(info.name, source, None)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DocpipeError(Category.CORRUPT, f"the tar archive cannot be read: {exc}") from exc
    return None


def _gzip(path: Path, writer: _Writer, limits: UnpackLimits) -> None:
    import gzip

    if tarfile.is_tarfile(path):
        return _tar(path, writer, limits)
    try:
        with gzip.open(path, "rb") as source:
            writer.add(Path(path).name.removesuffix(".gz") or "member", source, path.stat().st_size)
    except (OSError, EOFError) as exc:
        raise DocpipeError(Category.CORRUPT, f"the gzip file cannot be read: {exc}") from exc
    return None


def _eml(path: Path, writer: _Writer, limits: UnpackLimits) -> tuple | None:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16", errors="replace").encode("utf-8")
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
        meta = _mail_meta(message.get("from"), message.get("subject"), message.get("date"), message.get("message-id"))
        attached = 0
        for part in _parts(message):
            disposition = part.get_content_disposition()
            filename = part.get_filename()
            if part.get_content_type() == "message/rfc822":
                inner = part.get_payload(0) if part.is_multipart() else part.get_payload()
                writer.add_bytes(filename or f"attached-{attached + 1}.eml", bytes(inner), meta)
                attached += 1
            elif disposition == "attachment" or (filename and not part.get_content_maintype() == "text"):
                payload = part.get_payload(decode=True)
                if payload:
                    writer.add_bytes(filename or f"attachment-{attached + 1}", payload, meta)
                    attached += 1
        if not attached:
            body = _body_html(message)
            if body is not None:
                writer.add_bytes("body.html", body.encode("utf-8"), meta)
    except DocpipeError:
        raise
    except Exception as exc:  # noqa: BLE001 - the parser on a broken e-mail: this container fails alone
        raise DocpipeError(Category.CORRUPT, f"the e-mail cannot be parsed: {type(exc).__name__}: {exc}") from exc
    return meta


def _parts(message: Any) -> Iterator[Any]:
    """The leaf parts of an e-mail and the e-mails attached to it, without going inside those
    (an attached e-mail is a document of its own: its attachments are its own)."""
    for part in message.iter_parts() if message.is_multipart() else ():
        if part.get_content_type() == "message/rfc822" or not part.is_multipart():
            yield part
        else:
            yield from _parts(part)


def _body_html(message: Any) -> str | None:
    """The e-mail's body as an HTML page: its HTML part, or its text in a <pre>; None when empty."""
    part = message.get_body(preferencelist=("html", "plain"))
    if part is None:
        return None
    text = part.get_content()
    if not str(text).strip():
        return None
    return _page(str(text), part.get_content_subtype() == "html")


def _page(text: str, is_html: bool) -> str:
    """A mail body as an HTML page: HTML as it is (a fragment, <div>..., in a page of its own),
    text in a <pre>."""
    if not is_html:
        return f"<html><body><pre style='white-space: pre-wrap'>{html.escape(text)}</pre></body></html>"
    return text if looks_like_html(text[:HEAD].encode()) else f"<html><body>{text}</body></html>"


def _mail_meta(sender: Any, subject: Any, date: Any, message_id: Any) -> tuple | None:
    values = tuple(None if v is None else " ".join(str(v).split()) for v in (sender, subject, date, message_id))
    return values if any(values) else None


def _msg(path: Path, writer: _Writer, limits: UnpackLimits) -> tuple | None:
    import extract_msg

    try:
        message = extract_msg.openMsg(str(path))
    except Exception as exc:  # noqa: BLE001 - a broken message: this container fails alone
        raise DocpipeError(Category.CORRUPT, f"the Outlook message cannot be read: {type(exc).__name__}: {exc}") from exc
    try:
        meta = _mail_meta(getattr(message, "sender", None), getattr(message, "subject", None),
                          getattr(message, "date", None), getattr(message, "messageId", None))
        attached = 0
        for attachment in getattr(message, "attachments", []):
            data = getattr(attachment, "data", None)
            name = getattr(attachment, "longFilename", None) or getattr(attachment, "shortFilename", None)
            if isinstance(data, bytes) and data:
                writer.add_bytes(name or f"attachment-{attached + 1}", data, meta)
                attached += 1
            elif data is not None and hasattr(data, "exportBytes"):  # an attached message
                writer.add_bytes(f"{name or f'attached-{attached + 1}'}.msg", data.exportBytes(), meta)
                attached += 1
        if not attached:
            body = getattr(message, "htmlBody", None)
            text = _page(body.decode("utf-8", errors="replace"), True) if isinstance(body, bytes) and body.strip() else None
            if not text and (plain := getattr(message, "body", None)) and str(plain).strip():
                text = _page(str(plain), False)
            if text:
                writer.add_bytes("body.html", text.encode("utf-8"), meta)
    except DocpipeError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise DocpipeError(Category.CORRUPT, f"the Outlook message cannot be read: {type(exc).__name__}: {exc}") from exc
    finally:
        message.close()
    return meta


UNPACKERS = {
    DocumentKind.ZIP: _zip, DocumentKind.TAR: _tar, DocumentKind.GZIP: _gzip,
    DocumentKind.EML: _eml, DocumentKind.MSG: _msg,
}
