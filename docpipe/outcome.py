"""One document's outcome: its status, and the rows it adds to each table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from docpipe.errors import Category
from docpipe.types import ExtractedRecord, RawGeneration, RenderedDocument, SourceDocument


@dataclass
class Rows:
    """Rows per table for a batch of documents, ready for tables.write_rows."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    pages: list[dict[str, Any]] = field(default_factory=list)
    generations: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DocContext:
    run_id: str
    work_key: str
    schema_name: str
    schema_version: int
    model: str
    budget: int
    prompt_version: str
    now: dt.datetime


def document_row(ctx: DocContext, source: SourceDocument, pages: int, status: str,
                 category: str | None, message: str | None, render_s: float = 0.0,
                 infer_s: float = 0.0) -> dict[str, Any]:
    return {
        "doc_id": source.doc_id, "work_key": ctx.work_key, "run_id": ctx.run_id,
        "source_path": str(source.path), "size_bytes": source.size_bytes, "kind": source.kind,
        "pages": pages, "schema": ctx.schema_name, "status": status,
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


def add_outcome(rows: Rows, ctx: DocContext, rendered: RenderedDocument, prompt: str | None,
                generation: RawGeneration | None, record: ExtractedRecord | None) -> str:
    """Append every row this document produces; return its status (ok/partial/failed/skipped)."""
    source = rendered.source
    if rendered.error_category is not None:
        status = "skipped" if rendered.error_category == Category.UNSUPPORTED else "failed"
        rows.documents.append(document_row(
            ctx, source, rendered.page_count, status, rendered.error_category,
            rendered.error_message, rendered.render_seconds,
        ))
        rows.errors.append(error_row(ctx, source, "render", rendered.error_category, rendered.error_message or ""))
        return status

    page_problem: tuple[str, str] | None = None
    for page in rendered.pages:
        rows.pages.append(_page_row(ctx, page))
        if page.status != "ok":
            category, _, message = (page.error or "render_error: ").partition(": ")
            rows.errors.append(error_row(ctx, source, "render", category, message, page.page_no))
            page_problem = page_problem or (category, f"page {page.page_no}: {message}")

    if generation is None or record is None:  # no page could be rendered
        category, message = page_problem or (Category.RENDER_ERROR, "no page could be rendered")
        rows.documents.append(document_row(
            ctx, source, rendered.page_count, "failed", category, message, rendered.render_seconds,
        ))
        return "failed"

    rows.generations.append(_generation_row(ctx, prompt or "", generation))
    rows.records.append(_record_row(ctx, record))
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
        ctx, source, rendered.page_count, status, category, message,
        rendered.render_seconds, generation.seconds,
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


def _generation_row(ctx: DocContext, prompt: str, generation: RawGeneration) -> dict[str, Any]:
    return {
        "doc_id": generation.doc_id, "work_key": ctx.work_key, "run_id": ctx.run_id,
        "schema": ctx.schema_name, "model": ctx.model, "budget": ctx.budget,
        "prompt_version": ctx.prompt_version, "prompt": prompt, "text": generation.text,
        "prompt_tokens": generation.prompt_tokens, "output_tokens": generation.output_tokens,
        "finish_reason": generation.finish_reason, "seconds": generation.seconds,
        "created_at": ctx.now,
    }


def _record_row(ctx: DocContext, record: ExtractedRecord) -> dict[str, Any]:
    return {
        "doc_id": record.doc_id, "work_key": ctx.work_key, "run_id": ctx.run_id,
        "schema_version": ctx.schema_version, "model": ctx.model, "budget": ctx.budget,
        "valid": record.valid, "extracted_at": ctx.now, **record.values,
    }
