"""Reading the tables as users want them: `read_table` (docpipe.read_table), the latest record of
each document with the reviewers' corrections on request; the writers and the raw readers are
output/tables.py's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from docpipe.output.corrections import apply_class_corrections, apply_corrections
from docpipe.output.schema_store import resolve
from docpipe.output.tables import FIXED, arrow_backed, read_all, read_arrow
from docpipe.schema.spec import Schema


def read_table(out: str | Path, table: str, corrected: bool = False, schema: Schema | None = None,
               python_cells: bool = False) -> pd.DataFrame:
    """A table as users want it: for a schema name, the latest record per document.

    `read_table("out", "invoice")` gives one row per document (the most recent extraction);
    `corrected=True` applies the reviewers' corrections (`docpipe review`; output/corrections.py),
    typing them by the schema (`schema`, or the built-in schema of that name);
    `documents` gives one row per document and piece of work (the latest attempt);
    `transcripts` the latest transcript of each page, in page order; other fixed tables are
    returned whole. Struct and list columns (boxes, line items, a page's words) are Arrow-backed
    (pandas' ArrowDtype): a cell reads as a dict or a list, a missing one as <NA>; with
    `python_cells` they are Python objects in every cell, a missing one None (slower: 4 s instead
    of 0.1 s for 100,000 invoices).
    """
    if table not in FIXED:
        latest = latest_records(Path(out), table, corrected, schema)
        if latest is None:
            return pd.DataFrame()
        return latest.to_pandas(types_mapper=None if python_cells else arrow_backed)
    frame = read_all(Path(out), table, nested_as_arrow=not python_cells)
    if frame.empty:
        return frame
    if table == "documents":
        return _latest(frame, ["work_key", "source_path"], "finished_at")
    if table == "segments":
        latest = latest_segments(frame)
        if corrected:  # the classes reviewers set or accepted
            latest = apply_class_corrections(latest, read_all(Path(out), "corrections"))
        return latest.reset_index(drop=True)
    if table == "transcripts":  # the latest reading of each page, pages in document order
        latest = _latest(frame, ["doc_id", "page_no"], "created_at")
        return latest.sort_values(["doc_id", "page_no"], kind="stable").reset_index(drop=True)
    return frame.reset_index(drop=True)


def latest_records(out: Path, table: str, corrected: bool = False, schema: Schema | None = None) -> pa.Table | None:
    """The latest record of each document, in Arrow (None: no records), chosen on two columns:
    only the rows kept are taken. `corrected`: the reviewers' corrections applied, typed by
    `schema` (or the schema of that name OUT knows)."""
    arrow = read_arrow(out, table)
    if arrow is None:
        return None
    kept = _latest_reading(arrow)
    latest = arrow.take(pa.array(kept.to_numpy())) if len(kept) < arrow.num_rows else arrow
    if not corrected:
        return latest
    return apply_corrections(latest, read_all(Path(out), "corrections"), schema or resolve(table, Path(out)))


def latest_segments(segments: pd.DataFrame) -> pd.DataFrame:
    """Each file's latest sorting (rows of the segments table): the segments it cut the file into,
    in file and page order."""
    newest = segments.groupby("doc_id", sort=False)["created_at"].transform("max")
    return segments[segments["created_at"] == newest].sort_values(["doc_id", "segment"], kind="stable")


def _latest_reading(arrow: pa.Table) -> pd.Index:
    columns = ["doc_id", "extracted_at"] + (["segment"] if "segment" in arrow.column_names else [])
    return latest_reading(arrow.select(columns).to_pandas())


def latest_reading(frame: pd.DataFrame) -> pd.Index:
    """The rows (labels, in table order) of each document's latest reading in a records table's
    `frame` (doc_id, extracted_at, segment): its one record, or (a file sorting split) the record
    of each of its segments as that reading cut them; older readings' segments are gone."""
    if "segment" not in frame or frame["segment"].isna().all():
        return _latest_rows(frame, ["doc_id"], "extracted_at")
    newest = frame.groupby("doc_id", sort=False)["extracted_at"].transform("max")
    last = frame[frame["extracted_at"] == newest]
    return _latest_rows(last, ["doc_id", "segment"], "extracted_at")


def _latest(frame: pd.DataFrame, keys: list[str], order: str) -> pd.DataFrame:
    return frame.loc[_latest_rows(frame, keys, order)].reset_index(drop=True)


def _latest_rows(frame: pd.DataFrame, keys: list[str], order: str) -> pd.Index:
    """The rows (labels, in table order) holding the latest `order` of each `keys`."""
    return frame.sort_values(order, kind="stable").drop_duplicates(keys, keep="last").index.sort_values()
