"""The output tables: explicit Arrow schemas, atomic appends, readers that unify schemas.

Layout under the output folder (each table a folder of Parquet files, one or more per run):

    documents/  pages/  generations/  errors/  runs/  records/<schema>/

A file is written as a dot-prefixed temporary file and renamed into place, so a reader (pyarrow
and pandas skip names starting with '.' or '_') never sees half a file, and names are unique per
run and part, so nothing is ever overwritten.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from docpipe.output.record_columns import record_fields
from docpipe.output.rows import ROW_CLASSES, UTC_TS, arrow_schema, as_dict
from docpipe.schema.spec import Schema

FIXED = {name: arrow_schema(row_class) for name, row_class in ROW_CLASSES.items()}
DOCUMENTS, PAGES, GENERATIONS, ERRORS, RUNS, TRANSCRIPTS, SEGMENTS = (
    FIXED[name] for name in ("documents", "pages", "generations", "errors", "runs", "transcripts", "segments")
)

RECORD_META = [
    ("doc_id", pa.string()),
    ("source_path", pa.string()),  # the file read (a copy of it elsewhere: the documents table lists it)
    ("name", pa.string()),  # that file's path relative to the input folder
    ("work_key", pa.string()),
    ("run_id", pa.string()),
    ("schema_version", pa.int32()),
    ("model", pa.string()),
    ("budget", pa.int32()),
    ("valid", pa.bool_()),  # every value the model gave fitted its field (= parsed; kept for older readers)
    ("parsed", pa.bool_()),  # every value the model gave fitted its field
    ("complete", pa.bool_()),  # no required value is missing
    ("consistent", pa.bool_()),  # no check of the schema fails
    ("missing", pa.list_(pa.string())),  # the required values it lacks
    ("checks_failed", pa.list_(pa.struct([("check", pa.string()), ("detail", pa.string()),
                                           ("difference", pa.float64())]))),
    ("not_on_page", pa.list_(pa.string())),  # values a page with a text layer does not hold: likely invented
    ("lowest_confidence", pa.float64()),  # the least certain field
    ("extracted_at", UTC_TS),
    # how the printed amounts and dates were typed (README: Typed values)
    ("date_order", pa.string()),  # DMY | MDY | YMD, or null when the evidence conflicted
    ("date_order_rule", pa.string()),  # setting | dates: ... | month names: ... | currency: ... | default
    ("decimal_mark", pa.string()),  # "." or ",", or null when nothing settled it
    ("decimal_rule", pa.string()),
    ("printed_currency", pa.string()),  # ISO codes of the currency the amounts print, "/"-joined
    # sorting (--split): the pages of the file this record is about; null: the whole file
    ("segment", pa.int32()),
    ("page_from", pa.int32()),
    ("page_to", pa.int32()),
]


COMPACT_PREFIX = "part-compact-"  # files written by `docpipe compact` (output/compact.py)
TAGS_KEY = b"docpipe.chunk_tags"  # a compacted file's metadata: the chunks it holds
REPLACES_KEY = b"docpipe.replaces"  # ... and the file names it replaces


READERS = 4  # threads reading a table's files side by side (read_arrow), when there are MANY_FILES
MANY_FILES = 32

def records_schema(schema: Schema) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in RECORD_META] + record_fields(schema))


def table_dir(out: Path, table: str) -> Path:
    """`documents`, `pages`, ... or a schema name for its records table."""
    return out / table if table in FIXED else out / "records" / table


def write_rows(out: Path, table: str, rows: Sequence[Any], schema: pa.Schema, tag: str) -> Path | None:
    """Append `rows` (row objects of output/rows.py, or dicts for a records table) as one new
    Parquet file; atomic (temp file + rename), never overwrites. A dict whose keys are not
    exactly the schema's columns is refused: a misspelt key must not become a null column."""
    if not rows:
        return None
    dicts = [row if isinstance(row, dict) else as_dict(row) for row in rows]
    check_columns(table, dicts, schema)
    folder = table_dir(out, table)
    folder.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pylist(dicts, schema=schema)
    name = f"part-{tag}-{uuid.uuid4().hex[:8]}.parquet"
    return write_parquet(arrow, folder / name)


def fit(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> list[dict[str, Any]]:
    """Records rows with `schema`'s columns they lack set to null (columns only older versions of
    their schema have); a key `schema` lacks is left for write_rows to refuse."""
    names = schema.names
    return [row if len(row) == len(names) else {**dict.fromkeys(names), **row} for row in rows]


def write_parquet(arrow: pa.Table, path: Path, row_group_size: int | None = None) -> Path:
    """One Parquet file, written under a dot-prefixed temporary name (readers skip it) and renamed
    into place, so nobody ever reads half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(arrow, tmp, row_group_size=row_group_size)
    os.replace(tmp, path)
    return path


def check_columns(table: str, rows: Sequence[dict[str, Any]], schema: pa.Schema) -> None:
    names = set(schema.names)
    for row in rows:
        if row.keys() != names:
            unknown, missing = sorted(row.keys() - names), sorted(names - row.keys())
            raise ValueError(f"a row for {table!r} does not fit its schema: unknown {unknown}, missing {missing}")


def read_arrow(out: Path, table: str, columns: Sequence[str] | None = None) -> pa.Table | None:
    """Every file of a table, schemas unified (a column added by a later run is kept); only
    `columns` when given.

    Safe while `docpipe compact` runs: files a compacted file replaces are skipped even in the
    moment before they are removed, and a file removed between listing and reading makes the
    listing start again."""
    for attempt in range(5):
        try:
            wanted = table_files(out, table)
            if len(wanted) >= MANY_FILES:  # small files (before compact): side by side, most of the time is footers
                with ThreadPoolExecutor(max_workers=READERS) as pool:
                    tables = list(pool.map(lambda p: pq.read_table(p, columns=columns, use_threads=False), wanted))
            else:
                tables = [pq.read_table(p, columns=columns) for p in wanted]
        except FileNotFoundError:
            if attempt == 4:
                raise
            continue
        if not tables:
            return None
        if table in FIXED:
            return pa.concat_tables(tables, promote_options="default")
        from docpipe.output.versions import unify  # a records table: perhaps several versions of its schema

        return unify(Path(out), table, tables, None if columns is None else list(columns))
    return None


def record_tables(out: Path) -> list[str]:
    """The schemas `out` holds records of: records/<name> folders with a Parquet file."""
    folder = Path(out) / "records"
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("*.parquet"))) \
        if folder.is_dir() else []


def table_files(out: Path, table: str) -> list[Path]:
    """The files that hold a table now, in name order: not temporary files, nor files that a
    compacted file replaces (even in the moment before compaction removes them). Raises
    FileNotFoundError when a compacted file vanished while being listed (list again)."""
    folder = table_dir(Path(out), table)
    return [folder / name for name in table_file_names(folder)]


def table_file_names(folder: Path, replaces: dict[str, set[str]] | None = None) -> list[str]:
    """table_files' names, in one table's folder. A long-lived reader lists it often: no Paths,
    and `replaces` keeps what each compacted file replaces (read from its footer once: a file
    never changes under its name)."""
    try:
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(".parquet") and not e.name.startswith((".", "_")))
    except FileNotFoundError:
        return []  # no such table yet
    replaces = {} if replaces is None else replaces
    for name in names:
        if name.startswith(COMPACT_PREFIX) and name not in replaces:
            replaces[name] = meta_list(folder / name, REPLACES_KEY)
    replaced = set().union(*(replaces[n] for n in names if n.startswith(COMPACT_PREFIX)))
    return [n for n in names if n not in replaced]


def meta_list(path: Path, key: bytes) -> set[str]:
    """A comma-separated list kept in a Parquet file's key-value metadata."""
    meta = pq.read_schema(path).metadata or {}
    return set(filter(None, meta.get(key, b"").decode().split(",")))


def read_all(out: Path, table: str, columns: Sequence[str] | None = None, nested_as_arrow: bool = False) -> pd.DataFrame:
    """Every row of a table, as written (no deduplication); only `columns` when given.
    `nested_as_arrow`: struct and list columns (boxes, line items, words) stay Arrow-backed
    (pandas' ArrowDtype: a cell still reads as a dict or a list) instead of being turned into a
    Python object per cell up front, which is 40x faster on a records table of 100,000 rows."""
    arrow = read_arrow(Path(out), table, columns)
    if arrow is None:
        schema = FIXED.get(table)
        empty = schema.empty_table().to_pandas() if schema is not None else pd.DataFrame()
        return empty[list(columns)] if columns is not None and schema is not None else empty
    return arrow.to_pandas(types_mapper=arrow_backed if nested_as_arrow else None)


def arrow_backed(kind: pa.DataType) -> pd.ArrowDtype | None:
    """pandas' type for an Arrow column: Arrow-backed when nested (structs, lists), else the default."""
    return pd.ArrowDtype(kind) if pa.types.is_nested(kind) else None
