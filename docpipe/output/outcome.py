"""One document's outcome: its status, and the rows it adds to each table."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from docpipe.core.causes import failed_with
from docpipe.core.errors import Category, Failure, Stage
from docpipe.core.types import (
    Attempt,
    ExtractedRecord,
    ModelRequest,
    RawGeneration,
    RenderedDocument,
    RenderedPage,
    Segment,
    SourceDocument,
    Transcript,
)
from docpipe.core.vocab import DocumentStatus, FinishReason, PageStatus
from docpipe.output.record_columns import record_columns
from docpipe.output.rows import DocumentRow, ErrorRow, GenerationRow, PageRow, SegmentRow, TranscriptRow
from docpipe.schema.spec import Schema


@dataclass
class Rows:
    """Rows per table for a batch of documents, ready for tables.write_rows."""

    documents: list[DocumentRow] = field(default_factory=list)
    pages: list[PageRow] = field(default_factory=list)
    generations: list[GenerationRow] = field(default_factory=list)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by schema: columns differ
    segments: list[SegmentRow] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)
    transcripts: list[TranscriptRow] = field(default_factory=list)


@dataclass(frozen=True)
class DocContext:
    run_id: str
    work_key: str
    table: str  # what the document is read into: a schema's records, or transcripts
    schema: Schema | None  # None for transcription
    model: str
    prompt_version: str
    now: dt.datetime
    policy_key: str = ""
    task_key: str = ""
    governing: dict[str, Any] = field(default_factory=dict)  # core/causes.governing_values of the run
    segment: Segment | None = None  # sorting: the pages of the file this record is about


def document_row(ctx: DocContext, source: SourceDocument, pages: int, status: DocumentStatus,
                 failure: Failure | None, budget: int | None = None,
                 render_s: float = 0.0, infer_s: float = 0.0) -> DocumentRow:
    return DocumentRow(
        doc_id=source.doc_id, work_key=ctx.work_key, run_id=ctx.run_id,
        source_path=str(source.path), size_bytes=source.size_bytes, kind=source.kind,
        name=source.shown_name, pages=pages, schema=ctx.table, status=status, budget=budget,
        error_category=None if failure is None else failure.category,
        error_message=None if failure is None else failure.message,
        render_seconds=render_s, infer_seconds=infer_s, finished_at=ctx.now,
        model=ctx.model, budget_policy=ctx.policy_key, prompt_version=ctx.prompt_version, task_key=ctx.task_key,
        failed_with=None if failure is None else failed_with(failure.category, ctx.governing),
        **lineage_columns(source),
    )


def lineage_columns(source: SourceDocument) -> dict[str, str | None]:
    """The documents row's lineage: the container and the e-mail a document came with."""
    lineage = source.lineage
    mail = (lineage.email if lineage is not None else None) or (None, None, None, None)
    return {"parent_doc_id": lineage.parent if lineage else None, "path_in_parent": lineage.inner_path if lineage else None,
            "email_from": mail[0], "email_subject": mail[1], "email_date": mail[2], "email_message_id": mail[3]}


def error_row(ctx: DocContext, source: SourceDocument, failure: Failure) -> ErrorRow:
    return ErrorRow(
        run_id=ctx.run_id, doc_id=source.doc_id, source_path=str(source.path),
        page_no=failure.page_no, stage=failure.stage, category=failure.category,
        message=failure.message, created_at=ctx.now,
    )


def add_duplicate(rows: Rows, ctx: DocContext, source: SourceDocument, original: str) -> DocumentStatus:
    """A file with the same content as `original` (read in its place): listed, not read."""
    failure = Failure(Stage.DISCOVER, Category.DUPLICATE, f"same content as {original}: read once, there")
    rows.documents.append(document_row(ctx, source, 0, DocumentStatus.SKIPPED, failure))
    return DocumentStatus.SKIPPED


def add_container(rows: Rows, ctx: DocContext, source: SourceDocument) -> DocumentStatus:
    """An archive or e-mail: unpacked (its documents have rows of their own), or failed, saying why."""
    if source.failure is not None:
        rows.documents.append(document_row(ctx, source, 0, DocumentStatus.FAILED, source.failure))
        rows.errors.append(error_row(ctx, source, source.failure))
        return DocumentStatus.FAILED
    rows.documents.append(document_row(ctx, source, 0, DocumentStatus.UNPACKED, None))
    return DocumentStatus.UNPACKED


def add_extraction(rows: Rows, ctx: DocContext, attempts: list[Attempt]) -> DocumentStatus:
    """A document read for a schema's record: its rows; its status."""
    unread = _unread(rows, ctx, attempts)
    if unread is not None:
        return unread
    final = attempts[-1]
    for attempt in attempts:
        rows.pages += [page_row(ctx, page) for page in attempt.rendered.pages]
        _answers_and_record(rows, ctx, attempt)
    page_problem = _page_problems(rows, ctx, final.rendered)
    status, failure = _extraction_status(rows, ctx, final.rendered.source, final.record, page_problem)
    rows.documents.append(_read_row(ctx, attempts, status, failure))
    return status


def add_transcription(rows: Rows, ctx: DocContext, attempts: list[Attempt]) -> DocumentStatus:
    """A document read page by page into transcripts: its rows; its status."""
    unread = _unread(rows, ctx, attempts)
    if unread is not None:
        return unread
    final = attempts[-1]
    for attempt in attempts:
        rows.pages += [page_row(ctx, page) for page in attempt.rendered.pages]
        rows.transcripts += [transcript_row(ctx, attempt.budget, t) for t in attempt.transcripts if t.error is None]
    page_problem = _page_problems(rows, ctx, final.rendered)
    status, failure = _transcription_status(rows, ctx, final.rendered.source, final.transcripts, page_problem)
    rows.documents.append(_read_row(ctx, attempts, status, failure))
    return status


def add_sorting(rows: Rows, ctx: DocContext, attempts: list[Attempt], schemas: dict[str, Schema]) -> DocumentStatus:
    """A document sorted (classified; with --split cut into segments), and each segment of a
    known class extracted with its schema: segments rows, the classification's answers, one
    record per extracted segment in its schema's table; its status (the worst of its segments')."""
    unread = _unread(rows, ctx, attempts)
    if unread is not None:
        return unread
    sorting = attempts[-1]
    rendered, source = sorting.rendered, sorting.rendered.source
    rows.pages += [page_row(ctx, page) for page in rendered.pages]
    for request, generation in zip(sorting.requests, sorting.generations):
        rows.generations.append(generation_row(ctx, sorting.budget, request, generation))
    page_problem = _page_problems(rows, ctx, rendered)
    extracted = dict(sorting.extractions)
    statuses, failure = [], None
    unreadable = [Failure(Stage.VALIDATE, Category.INVALID_OUTPUT, f"page {c.page_no}: class unreadable: {c.problem}",
                          c.page_no) for c in sorting.classes if c.label is None]
    rows.errors += [error_row(ctx, source, why) for why in unreadable]
    for segment in sorting.segments:
        tried = extracted.get(segment, ())
        status = None
        if tried:
            schema = schemas[segment.schema]
            inner = dataclasses.replace(ctx, table=schema.name, schema=schema, segment=segment)
            for attempt in tried:
                rows.pages += [page_row(ctx, page) for page in attempt.rendered.pages]
                _answers_and_record(rows, inner, attempt)
            status, why = _extraction_status(rows, inner, source, tried[-1].record, None)
            statuses.append(status)
            failure = failure or why
        rows.segments.append(segment_row(ctx, source, segment, sorting.budget, status))
    if unreadable and len(unreadable) == len(sorting.classes):
        problem = next(c.problem for c in sorting.classes if c.label is None)
        status, failure = DocumentStatus.FAILED, Failure(Stage.VALIDATE, Category.INVALID_OUTPUT,
                                                         f"no class could be read: {problem}")
    elif DocumentStatus.FAILED in statuses:
        status = DocumentStatus.PARTIAL if len(set(statuses)) > 1 else DocumentStatus.FAILED
    elif DocumentStatus.PARTIAL in statuses or unreadable:
        status = DocumentStatus.PARTIAL
        failure = failure or (unreadable[0] if unreadable else None)
    elif page_problem is not None:
        status, failure = DocumentStatus.PARTIAL, page_problem
    else:
        status, failure = DocumentStatus.OK, None
    rows.documents.append(_read_row(ctx, attempts, status, failure))
    return status


def _unread(rows: Rows, ctx: DocContext, attempts: list[Attempt]) -> DocumentStatus | None:
    """A document none of whose pages could be rendered: its rows and status (None: it was read)."""
    rendered = attempts[-1].rendered
    if rendered.failure is None:
        return None
    render_s = sum(a.rendered.render_seconds for a in attempts)
    unsupported = rendered.failure.category == Category.UNSUPPORTED
    status = DocumentStatus.SKIPPED if unsupported else DocumentStatus.FAILED
    rows.documents.append(document_row(ctx, rendered.source, rendered.page_count, status, rendered.failure, None,
                                       render_s))
    rows.errors.append(error_row(ctx, rendered.source, rendered.failure))
    return status


def _read_row(ctx: DocContext, attempts: list[Attempt], status: DocumentStatus, failure: Failure | None) -> DocumentRow:
    final = attempts[-1]
    inner = [a for at in attempts for _, tried in at.extractions for a in tried]
    render_s = sum(a.rendered.render_seconds for a in [*attempts, *inner])
    infer_s = sum(g.seconds for a in [*attempts, *inner] for g in a.generations)
    return document_row(ctx, final.rendered.source, final.rendered.page_count, status, failure, final.budget,
                        render_s, infer_s)


def _answers_and_record(rows: Rows, ctx: DocContext, attempt: Attempt) -> None:
    for request, generation in zip(attempt.requests, attempt.generations):
        rows.generations.append(generation_row(ctx, attempt.budget, request, generation))
    if attempt.record is not None:
        rows.records.setdefault(ctx.table, []).append(record_row(
            ctx.schema, attempt.record, ctx.work_key, ctx.run_id, ctx.model, attempt.budget, ctx.now,
            attempt.rendered.source, ctx.segment))


def _page_problems(rows: Rows, ctx: DocContext, rendered: RenderedDocument) -> Failure | None:
    """Error rows for pages that failed or were skipped; the first problem, for the document."""
    source, problem = rendered.source, None
    for page in rendered.pages:
        if page.status == PageStatus.FAILED and page.failure is not None:
            rows.errors.append(error_row(ctx, source, page.failure))
            problem = problem or Failure(
                Stage.RENDER, page.failure.category, f"page {page.page_no}: {page.failure.message}"
            )
    skipped = [p.page_no for p in rendered.pages if p.status == PageStatus.SKIPPED]
    if skipped:  # one row for the lot, not one per page of a 600-page file
        too_many = Failure(Stage.RENDER, Category.TOO_LARGE, (
            f"pages {skipped[0]}-{skipped[-1]} of {rendered.page_count} were not read: "
            f"over the limit of {skipped[0] - 1} pages per document (--max-pages)"
        ), skipped[0])
        rows.errors.append(error_row(ctx, source, too_many))
        problem = problem or Failure(Stage.RENDER, too_many.category, too_many.message)
    return problem


def _nothing_rendered(problem: Failure | None) -> Failure:
    return problem or Failure(Stage.RENDER, Category.RENDER_ERROR, "no page could be rendered")


def _extraction_status(rows: Rows, ctx: DocContext, source: SourceDocument, record: ExtractedRecord | None,
                       page_problem: Failure | None) -> tuple[DocumentStatus, Failure | None]:
    if record is None:  # no page could be rendered
        return DocumentStatus.FAILED, _nothing_rendered(page_problem)
    for where, why in record.field_errors.items():
        rows.errors.append(error_row(ctx, source, Failure(Stage.VALIDATE, Category.INVALID_OUTPUT, f"{where}: {why}")))
    if record.field_errors:
        return DocumentStatus.PARTIAL, record.failure
    if record.failure is not None:
        rows.errors.append(error_row(ctx, source, record.failure))
        return DocumentStatus.FAILED, record.failure
    if page_problem is not None:
        return DocumentStatus.PARTIAL, page_problem
    return DocumentStatus.OK, None


def _transcription_status(rows: Rows, ctx: DocContext, source: SourceDocument,
                          transcripts: tuple[Transcript, ...],
                          page_problem: Failure | None) -> tuple[DocumentStatus, Failure | None]:
    """ok when every page was read to its end; a page cut at the token limit or for looping is
    kept and flagged (partial); a page the engine failed on is retried by the next run."""
    if not transcripts:
        return DocumentStatus.FAILED, _nothing_rendered(page_problem)
    problems = []
    for t in transcripts:
        if t.error is not None:
            problems.append(Failure(Stage.INFER, Category.MODEL_ERROR, f"page {t.page_no}: {t.error}", t.page_no))
        elif t.finish_reason == FinishReason.LENGTH:
            problems.append(Failure(Stage.INFER, Category.TRUNCATED, (
                f"page {t.page_no}: the transcript hit the limit of {t.output_tokens} tokens "
                "(--max-new-tokens); what was written is kept"), t.page_no))
        elif t.finish_reason == FinishReason.REPETITION:
            problems.append(Failure(Stage.INFER, Category.REPETITION, (
                f"page {t.page_no}: the model repeated itself; the loop was cut after its first occurrence"),
                t.page_no))
    rows.errors += [error_row(ctx, source, p) for p in problems]
    if problems and all(t.error is not None for t in transcripts):
        return DocumentStatus.FAILED, Failure(Stage.INFER, Category.MODEL_ERROR, problems[0].message)
    first = next((p for p in problems if p.category == Category.MODEL_ERROR), None) or (problems or [None])[0]
    if first is not None:
        return DocumentStatus.PARTIAL, Failure(first.stage, first.category, first.message)
    if page_problem is not None:
        return DocumentStatus.PARTIAL, page_problem
    return DocumentStatus.OK, None


def page_row(ctx: DocContext, page: RenderedPage) -> PageRow:
    return PageRow(
        doc_id=page.doc_id, run_id=ctx.run_id, page_no=page.page_no,
        width_pt=page.source_width, height_pt=page.source_height, rotation=page.rotation,
        render_width=page.image.width if page.image is not None else None,
        render_height=page.image.height if page.image is not None else None,
        budget=page.budget, soft_tokens=page.soft_tokens, text_layer=page.text_layer,
        words=[asdict(w) for w in page.words] or None,
        status=page.status, error_message=None if page.failure is None else str(page.failure),
    )


def generation_row(ctx: DocContext, budget: int, request: ModelRequest, generation: RawGeneration) -> GenerationRow:
    return GenerationRow(
        doc_id=generation.doc_id, work_key=ctx.work_key, run_id=ctx.run_id,
        schema=ctx.table, model=ctx.model, budget=budget,
        segment=None if ctx.segment is None else ctx.segment.number,
        prompt_version=ctx.prompt_version, instructions=request.instructions, prompt=request.prompt,
        page_nos=list(generation.page_nos), constrained=generation.constrained,
        text=generation.text, prompt_tokens=generation.prompt_tokens,
        output_tokens=generation.output_tokens, finish_reason=generation.finish_reason,
        error=generation.error, token_logprobs=list(generation.token_logprobs),
        token_ends=list(generation.token_ends), seconds=generation.seconds,
        created_at=ctx.now,
    )


def transcript_row(ctx: DocContext, budget: int, transcript: Transcript) -> TranscriptRow:
    return TranscriptRow(
        doc_id=transcript.doc_id, work_key=ctx.work_key, run_id=ctx.run_id, page_no=transcript.page_no,
        text=transcript.text, model=ctx.model, budget=budget, prompt_version=ctx.prompt_version,
        prompt_tokens=transcript.prompt_tokens, output_tokens=transcript.output_tokens,
        finish_reason=transcript.finish_reason, truncated=transcript.finish_reason == FinishReason.LENGTH,
        lowest_token_prob=transcript.lowest_token_prob, mean_token_prob=transcript.mean_token_prob,
        text_layer_cer=transcript.text_layer_cer, seconds=transcript.seconds, created_at=ctx.now,
    )


def segment_row(ctx: DocContext, source: SourceDocument, segment: Segment, budget: int,
                status: DocumentStatus | None) -> SegmentRow:
    return SegmentRow(
        doc_id=source.doc_id, work_key=ctx.work_key, run_id=ctx.run_id, name=source.shown_name,
        segment=segment.number, page_from=segment.page_from, page_to=segment.page_to,
        doc_class=segment.label, class_confidence=segment.confidence, class_rule=segment.rule,
        schema=segment.schema, record_status=status, classify_budget=budget, sorting=ctx.task_key,
        model=ctx.model, created_at=ctx.now,
    )


def record_row(schema: Schema, record: ExtractedRecord, work_key: str, run_id: str, model: str,
               budget: int, now: dt.datetime, source: SourceDocument | None = None,
               segment: Segment | None = None) -> dict[str, Any]:
    """A records/<schema> row: the meta columns (tables.RECORD_META), then the schema's fields."""
    return {
        "doc_id": record.doc_id, "source_path": None if source is None else str(source.path),
        "name": None if source is None else source.shown_name, "work_key": work_key, "run_id": run_id,
        "schema_version": schema.version, "model": model, "budget": budget,
        "valid": record.valid, "parsed": record.valid, "complete": record.complete,
        "consistent": record.consistent, "missing": list(record.missing),
        "checks_failed": [asdict(f) for f in record.failed_checks], "not_on_page": list(record.not_on_page),
        "lowest_confidence": record.lowest_confidence, "extracted_at": now,
        "date_order": record.typing.get("date_order"), "date_order_rule": record.typing.get("date_order_rule"),
        "decimal_mark": record.typing.get("decimal_mark"), "decimal_rule": record.typing.get("decimal_rule"),
        "printed_currency": record.typing.get("currency"),
        "segment": None if segment is None else segment.number,
        "page_from": None if segment is None else segment.page_from,
        "page_to": None if segment is None else segment.page_to,
        **record_columns(schema, record),
    }
