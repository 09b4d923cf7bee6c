"""`docpipe compact OUT`: many small Parquet files per table become one, while readers read and
runs write.

Runs append one file per table and chunk, and reviewers one corrections file per action, so a
folder ingested nightly grows thousands of small files. Compaction takes, per table, the files of
committed chunks (and whole runs rows, corrections, and earlier compacted files), writes them as one file `part-compact-<time>-<id>.parquet` whose metadata names
the chunk tags it holds (recovery.py counts them as committed) and the files it replaces, then
removes those files. Chunks still being written (no commit yet) are left alone.

Readers: docpipe's readers (tables.read_arrow) skip a file that a compacted file replaces, so they
never see a row twice; `pd.read_parquet(OUT/<table>)` sees the old files or the new one, except in
the moment between the new file's rename and the old files' removal (milliseconds), when it can see
both. One compaction at a time per folder (OUT/_compact.lock, the `filelock` library).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock

from docpipe.output.conform import conform
from docpipe.output.recovery import CHUNK_FILE, committed_tags, table_dirs
from docpipe.output.tables import COMPACT_PREFIX, REPLACES_KEY, TAGS_KEY, meta_list, write_parquet
from docpipe.output.versions import unify
from docpipe.schema.spec import Schema


RECORD_GROUP = 1024


@dataclass(frozen=True)
class Compacted:
    table: str
    files_before: int
    rows: int


def compact(out: Path) -> list[Compacted]:
    """Compact every table of `out` that has more than one compactable file."""
    out = Path(out)
    if not (out / "documents").is_dir():
        raise ValueError(f"{out} holds no docpipe tables (no documents folder)")
    done = []
    with FileLock(out / "_compact.lock"):
        committed = committed_tags(out)
        for folder in [*table_dirs(out), out / "runs"]:
            if folder.is_dir() and (result := _compact_folder(out, folder, committed)) is not None:
                done.append(result)
    return done


def compact_table(out: Path, name: str, target: pa.Schema, schema: Schema) -> int:
    """Rewrite records/<name>'s committed files as one in the columns and types of `target` (its
    table schema: versions.migrate) when any file differs from it; the files rewritten."""
    folder = out / "records" / name
    if not folder.is_dir():
        return 0
    with FileLock(out / "_compact.lock"):
        done = _compact_folder(out, folder, committed_tags(out), target, schema)
    return 0 if done is None else done.files_before


def _compact_folder(out: Path, folder: Path, committed: set[str], target: pa.Schema | None = None,
                    schema: Schema | None = None) -> Compacted | None:
    """The committed files of `folder` as one file; with `target` (a records table's columns),
    only when some file differs from it, and then in its columns and types."""
    files, tags = [], set()
    for path in sorted(folder.glob("part-*.parquet")):
        if path.name.startswith(COMPACT_PREFIX):
            files.append(path)
            tags |= meta_list(path, TAGS_KEY)
        elif folder.name in ("runs", "corrections"):
            files.append(path)  # a runs file is a whole run, a corrections file a reviewer's action: written once
        elif (match := CHUNK_FILE.fullmatch(path.name)) and (tag := f"{match['run']}-{match['seq']}") in committed:
            files.append(path)
            tags.add(tag)
    if target is not None:
        if not files or all(pq.read_schema(p).remove_metadata().equals(target) for p in files):
            return None
        arrow = pa.concat_tables([conform(pq.read_table(p), target, schema) for p in files])
    elif len(files) < 2:
        return None
    elif folder.parent.name == "records":  # written by several versions of its schema, perhaps
        arrow = unify(out, folder.name, [pq.read_table(p) for p in files])
    else:
        arrow = pa.concat_tables([pq.read_table(p) for p in files], promote_options="default")
    meta = dict(arrow.schema.metadata or {})
    meta[TAGS_KEY] = ",".join(sorted(tags)).encode()
    meta[REPLACES_KEY] = ",".join(p.name for p in files).encode()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    # a records table in row groups of RECORD_GROUP rows: one record is read back from its own
    # group (the review page, output/table_cache.py), not from a group of the whole table
    groups = RECORD_GROUP if folder.parent.name == "records" else None
    write_parquet(arrow.replace_schema_metadata(meta), folder / f"{COMPACT_PREFIX}{stamp}-{uuid.uuid4().hex[:8]}.parquet",
                  row_group_size=groups)
    for path in files:
        os.unlink(path)  # a reader holding it open keeps reading it (POSIX)
    return Compacted(str(folder.relative_to(out)), len(files), arrow.num_rows)
