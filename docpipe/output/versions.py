"""A records table written by several versions of its schema, read as one table.

Files written by different versions may disagree on a column's type (a field whose kind changed)
or on the columns themselves. `unify` reads them as one: the columns of every version (the stored
definitions' table_schema when the folder has them, else every column any file has), each in the
type of the newest version that has it, older values typed again by conform.py's rule. `migrate`
rewrites a records table's committed files into its table schema, once, when a run starts with a
version the files do not match, so that every file has every column: a plain
`pd.read_parquet(OUT/records/<schema>)`, which takes its columns from the first file, sees them all.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from docpipe.output.conform import conform
from docpipe.output.schema_store import STORE, merged_type, stored_versions, table_schema
from docpipe.schema.spec import Schema


def unify(out: Path, table: str, parts: list[pa.Table], columns: list[str] | None = None) -> pa.Table:
    """The files' tables of records table `table` as one (pa.concat_tables where they agree);
    `columns`: the parts hold only these."""
    try:
        return pa.concat_tables(parts, promote_options="default")
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    stored = stored_versions(out, table)
    newest = stored[-1] if stored else None
    target = target_schema([p.schema for p in _newest_first(parts)],
                           table_schema(out, newest) if newest is not None else None)
    if columns is not None:
        target = pa.schema([target.field(c) for c in columns if c in target.names])
    return pa.concat_tables([conform(p, target, newest) for p in parts])


def target_schema(schemas: list[pa.Schema], stored: pa.Schema | None = None) -> pa.Schema:
    """Every column of `stored` (when given) and of `schemas` (newest first), each in the type of
    the first that has it (struct fields merged)."""
    merged: dict[str, pa.Field] = {f.name: f for f in stored} if stored is not None else {}
    for schema in schemas:
        for f in schema:
            if f.name not in merged:
                merged[f.name] = pa.field(f.name, f.type)
            else:
                merged[f.name] = pa.field(f.name, merged_type(merged[f.name].type, f.type))
    return pa.schema(list(merged.values()))


def _newest_first(parts: list[pa.Table]) -> list[pa.Table]:
    """By the schema version that wrote each (the latest file first among equals)."""
    def version(part: pa.Table) -> int:
        if "schema_version" not in part.column_names or part.num_rows == 0:
            return -1
        top = pc.max(part["schema_version"]).as_py()
        return -1 if top is None else int(top)
    ordered = list(enumerate(parts))
    ordered.sort(key=lambda item: (version(item[1]), item[0]), reverse=True)
    return [part for _, part in ordered]


def migrate(out: Path, schema: Schema, target: pa.Schema | None = None) -> int:
    """Rewrite records/<schema>'s committed files into its table schema when any differs, once
    per table schema (a new version, or a docpipe whose kinds became other Arrow types: money as
    float64 before it was exact); the number of files rewritten (compact.py does it: under its
    lock, readers never see a row twice). The table schema's hash is kept in OUT/_schemas.
    `target`: the table schema, when the caller has it already."""
    from docpipe.output.compact import compact_table

    target = target if target is not None else table_schema(Path(out), schema)
    stamp = Path(out) / STORE / schema.name / "table.sha256"
    digest = hashlib.sha256(str(target).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == digest:
        return 0
    rewritten = compact_table(Path(out), schema.name, target, schema)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    temporary = stamp.with_name(f".{stamp.name}.tmp")
    temporary.write_text(digest, encoding="utf-8")
    os.replace(temporary, stamp)
    return rewritten
