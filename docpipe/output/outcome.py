"""One document's outcome: its status, and the rows it adds to each table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from docpipe.core.errors import Category
from docpipe.core.types import (
    ExtractedRecord,
    ModelRequest,
    RawGeneration,
    RenderedDocument,
    SourceDocument,
)
from docpipe.output.record_columns import record_columns
from docpipe.schema.spec import Schema


@dataclass
class Rows:
    """Rows per table for a batch of documents, ready for tables.write_rows."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    pages: list[dict[str, Any]] = field(default_factory=list)
    generations: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Attempt:
    """One reading of a document at one budget."""

    budget: int
    rendered: RenderedDocument
    requests: tuple[ModelRequest, ...] = ()
    generations: tuple[RawGeneration, ...] = ()
    record: ExtractedRecord | None = None


@dataclass(frozen=True)
class DocContext:
    run_id: str
    work_key: str
    schema: Schema
    model: str
    prompt_version: str
    now: dt.datetime


def document_row(ctx: DocContext, source: SourceDocument, pages: int, status: str,
                 category: str | None, message: str | None, budget: int | None = None,
                 render_s: float = 0.0, infer_s: float = 0.0) -> dict[str, Any]:
    return {
        "doc_id": source.doc_id, "work_key": ctx.work_key, "run_id": ctx.run_id,
        "source_path": str(source.path), "size_bytes": source.size_bytes, "kind": source.kind,
        "pages": pages, "schema": ctx.schema.name, "status": status, "budget": budget,
        "error_category": None if category is None else str(category), "error_message": message,
        "render_seconds": render_s, "infer_seconds": infer_s, "finished_at": ctx.now,
    }


def error_row(ctx: DocContext, source: SourceDocument, stage: str, category: str,
              message: str, page_no: int | None = None) -> dict[str, Any]:
    return {
        "run_id": ctx.run_id, "doc_id": source.doc_id, "source_path": str(source.path),
        "page_no": page_no, "stage": stage, "category": str(category), "message": message,
        "created_at": ctx.now,
    }


def add_duplicate(rows: Rows, ctx: DocContext, source: SourceDocument, original: str) -> str:
    message = f"same content as {original}, which is processed instead"
    rows.documents.append(document_row(ctx, source, 0, "skipped", Category.DUPLICATE, message))
    return "skipped"


def add_outcome(rows: Rows, ctx: DocContext, attempts: list[Attempt]) -> str:
    """Append every row this document's attempts produce; return its status."""
    final = attempts[-1]
    rendered, source = final.rendered, final.rendered.source
    render_s = sum(a.rendered.render_seconds for a in attempts)
    infer_s = sum(g.seconds for a in attempts for g in a.generations)
    if rendered.error_category is not None:
        status = "skipped" if rendered.error_category == Category.UNSUPPORTED else "failed"
        rows.documents.append(document_row(
            ctx, source, rendered.page_count, status, rendered.error_category,
            rendered.error_message, None, render_s,
        ))
        rows.errors.append(error_row(ctx, source, "render", rendered.error_category, rendered.error_message or ""))
        return status

    for attempt in attempts:
        rows.pages += [_page_row(ctx, page) for page in attempt.rendered.pages]
        for request, generation in zip(attempt.requests, attempt.generations):
            rows.generations.append(_generation_row(ctx, attempt.budget, request.prompt, generation))
        if attempt.record is not None:
            rows.records.append(_record_row(ctx, attempt.budget, attempt.record))

    page_problem: tuple[str, str] | None = None
    for page in rendered.pages:
        if page.status == "failed":
            category, _, message = (page.error or "render_error: ").partition(": ")
            rows.errors.append(error_row(ctx, source, "render", category, message, page.page_no))
            page_problem = page_problem or (category, f"page {page.page_no}: {message}")
    skipped = [p.page_no for p in rendered.pages if p.status == "skipped"]
    if skipped:  # one row for the lot, not one per page of a 600-page file
        message = (
            f"pages {skipped[0]}-{skipped[-1]} of {rendered.page_count} were not read: "
            f"over the limit of {skipped[0] - 1} pages per document (--max-pages)"
        )
        rows.errors.append(error_row(ctx, source, "render", Category.TOO_LARGE, message, skipped[0]))
        page_problem = page_problem or (Category.TOO_LARGE, message)

    record = final.record
    if record is None:  # no page could be rendered
        category, message = page_problem or (Category.RENDER_ERROR, "no page could be rendered")
        rows.documents.append(document_row(
            ctx, source, rendered.page_count, "failed", category, message, final.budget, render_s,
        ))
        return "failed"

    for where, why in record.field_errors.items():
        rows.errors.append(error_row(ctx, source, "validate", Category.INVALID_OUTPUT, f"{where}: {why}"))
    if record.field_errors:
        status, category, message = "partial", record.error_category, record.error_message
    elif record.error_category is not None:
        status, category, message = "failed", record.error_category, record.error_message
        stage = "infer" if category == Category.MODEL_ERROR else "validate"
        rows.errors.append(error_row(ctx, source, stage, category, message or ""))
    elif page_problem is not None:
        status, (category, message) = "partial", page_problem
    else:
        status, category, message = "ok", None, None
    rows.documents.append(document_row(
        ctx, source, rendered.page_count, status, category, message, final.budget, render_s, infer_s,
    ))
    return status


def _page_row(ctx: DocContext, page) -> dict[str, Any]:
    return {
        "doc_id": page.doc_id, "run_id": ctx.run_id, "page_no": page.page_no,
        "width_pt": page.width_pt, "height_pt": page.height_pt, "rotation": page.rotation,
        "render_width": page.image.width if page.image is not None else None,
        "render_height": page.image.height if page.image is not None else None,
        "budget": page.budget, "soft_tokens": page.soft_tokens, "text_layer": page.text_layer,
        "status": page.status, "error_message": page.error,
    }


def _generation_row(ctx: DocContext, budget: int, prompt: str, generation: RawGeneration) -> dict[str, Any]:
    return {
        "doc_id": generation.doc_id, "work_key": ctx.work_key, "run_id": ctx.run_id,
        "schema": ctx.schema.name, "model": ctx.model, "budget": budget,
        "prompt_version": ctx.prompt_version, "prompt": prompt,
        "page_nos": list(generation.page_nos), "constrained": generation.constrained,
        "text": generation.text, "prompt_tokens": generation.prompt_tokens,
        "output_tokens": generation.output_tokens, "finish_reason": generation.finish_reason,
        "error": generation.error, "token_logprobs": list(generation.token_logprobs),
        "token_ends": list(generation.token_ends), "seconds": generation.seconds,
        "created_at": ctx.now,
    }


def _record_row(ctx: DocContext, budget: int, record: ExtractedRecord) -> dict[str, Any]:
    return record_row(ctx.schema, record, ctx.work_key, ctx.run_id, ctx.model, budget, ctx.now)


def record_row(schema: Schema, record: ExtractedRecord, work_key: str, run_id: str, model: str,
               budget: int, now: dt.datetime) -> dict[str, Any]:
    return {
        "doc_id": record.doc_id, "work_key": work_key, "run_id": run_id,
        "schema_version": schema.version, "model": model, "budget": budget,
        "valid": record.valid, "lowest_confidence": record.lowest_confidence, "extracted_at": now,
        **record_columns(schema, record),
    }
