"""The stages of a run as plain functions (flows/ wraps them in Prefect tasks).

    discover -> plan (skip finished work) -> render -> requests -> engine -> validate -> write

A chunk of documents is rendered, answered and written before the next starts, so a crash loses
at most the chunk in flight, and a rerun skips every document whose work key is already written.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docpipe import tables
from docpipe.config import RunConfig, work_key
from docpipe.engines.base import Engine
from docpipe.errors import TRANSIENT
from docpipe.outcome import DocContext, Rows, add_duplicate, add_outcome
from docpipe.render import render_document
from docpipe.schemas import Schema
from docpipe.types import ModelRequest, RawGeneration, RenderedDocument, SourceDocument
from docpipe.validate import validate_generation


@dataclass(frozen=True)
class WorkItem:
    source: SourceDocument
    key: str
    duplicate_of: Path | None = None  # same bytes as this earlier file of the run


@dataclass
class RunStats:
    found: int = 0
    already_done: int = 0
    processed: int = 0
    pages: int = 0
    records: int = 0
    records_valid: int = 0
    statuses: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Run:
    run_id: str
    config: RunConfig
    schema: Schema
    model: str
    started_at: dt.datetime
    started_clock: float

    def context(self, key: str) -> DocContext:
        return DocContext(
            self.run_id, key, self.schema.name, self.schema.version, self.model,
            self.config.budget, self.config.prompt_version, _now(),
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start_run(config: RunConfig, schema: Schema, model: str) -> Run:
    run_id = _now().strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    return Run(run_id, config, schema, model, _now(), time.perf_counter())


def finished_keys(out: Path) -> set[str]:
    """Work keys whose outcome is final: anything but a transient failure (retried next run)."""
    documents = tables.read_all(out, "documents")
    if documents.empty:
        return set()
    final = ~documents["error_category"].isin([str(c) for c in TRANSIENT])
    return set(documents.loc[final, "work_key"])


def plan(run: Run, documents: Sequence[SourceDocument]) -> tuple[list[WorkItem], int]:
    """The work still to do, and how many documents an earlier run already finished."""
    done = finished_keys(run.config.out)
    first_path: dict[str, Path] = {}
    pending, already = [], 0
    for source in documents:
        key = work_key(source.doc_id, run.schema.key, run.model, run.config.budget, run.config.prompt_version)
        if key in done:
            already += 1
            continue
        pending.append(WorkItem(source, key, first_path.get(key)))
        first_path.setdefault(key, source.path)
    return pending, already


def render(run: Run, items: Sequence[WorkItem]) -> list[RenderedDocument]:
    return [
        render_document(item.source, run.config.budget, run.config.max_pages)
        for item in items if item.duplicate_of is None
    ]


def build_requests(run: Run, rendered: Sequence[RenderedDocument]) -> list[ModelRequest]:
    prompt = run.schema.prompt()
    return [
        ModelRequest(
            doc.source.doc_id, tuple(p.image for p in doc.usable_pages), prompt,
            run.config.budget, run.config.max_new_tokens,
        )
        for doc in rendered if doc.usable_pages
    ]


def infer(engine: Engine, requests: Sequence[ModelRequest]) -> list[RawGeneration]:
    return engine.generate(requests) if requests else []


def write_chunk(run: Run, items: Sequence[WorkItem], rendered: Sequence[RenderedDocument],
                requests: Sequence[ModelRequest], generations: Sequence[RawGeneration],
                stats: RunStats) -> None:
    """Validate the answers, write every table's rows for the chunk, and count the outcome."""
    by_doc = {g.doc_id: g for g in generations}
    prompts = {r.doc_id: r.prompt for r in requests}
    rendered_by_doc = {d.source.doc_id: d for d in rendered}
    rows = Rows()
    for item in items:
        ctx = run.context(item.key)
        if item.duplicate_of is not None:
            status = add_duplicate(rows, ctx, item.source, str(item.duplicate_of))
        else:
            doc = rendered_by_doc[item.source.doc_id]
            generation = by_doc.get(doc.source.doc_id)
            record = validate_generation(run.schema, generation) if generation else None
            status = add_outcome(rows, ctx, doc, prompts.get(doc.source.doc_id), generation, record)
            stats.pages += len(doc.usable_pages)
            if record is not None:
                stats.records += 1
                stats.records_valid += int(record.valid)
        stats.processed += 1
        stats.statuses[status] += 1
        category = rows.documents[-1]["error_category"]
        if category:
            stats.categories[category] += 1
    tag = run.run_id
    tables.write_rows(run.config.out, "pages", rows.pages, tables.PAGES, tag)
    tables.write_rows(run.config.out, "generations", rows.generations, tables.GENERATIONS, tag)
    tables.write_rows(run.config.out, run.schema.name, rows.records, tables.records_schema(run.schema), tag)
    tables.write_rows(run.config.out, "errors", rows.errors, tables.ERRORS, tag)
    # documents last: a document counts as done only once everything else about it is on disk
    tables.write_rows(run.config.out, "documents", rows.documents, tables.DOCUMENTS, tag)


def finish_run(run: Run, stats: RunStats, status: str) -> None:
    from docpipe import __version__

    stats.seconds = time.perf_counter() - run.started_clock
    row = {
        "run_id": run.run_id, "started_at": run.started_at, "finished_at": _now(),
        "status": status, "input_path": str(run.config.input), "schema": run.schema.key,
        "model": run.model, "budget": run.config.budget,
        "config_json": json.dumps(run.config.model_dump(mode="json"), sort_keys=True),
        "documents_found": stats.found, "documents_already_done": stats.already_done,
        "documents_processed": stats.processed,
        "documents_ok": stats.statuses["ok"] + stats.statuses["partial"],
        "documents_failed": stats.statuses["failed"], "pages": stats.pages,
        "records": stats.records, "records_valid": stats.records_valid,
        "seconds": stats.seconds, "pages_per_second": stats.pages_per_second,
        "docpipe_version": __version__,
    }
    tables.write_rows(run.config.out, "runs", [row], tables.RUNS, run.run_id)
