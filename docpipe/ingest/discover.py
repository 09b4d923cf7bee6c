"""Find the input files under a folder and recognise what they are by their first bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from docpipe.core.errors import Category, Failure, Stage
from docpipe.core.types import SourceDocument
from docpipe.core.vocab import DocumentKind

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", DocumentKind.PNG),
    (b"\xff\xd8\xff", DocumentKind.JPEG),
    (b"II*\x00", DocumentKind.TIFF),
    (b"MM\x00*", DocumentKind.TIFF),
)


def sniff(head: bytes) -> DocumentKind:
    """The kind of a file from its first KiB: pdf, png, jpeg, tiff, empty or unknown."""
    if not head:
        return DocumentKind.EMPTY
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"%PDF-" in head[:1024]:  # PDF allows junk before the header
        return DocumentKind.PDF
    return DocumentKind.UNKNOWN


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def iter_files(root: Path) -> Iterator[Path]:
    """Every regular file under `root` in a stable order, skipping hidden files and folders."""
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file():
            yield path


def discover(root: Path, follow_links: bool = False) -> list[SourceDocument]:
    """All input files, each with its content hash and kind (unknown kinds are kept, not dropped).

    A symbolic link whose target lies outside `root` is not read unless `follow_links`: a link
    dropped into a served inbox must not make docpipe read (and send to a model) any file on the
    host. It gets its row, with category outside_input."""
    documents = []
    inside = Path(root).resolve()
    for path in iter_files(root):
        target = path.resolve()
        if not follow_links and target != inside and not target.is_relative_to(inside):
            key = hashlib.sha256(str(path.absolute()).encode()).hexdigest()
            failure = Failure(Stage.DISCOVER, Category.OUTSIDE_INPUT,
                              f"a link to {target}, outside the input folder: not read (--follow-links reads it)")
            documents.append(SourceDocument(path.absolute(), key, DocumentKind.UNREADABLE, 0, failure))
            continue
        try:
            with path.open("rb") as handle:
                head = handle.read(1024)
            documents.append(SourceDocument(path.resolve(), sha256_file(path), sniff(head), path.stat().st_size))
        except OSError as exc:  # unreadable or gone: still one row, never dropped
            key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()
            failure = Failure(Stage.DISCOVER, Category.UNREADABLE, f"the file cannot be read: {type(exc).__name__}: {exc}")
            documents.append(SourceDocument(path.resolve(), key, DocumentKind.UNREADABLE, 0, failure))
    return documents
