"""What discovery learnt about the input files, kept in the output folder: a file whose stat is
unchanged is not read again.

    OUT/.file_index/seg-<time>-<id>.parquet    path, size, mtime_ns, ctime_ns, dev, inode -> sha256, kind

A file is trusted when its path, size, mtime, ctime, device and inode all equal what the index
recorded when it last hashed the file; anything else is read and hashed again. The ctime is what
makes this safe against a file replaced by another with the same size and mtime (`cp -p` over it,
`touch -r`, `rsync -t`): a program can set a file's mtime to anything, but not its ctime, which
the kernel sets to now on every write, rename onto and chmod. A file on a filesystem whose stat is
unreliable (some network mounts) can always be read again with `--rehash`.

Each run that hashed something adds one segment, written under a temporary name and renamed into
place (a kill -9 leaves the old segments whole, and at worst a temporary file): runs writing into
one output folder at once never overwrite each other's segments. Reading unions the segments, the
newest entry of a path winning. A segment that cannot be read whole (truncated, corrupt, not
Parquet) is moved aside and never trusted: its files are hashed again. Past MAX_SEGMENTS the
segments are merged into one.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

INDEX_DIR = ".file_index"
MAX_SEGMENTS = 16
# how kinds are recognised (ingest/kinds.py); an entry written under another version keeps its
# hash but not its kind (None: recognised again from the file's head, without hashing it again)
KINDS_VERSION = b"2"
KINDS_KEY = b"docpipe.kinds"
SCHEMA = pa.schema([
    ("path", pa.string()), ("size", pa.int64()), ("mtime_ns", pa.int64()), ("ctime_ns", pa.int64()),
    ("dev", pa.uint64()), ("inode", pa.uint64()), ("sha256", pa.string()), ("kind", pa.string()),
])


@dataclass(frozen=True)
class Stat:
    """What says a file is the one hashed before."""

    size: int
    mtime_ns: int
    ctime_ns: int
    dev: int
    inode: int

    @classmethod
    def of(cls, result: os.stat_result) -> Stat:
        return cls(result.st_size, result.st_mtime_ns, result.st_ctime_ns, result.st_dev, result.st_ino)


@dataclass(frozen=True)
class Entry:
    stat: Stat
    sha256: str
    kind: str | None  # None: recognised under an older version of ingest/kinds.py


class FileIndex:
    """The index of one output folder: `load` what is known, `add` what was learnt."""

    def __init__(self, out: Path):
        self.folder = Path(out) / INDEX_DIR
        self.set_aside: list[Path] = []  # segments found unreadable by `load`

    def load(self) -> dict[str, Entry]:
        """Every path's newest entry (an empty index when there is none)."""
        return self._union(self._segments())

    def _union(self, segments: list[Path]) -> dict[str, Entry]:
        """The entries of `segments`, a later segment's entry of a path winning."""
        entries: dict[str, Entry] = {}
        for segment in segments:
            table = self._read(segment)
            if table is not None:
                entries |= _entries(table)
        return entries

    def add(self, learnt: Mapping[str, Entry]) -> Path | None:
        """One new segment with `learnt`; merges the segments when there are too many."""
        if not learnt:
            return None
        path = self._write(learnt)
        if len(self._segments()) > MAX_SEGMENTS:
            self.merge()
        return path

    def merge(self) -> None:
        """The segments as one (a segment another run adds meanwhile is kept beside it)."""
        segments = self._segments()
        self._write(self._union(segments))
        for segment in segments:
            segment.unlink(missing_ok=True)

    def _segments(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.name.startswith("seg-") and p.suffix == ".parquet")

    def _read(self, segment: Path) -> pa.Table | None:
        try:
            table = pq.read_table(segment)
            if not table.schema.equals(SCHEMA, check_metadata=False):
                raise ValueError(f"unexpected columns {table.schema.names}")
            return table
        except FileNotFoundError:  # merged away by another run meanwhile: its entries are in the merge
            return None
        except (OSError, ValueError, pa.ArrowException):
            target = self.folder.parent / ".orphaned" / INDEX_DIR / segment.name
            target.parent.mkdir(parents=True, exist_ok=True)
            segment.replace(target)
            self.set_aside.append(target)
            return None

    def _write(self, entries: Mapping[str, Entry]) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        paths = list(entries)
        values = [entries[p] for p in paths]
        table = pa.table({
            "path": paths,
            "size": [e.stat.size for e in values], "mtime_ns": [e.stat.mtime_ns for e in values],
            "ctime_ns": [e.stat.ctime_ns for e in values], "dev": [e.stat.dev for e in values],
            "inode": [e.stat.inode for e in values], "sha256": [e.sha256 for e in values],
            "kind": [e.kind for e in values],
        }, schema=SCHEMA.with_metadata({KINDS_KEY: KINDS_VERSION}))
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"seg-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)
        return path


def _entries(table: pa.Table) -> dict[str, Entry]:
    columns = [table.column(name).to_pylist() for name in SCHEMA.names]
    current = (table.schema.metadata or {}).get(KINDS_KEY) == KINDS_VERSION
    return {path: Entry(Stat(size, mtime, ctime, dev, inode), sha, kind if current else None)
            for path, size, mtime, ctime, dev, inode, sha, kind in zip(*columns, strict=True)}


def known(entries: Mapping[str, Entry], path: str, stat: Stat) -> Entry | None:
    """The entry of `path` when the file is still the one it describes."""
    entry = entries.get(path)
    return entry if entry is not None and entry.stat == stat else None
