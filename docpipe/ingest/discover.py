"""Find the input files under a folder, recognise what they are by their first bytes, and name each
by the sha256 of its content (read once: ingest/file_index.py remembers it)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from docpipe.core.errors import Category, Failure, Stage
from docpipe.core.types import SourceDocument
from docpipe.core.vocab import DocumentKind
from docpipe.ingest.file_index import Entry, FileIndex, Stat, known
from docpipe.ingest.kinds import HEAD, identify
from docpipe.ingest.selection import Selection

def sniff(head: bytes, path: Path | None = None) -> DocumentKind:
    """The kind of a file from its first KiB, and its members when it is a ZIP or OLE2 file
    (ingest/kinds.py)."""
    return identify(head, path)


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return _hash_rest(handle)


def _hash_rest(handle: BinaryIO, head: bytes = b"") -> str:
    """The sha256 of `head` and of what is left to read of `handle`, a MiB at a time."""
    digest = hashlib.sha256(head)
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _read(path: Path) -> tuple[Stat, str, DocumentKind]:
    """A file's stat (taken before its bytes are read: a file written meanwhile is hashed again
    next time), content hash and kind."""
    with path.open("rb") as handle:
        stat = Stat.of(os.fstat(handle.fileno()))
        head = handle.read(HEAD)
        return stat, _hash_rest(handle, head), identify(head, path)


def iter_files(root: Path) -> Iterator[Path]:
    """Every regular file under `root` (links to files included), streamed in a stable order
    (each folder's entries by name), skipping hidden files and folders, links to folders and
    docpipe output folders."""
    if root.is_file():
        yield root
        return
    for entry in _walk(root, Selection()):
        yield Path(entry.path)


def _walk(folder: Path | str, selection: Selection | None = None, relative: str = "") -> Iterator[os.DirEntry]:
    """iter_files' entries: scandir's, whose type needs no system call and whose stat one. With a
    `selection`, only the folders it walks and the files it takes (`relative`: `folder` under the root)."""
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        inner = f"{relative}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            if selection is None or selection.walks(entry.path, inner):
                yield from _walk(entry.path, selection, inner + "/")
        elif entry.is_file() and (selection is None or selection.takes(inner)):
            yield entry


def discover(root: Path, follow_links: bool = False, index: FileIndex | None = None, rehash: bool = False,
             workers: int | None = None, selection: Selection | None = None) -> list[SourceDocument]:
    """All input files, each with its content hash and kind (unknown kinds are kept, not dropped).

    With `index` (ingest/file_index.py), a file whose stat is what the index recorded is not read:
    its hash comes from the index; new and changed files are hashed by `workers` threads at once
    and added to the index. `rehash` reads every file again.

    A symbolic link whose target lies outside `root` is not read unless `follow_links`: a link
    dropped into a served inbox must not make docpipe read (and send to a model) any file on the
    host. It gets its row, with category outside_input.

    `selection` (ingest/selection.py): output folders are never walked (by default: any docpipe
    output folder under `root`), and --include / --exclude. Each document is named by its path
    relative to `root`."""
    inside = Path(root).resolve()
    known_files = {} if index is None or rehash else index.load()
    learnt: dict[str, Entry] = {}
    found: list[SourceDocument | tuple[Path, Future]] = []
    with ThreadPoolExecutor(workers or min(8, 2 * (os.cpu_count() or 1)), thread_name_prefix="docpipe-hash") as pool:
        for entry in [inside] if inside.is_file() else _walk(inside, selection or Selection()):
            path = entry if isinstance(entry, Path) else Path(entry.path)
            name = path.name if isinstance(entry, Path) else path.relative_to(inside).as_posix()
            if entry.is_symlink():
                target = path.resolve()
                if not follow_links and target != inside and not target.is_relative_to(inside):
                    key = hashlib.sha256(str(path.absolute()).encode()).hexdigest()
                    failure = Failure(Stage.DISCOVER, Category.OUTSIDE_INPUT,
                                      f"a link to {target}, outside the input folder: not read (--follow-links reads it)")
                    found.append(SourceDocument(path.absolute(), key, DocumentKind.UNREADABLE, 0, failure, name))
                    continue
                path = target
            try:
                stat = path.stat() if isinstance(entry, Path) or entry.is_symlink() else entry.stat()
                indexed = known(known_files, str(path), Stat.of(stat))
            except OSError:
                indexed = None  # gone meanwhile: reading it says so
            if indexed is not None and indexed.kind is None:  # recognised by an older docpipe: look again
                indexed = _recognised_again(path, indexed, learnt)
            if indexed is not None:
                found.append(SourceDocument(path, indexed.sha256, DocumentKind(indexed.kind), indexed.stat.size,
                                            name=name))
            else:
                found.append((path, name, pool.submit(_read, path)))
        documents = [item if isinstance(item, SourceDocument) else _document(*item, learnt) for item in found]
    if index is not None:
        index.add(learnt)
    return documents


def _recognised_again(path: Path, entry: Entry, learnt: dict[str, Entry]) -> Entry | None:
    """An indexed file's kind, recognised again from its head (its hash is kept)."""
    try:
        with path.open("rb") as handle:
            kind = identify(handle.read(HEAD), path)
    except OSError:
        return None  # gone meanwhile: reading it says so
    learnt[str(path)] = entry = Entry(entry.stat, entry.sha256, str(kind))
    return entry


def _document(path: Path, name: str, reading: Future, learnt: dict[str, Entry]) -> SourceDocument:
    try:
        stat, digest, kind = reading.result()
    except OSError as exc:  # unreadable or gone: still one row, never dropped
        key = hashlib.sha256(str(path).encode()).hexdigest()
        failure = Failure(Stage.DISCOVER, Category.UNREADABLE, f"the file cannot be read: {type(exc).__name__}: {exc}")
        return SourceDocument(path, key, DocumentKind.UNREADABLE, 0, failure, name)
    learnt[str(path)] = Entry(stat, digest, str(kind))
    return SourceDocument(path, digest, kind, stat.size, name=name)
