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
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from docpipe.output.record_columns import record_fields
from docpipe.schema.spec import Schema

UTC_TS = pa.timestamp("us", tz="UTC")

DOCUMENTS = pa.schema([
    ("doc_id", pa.string()),  # sha256 of the file's bytes
    ("work_key", pa.string()),  # hash of doc_id + schema + model + budget + prompt version
    ("run_id", pa.string()),
    ("source_path", pa.string()),
    ("size_bytes", pa.int64()),
    ("kind", pa.string()),  # pdf | png | jpeg | tiff | empty | unknown
    ("pages", pa.int32()),  # pages in the file
    ("schema", pa.string()),
    ("status", pa.string()),  # ok | partial | failed | skipped
    ("budget", pa.int32()),  # the visual budget of the final reading
    ("error_category", pa.string()),
    ("error_message", pa.string()),
    ("render_seconds", pa.float64()),
    ("infer_seconds", pa.float64()),
    ("finished_at", UTC_TS),
])

PAGES = pa.schema([
    ("doc_id", pa.string()),
    ("run_id", pa.string()),
    ("page_no", pa.int32()),  # 1-based
    ("width_pt", pa.float64()),  # page size as the file states it (points; pixels for images)
    ("height_pt", pa.float64()),
    ("rotation", pa.int32()),
    ("render_width", pa.int32()),  # pixels sent to the model
    ("render_height", pa.int32()),
    ("budget", pa.int32()),
    ("soft_tokens", pa.int32()),
    ("text_layer", pa.string()),
    ("status", pa.string()),  # ok | skipped | failed
    ("error_message", pa.string()),
])

GENERATIONS = pa.schema([
    ("doc_id", pa.string()),
    ("work_key", pa.string()),
    ("run_id", pa.string()),
    ("schema", pa.string()),
    ("model", pa.string()),
    ("budget", pa.int32()),
    ("prompt_version", pa.string()),
    ("prompt", pa.string()),
    ("page_nos", pa.list_(pa.int32())),  # the pages in this request
    ("constrained", pa.bool_()),  # the answer was constrained to the schema's JSON schema
    ("text", pa.string()),  # the raw answer, so records can be rebuilt without a model
    ("prompt_tokens", pa.int32()),
    ("output_tokens", pa.int32()),
    ("finish_reason", pa.string()),  # stop | length | error
    ("error", pa.string()),
    # per output token: log-probability, and the offset in `text` where it ends (confidence)
    ("token_logprobs", pa.list_(pa.float32())),
    ("token_ends", pa.list_(pa.int32())),
    ("seconds", pa.float64()),
    ("created_at", UTC_TS),
])

ERRORS = pa.schema([
    ("run_id", pa.string()),
    ("doc_id", pa.string()),
    ("source_path", pa.string()),
    ("page_no", pa.int32()),  # null for document-level errors
    ("stage", pa.string()),  # discover | render | infer | validate
    ("category", pa.string()),
    ("message", pa.string()),
    ("created_at", UTC_TS),
])

RUNS = pa.schema([
    ("run_id", pa.string()),
    ("started_at", UTC_TS),
    ("finished_at", UTC_TS),
    ("status", pa.string()),  # completed | failed
    ("input_path", pa.string()),
    ("schema", pa.string()),
    ("model", pa.string()),
    ("budget_policy", pa.string()),  # a budget, or auto:<start>-<ceiling>@<threshold>
    ("config_json", pa.string()),
    ("documents_found", pa.int64()),
    ("documents_already_done", pa.int64()),
    ("documents_processed", pa.int64()),
    ("documents_ok", pa.int64()),
    ("documents_failed", pa.int64()),
    ("pages", pa.int64()),
    ("records", pa.int64()),
    ("records_valid", pa.int64()),
    ("escalations", pa.int64()),  # auto budget: documents read again at a higher budget
    ("seconds", pa.float64()),
    ("pages_per_second", pa.float64()),
    ("docpipe_version", pa.string()),
])

RECORD_META = [
    ("doc_id", pa.string()),
    ("work_key", pa.string()),
    ("run_id", pa.string()),
    ("schema_version", pa.int32()),
    ("model", pa.string()),
    ("budget", pa.int32()),
    ("valid", pa.bool_()),  # every value the model gave fitted its field
    ("lowest_confidence", pa.float64()),  # the least certain field
    ("extracted_at", UTC_TS),
]

FIXED = {
    "documents": DOCUMENTS,
    "pages": PAGES,
    "generations": GENERATIONS,
    "errors": ERRORS,
    "runs": RUNS,
}


def records_schema(schema: Schema) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in RECORD_META] + record_fields(schema))


def table_dir(out: Path, table: str) -> Path:
    """`documents`, `pages`, ... or a schema name for its records table."""
    return out / table if table in FIXED else out / "records" / table


def write_rows(out: Path, table: str, rows: list[dict[str, Any]], schema: pa.Schema, tag: str) -> Path | None:
    """Append `rows` as one new Parquet file; atomic (temp file + rename), never overwrites."""
    if not rows:
        return None
    folder = table_dir(out, table)
    folder.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pylist(rows, schema=schema)
    name = f"part-{tag}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = folder / f".{name}.tmp"
    pq.write_table(arrow, tmp)
    os.replace(tmp, folder / name)
    return folder / name


def read_arrow(out: Path, table: str) -> pa.Table | None:
    """Every file of a table, schemas unified (a column added by a later run is kept)."""
    folder = table_dir(Path(out), table)
    files = sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:
        return None
    tables = [pq.read_table(p) for p in files]
    return pa.concat_tables(tables, promote_options="default")


def read_all(out: Path, table: str) -> pd.DataFrame:
    """Every row of a table, as written (no deduplication)."""
    arrow = read_arrow(Path(out), table)
    if arrow is None:
        schema = FIXED.get(table)
        return schema.empty_table().to_pandas() if schema is not None else pd.DataFrame()
    return arrow.to_pandas()


def read_table(out: str | Path, table: str) -> pd.DataFrame:
    """A table as users want it: for a schema name, the latest record per document.

    `read_table("out", "invoice")` gives one row per document (the most recent extraction);
    `documents` gives one row per document and piece of work (the latest attempt); other
    fixed tables are returned whole.
    """
    frame = read_all(Path(out), table)
    if frame.empty:
        return frame
    if table not in FIXED:
        return _latest(frame, ["doc_id"], "extracted_at")
    if table == "documents":
        return _latest(frame, ["work_key", "source_path"], "finished_at")
    return frame.reset_index(drop=True)


def _latest(frame: pd.DataFrame, keys: list[str], order: str) -> pd.DataFrame:
    ordered = frame.sort_values(order, kind="stable")
    return ordered.drop_duplicates(keys, keep="last").sort_index().reset_index(drop=True)
