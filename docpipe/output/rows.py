"""One typed row class per fixed table; each table's Arrow schema is derived from its class.

A column is named once, as a field of its row class: `DocumentRow(doc_id=..., stauts=...)` fails
where it is written (a misspelt key in a dict would have become a null column without error), and
the Arrow schema cannot drift from what the code writes. Records tables have one column set per
schema (output/record_columns.py); `tables.write_rows` checks their keys against their schema.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")


WORDS = pa.list_(pa.struct([pa.field("text", pa.string())] + [pa.field(n, pa.float32()) for n in ("x0", "y0", "x1", "y1")]))

# the `schema` column of every table that has one: what the document was read into
SCHEMA_COLUMN = "the schema's name (its records table), or transcripts"


def column(arrow_type: pa.DataType, doc: str = "") -> Any:
    """A row field that is a table column of `arrow_type` (`doc` says what it holds)."""
    return dataclasses.field(metadata={"arrow": arrow_type, "doc": doc})


def arrow_schema(row_class: type) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.metadata["arrow"]) for f in dataclasses.fields(row_class)])


def as_dict(row: Any) -> dict[str, Any]:
    """A row as {column: value}, shallow (no copies of long lists)."""
    return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}


@dataclass(frozen=True)
class DocumentRow:
    doc_id: str = column(pa.string(), "sha256 of the file's bytes")
    work_key: str = column(pa.string(), "hash of doc_id + schema + model + budget + prompt version")
    run_id: str = column(pa.string())
    source_path: str = column(pa.string())
    name: str | None = column(pa.string(), "the path relative to the input folder ('/'-separated); null in rows "
                                           "written before names were kept")
    size_bytes: int = column(pa.int64())
    kind: str = column(pa.string(), "DocumentKind: pdf | png | jpeg | tiff | empty | unknown | unreadable")
    pages: int = column(pa.int32(), "pages in the file")
    schema: str = column(pa.string(), SCHEMA_COLUMN)
    status: str = column(pa.string(), "DocumentStatus: ok | partial | failed | skipped")
    budget: int | None = column(pa.int32(), "the visual budget of the final reading")
    error_category: str | None = column(pa.string(), "Category")
    error_message: str | None = column(pa.string())
    render_seconds: float = column(pa.float64())
    infer_seconds: float = column(pa.float64())
    finished_at: dt.datetime = column(UTC_TS)
    # what the document was read with (its work key, spelt out; null in older rows)
    model: str | None = column(pa.string())
    budget_policy: str | None = column(pa.string())
    prompt_version: str | None = column(pa.string())
    task_key: str | None = column(pa.string(), "schema@version, or the transcription prompt")
    failed_with: str | None = column(pa.string(), "JSON: the values of the settings that govern its failure "
                                                  "(core/causes.py); a run with other values reads it again")
    # inside a container (archive, e-mail): where it came from (ingest/unpack.py)
    parent_doc_id: str | None = column(pa.string(), "the container's doc_id")
    path_in_parent: str | None = column(pa.string(), "its path inside the container, as the container names it")
    email_from: str | None = column(pa.string(), "the e-mail it came with (or is): sender")
    email_subject: str | None = column(pa.string())
    email_date: str | None = column(pa.string(), "as the e-mail's Date header says it")
    email_message_id: str | None = column(pa.string())


@dataclass(frozen=True)
class PageRow:
    doc_id: str = column(pa.string())
    run_id: str = column(pa.string())
    page_no: int = column(pa.int32(), "1-based")
    width_pt: float = column(pa.float64(), "page size as the file states it (points; pixels for images)")
    height_pt: float = column(pa.float64())
    rotation: int = column(pa.int32())
    render_width: int | None = column(pa.int32(), "pixels sent to the model")
    render_height: int | None = column(pa.int32())
    budget: int = column(pa.int32())
    soft_tokens: int = column(pa.int32())
    text_layer: str | None = column(pa.string())
    words: list[dict] | None = column(WORDS, "the text layer's words and boxes (0-1, origin top-left), in reading order")
    status: str = column(pa.string(), "PageStatus: ok | skipped | failed")
    error_message: str | None = column(pa.string(), "'<category>: <message>' of a skipped or failed page")


@dataclass(frozen=True)
class GenerationRow:
    doc_id: str = column(pa.string())
    work_key: str = column(pa.string())
    run_id: str = column(pa.string())
    schema: str = column(pa.string(), SCHEMA_COLUMN)
    model: str = column(pa.string())
    budget: int = column(pa.int32())
    prompt_version: str = column(pa.string())
    instructions: str = column(pa.string(), "the system turn: the schema's instructions, the same for every page")
    prompt: str = column(pa.string(), "the user turn's ask, after the page images")
    page_nos: list[int] = column(pa.list_(pa.int32()), "the pages in this request")
    constrained: bool = column(pa.bool_(), "the answer was constrained to the schema's JSON schema")
    text: str = column(pa.string(), "the raw answer, so records can be rebuilt without a model")
    prompt_tokens: int = column(pa.int32())
    output_tokens: int = column(pa.int32())
    finish_reason: str = column(pa.string(), "FinishReason: stop | length | error")
    error: str | None = column(pa.string())
    token_logprobs: list[float] = column(pa.list_(pa.float32()), "per output token (confidence)")
    token_ends: list[int] = column(pa.list_(pa.int32()), "offset in `text` where each token ends")
    seconds: float = column(pa.float64())
    created_at: dt.datetime = column(UTC_TS)
    segment: int | None = column(pa.int32(), "sorting: the segment of the file the answer is about (null: the whole file)")


@dataclass(frozen=True)
class SegmentRow:
    """One document found in a file by sorting (docpipe/classify): its pages and class."""

    doc_id: str = column(pa.string(), "the file's doc_id")
    work_key: str = column(pa.string())
    run_id: str = column(pa.string())
    name: str | None = column(pa.string(), "the file's path relative to the input folder")
    segment: int = column(pa.int32(), "1-based, in page order; a file not split is one segment")
    page_from: int = column(pa.int32())
    page_to: int = column(pa.int32())
    doc_class: str = column(pa.string(), "a schema's name, or other")
    class_confidence: float | None = column(pa.float64(), "the least probable token of the class: a field's confidence")
    class_rule: str = column(pa.string(), "what decided: model, below --class-threshold, unreadable answer, ...")
    schema: str | None = column(pa.string(), "the schema the segment was extracted with; null: recorded, not extracted")
    record_status: str | None = column(pa.string(), "DocumentStatus of the segment's record; null when not extracted")
    classify_budget: int = column(pa.int32(), "the visual budget the pages were sorted at")
    sorting: str = column(pa.string(), "the sorting's key: its schemas and settings")
    model: str = column(pa.string())
    created_at: dt.datetime = column(UTC_TS)


@dataclass(frozen=True)
class ErrorRow:
    run_id: str = column(pa.string())
    doc_id: str = column(pa.string())
    source_path: str = column(pa.string())
    page_no: int | None = column(pa.int32(), "null for document-level errors")
    stage: str = column(pa.string(), "Stage: discover | render | infer | validate")
    category: str = column(pa.string(), "Category")
    message: str = column(pa.string())
    created_at: dt.datetime = column(UTC_TS)


@dataclass(frozen=True)
class RunRow:
    run_id: str = column(pa.string())
    started_at: dt.datetime = column(UTC_TS)
    finished_at: dt.datetime = column(UTC_TS)
    status: str = column(pa.string(), "RunStatus: completed | failed")
    input_path: str = column(pa.string())
    schema: str = column(pa.string(), SCHEMA_COLUMN)
    task_key: str = column(pa.string(), "what the run read documents for, versioned: <schema>@<version> or transcripts@<prompt version>")
    model: str = column(pa.string())
    budget_policy: str = column(pa.string(), "a budget, or auto:<start>-<ceiling>@<threshold>")
    config_json: str = column(pa.string())
    documents_found: int = column(pa.int64())
    documents_already_done: int = column(pa.int64())
    documents_processed: int = column(pa.int64())
    documents_ok: int = column(pa.int64())
    documents_failed: int = column(pa.int64())
    pages: int = column(pa.int64())
    records: int = column(pa.int64())
    records_valid: int = column(pa.int64())
    escalations: int = column(pa.int64(), "auto budget: documents read again at a higher budget")
    seconds: float = column(pa.float64())
    pages_per_second: float = column(pa.float64())
    docpipe_version: str = column(pa.string())


@dataclass(frozen=True)
class TranscriptRow:
    doc_id: str = column(pa.string())
    work_key: str = column(pa.string())
    run_id: str = column(pa.string())
    page_no: int = column(pa.int32(), "1-based")
    text: str = column(pa.string(), "the page as Markdown, in reading order")
    model: str = column(pa.string())
    budget: int = column(pa.int32())
    prompt_version: str = column(pa.string())
    prompt_tokens: int = column(pa.int32())
    output_tokens: int = column(pa.int32())
    finish_reason: str = column(pa.string(), "FinishReason: stop | length (cut at --max-new-tokens) | repetition (a loop, cut)")
    truncated: bool = column(pa.bool_(), "the page hit the token limit: its text may be incomplete")
    lowest_token_prob: float | None = column(pa.float64(), "the least certain token of the text")
    mean_token_prob: float | None = column(pa.float64())
    text_layer_cer: float | None = column(pa.float64(), "character error rate against the page's text layer (born-digital pages)")
    seconds: float = column(pa.float64())
    created_at: dt.datetime = column(UTC_TS)


@dataclass(frozen=True)
class CorrectionRow:
    doc_id: str = column(pa.string())
    work_key: str = column(pa.string(), "the record's piece of work")
    schema: str = column(pa.string(), SCHEMA_COLUMN)
    field: str = column(pa.string(), "the field, or a list's field: line_items")
    list_index: int | None = column(pa.int32(), "the list item, for a list's field")
    item_field: str | None = column(pa.string(), "the item's field: amount")
    old_value: str | None = column(pa.string(), "the record's value, as text")
    new_value: str | None = column(pa.string(), "what the reviewer says it is (as printed); null: no value")
    accepted: bool = column(pa.bool_(), "true: the reviewer confirmed the record's value")
    reviewer: str = column(pa.string())
    created_at: dt.datetime = column(UTC_TS)
    # added with list items' add and remove, typing at save time and calibration; null in older files
    action: str | None = column(pa.string(), "ReviewAction: set | accept | add_item | remove_item | done")
    typed_value: str | None = column(pa.string(), "new_value as typed when saved (JSON; dates ISO), with the document's evidence")
    model_confidence: float | None = column(pa.float64(), "the value's confidence when it was reviewed")
    model_right: bool | None = column(pa.bool_(), "the reviewer's value equals the model's (accept: true)")
    # sorting: which of a file's segments the correction is about (null: the whole file); a class
    # corrected is a row of schema `segments`, field `doc_class`
    segment: int | None = column(pa.int32(), "the segment of the file (sorting --split); null: the whole file")


ROW_CLASSES = {
    "documents": DocumentRow,
    "pages": PageRow,
    "generations": GenerationRow,
    "errors": ErrorRow,
    "runs": RunRow,
    "transcripts": TranscriptRow,
    "corrections": CorrectionRow,
    "segments": SegmentRow,
}
