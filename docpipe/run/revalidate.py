"""Rebuild records from stored generations, without a model.

After a schema or normalization change, `docpipe revalidate OUT` types every stored answer again
(with its stored token probabilities for confidence, and the stored text layers for source
pages) and appends the records as a new run; readers then see the new records as the latest.
Answers are grouped as they were read: one document, one run, one budget; per-page answers are
merged again by records.merge_records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from docpipe.answers.assess import assess
from docpipe.answers.boxes import record_boxes
from docpipe.answers.merge import merge_records
from docpipe.answers.validate import validate_generation
from docpipe.core.errors import Category
from docpipe.core.types import RawGeneration, Segment, SourceDocument, Word
from docpipe.core.vocab import DocumentKind
from docpipe.output import tables
from docpipe.output.outcome import record_row
from docpipe.output.schema_store import remember, resolve, table_schema
from docpipe.output.versions import migrate
from docpipe.schema.spec import Schema


@dataclass(frozen=True)
class RevalidateResult:
    run_id: str
    records: dict[str, int]  # schema -> records written
    valid: dict[str, int]


def _generation(row) -> RawGeneration:
    return RawGeneration(
        row.doc_id, row.text, int(row.prompt_tokens), int(row.output_tokens), row.finish_reason,
        float(row.seconds), error=None if pd.isna(row.error) else row.error,
        token_logprobs=tuple(row.token_logprobs), token_ends=tuple(int(e) for e in row.token_ends),
        constrained=bool(row.constrained), page_nos=tuple(int(p) for p in row.page_nos),
    )


def revalidate(out: Path, schema_dir: Path | None = None, date_order: str = "auto",
               schemas: Sequence[Schema] = ()) -> RevalidateResult:
    """Type every stored answer again; `date_order` is as the run's --date-order ("auto": per
    document, from its evidence). The stored answers name their schema: `schemas` are the ones to
    type them with (a new version, your own file); for the others, the newest version the folder
    keeps (output/schema_store.py), else the shipped one in `schema_dir`."""
    out = Path(out)
    given = {schema.name: schema for schema in schemas}
    generations = tables.read_all(out, "generations")
    pages = tables.read_all(out, "pages")
    texts = {
        (r.doc_id, r.run_id, int(r.budget), int(r.page_no)): r.text_layer
        for r in pages.itertuples() if isinstance(r.text_layer, str) and r.text_layer
    }
    words = _words(pages)
    read_from = _sources(out)
    run_id = "revalidate-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    now = dt.datetime.now(dt.UTC)
    written, valid = {}, {}
    if "segment" not in generations:  # answers stored before sorting: each about its whole file
        generations["segment"] = None
    generations["segment"] = generations["segment"].astype("Int64")
    for schema_name, of_schema in generations.groupby("schema", sort=True):
        if schema_name in tables.FIXED:  # sorting's own answers (segments): no records to rebuild
            continue
        schema = given.get(schema_name) or _stored_schema(out, schema_name, schema_dir)
        remember(out, schema)
        records_schema = table_schema(out, schema)
        migrate(out, schema, records_schema)
        rows = []
        for (doc_id, source_run, work_key, budget, segment), group in of_schema.groupby(
            ["doc_id", "run_id", "work_key", "budget", "segment"], sort=True, dropna=False
        ):
            ordered = sorted(group.itertuples(), key=lambda r: tuple(r.page_nos))
            parts = []
            for row in ordered:
                generation = _generation(row)
                page_texts = {
                    p: texts[(doc_id, source_run, int(budget), p)]
                    for p in generation.page_nos if (doc_id, source_run, int(budget), p) in texts
                }
                parts.append(validate_generation(schema, generation, page_texts, date_order))
            record = merge_records(schema, parts)
            on_pages = words.get((doc_id, source_run, int(budget)), {})
            record = assess(schema, dataclasses.replace(record, boxes=record_boxes(schema, record, on_pages)))
            pages_of = [p for r in ordered for p in r.page_nos]
            cut = None if pd.isna(segment) else Segment(int(segment), min(pages_of), max(pages_of), schema.name,
                                                         None, "revalidated", schema.name)
            rows.append(record_row(schema, record, work_key, run_id, ordered[0].model, int(budget), now,
                                   read_from.get(work_key), cut))
        tables.write_rows(out, schema.name, tables.fit(rows, records_schema), records_schema, run_id)
        written[schema.name] = len(rows)
        valid[schema.name] = sum(1 for r in rows if r["valid"])
    return RevalidateResult(run_id, written, valid)


def _sources(out: Path) -> dict[str, SourceDocument]:
    """The file each piece of work was read from (copies aside), by work key."""
    documents = tables.read_all(out, "documents")
    if "name" not in documents.columns:
        documents["name"] = None
    read = documents.loc[documents["error_category"] != str(Category.DUPLICATE)]
    return {row.work_key: SourceDocument(Path(row.source_path), row.doc_id, DocumentKind(row.kind), int(row.size_bytes),
                                         name=row.name if isinstance(row.name, str) else "")
            for row in read.itertuples()}


def _words(pages) -> dict[tuple, dict[int, tuple[Word, ...]]]:
    """The text-layer words of every page read, by (doc_id, run_id, budget) and page number
    (outputs written before the pages table had words give none: their values get no box)."""
    found: dict[tuple, dict[int, tuple[Word, ...]]] = {}
    if "words" not in pages.columns:
        return found
    for r in pages.itertuples():
        if r.words is None or len(r.words) == 0:
            continue
        page_words = tuple(Word(w["text"], w["x0"], w["y0"], w["x1"], w["y1"]) for w in r.words)
        found.setdefault((r.doc_id, r.run_id, int(r.budget)), {})[int(r.page_no)] = page_words
    return found


def _stored_schema(out: Path, name: str, schema_dir: Path | None) -> Schema:
    try:
        return resolve(name, out, reading=True, schema_dir=schema_dir)
    except ValueError:
        raise ValueError(f"the stored answers were read with schema {name!r}, which is not among the known "
                         f"schemas: pass its file with --schema path/to/{name}.yaml") from None
