"""Merging per-page answers into one record per document."""

from __future__ import annotations

from typing import Any

from docpipe.core.errors import Category, Failure, Stage
from docpipe.core.types import Box, ExtractedRecord
from docpipe.schema.spec import Schema


def merge_records(schema: Schema, parts: list[ExtractedRecord]) -> ExtractedRecord:
    """One record from per-page answers (pages in order).

    A single value (a field that is not a list) comes from the page that gave it with the highest
    confidence, the earliest page on a tie (or without probabilities). Lists are concatenated in
    page order (line items continue across pages). Errors are kept, prefixed with their page.
    The record is valid when every page's answer was.
    """
    if len(parts) == 1:
        return parts[0]
    values: dict[str, Any] = {}
    raw: dict[tuple, str] = {}
    confidence: dict[tuple, float] = {}
    pages: dict[tuple, int] = {}
    boxes: dict[tuple, Box] = {}
    for spec in schema.fields:
        name = spec.name
        if spec.kind == "list":
            items = []
            for part in parts:
                for index, item in enumerate(part.values.get(name) or []):
                    new, old = (name, len(items)), (name, index)
                    items.append(item)
                    _copy_under(part, old, new, raw, confidence, pages, boxes)
            values[name] = items if any(p.values.get(name) is not None for p in parts) else None
            item_conf = [confidence[(name, i)] for i in range(len(items)) if (name, i) in confidence]
            if item_conf:
                confidence[(name,)] = min(item_conf)
            item_pages = [pages[(name, i)] for i in range(len(items)) if (name, i) in pages]
            if item_pages:
                pages[(name,)] = min(item_pages)
            continue
        given = [p for p in parts if p.values.get(name) is not None]
        if not given:
            values[name] = None
            continue
        best = max(given, key=lambda p: (p.confidence.get((name,), 0.0), -parts.index(p)))
        values[name] = best.values[name]
        _copy_under(best, (name,), (name,), raw, confidence, pages, boxes)
    errors = {f"page {_pages(p)}: {k}": v for p in parts for k, v in p.field_errors.items()}
    failed = [p for p in parts if p.failure is not None and not p.field_errors]
    failed_notes = {f"page {_pages(p)}": str(p.failure) for p in failed}
    errors |= failed_notes
    valid = all(p.valid for p in parts)
    failure = None
    if not valid:
        category = failed[0].failure.category if len(failed) == len(parts) else Category.INVALID_OUTPUT
        stage = Stage.INFER if category == Category.MODEL_ERROR else Stage.VALIDATE
        failure = Failure(stage, category, "; ".join(f"{k}: {v}" for k, v in errors.items()))
    return ExtractedRecord(
        parts[0].doc_id, values, valid, {} if len(failed) == len(parts) else errors,
        failure=failure,
        raw=raw, confidence=confidence, pages=pages, boxes=boxes,
        page_nos=tuple(n for p in parts for n in p.page_nos),
        typing=next((p.typing for p in parts if p.typing.get("date_order_rule") not in (None, "default")),
                    parts[0].typing),
    )


def _pages(part: ExtractedRecord) -> str:
    return ",".join(str(n) for n in part.page_nos)


def _copy_under(part: ExtractedRecord, old: tuple, new: tuple, raw: dict, confidence: dict, pages: dict,
                boxes: dict) -> None:
    """Copy raw/confidence/page/box entries at and under path `old` to path `new`."""
    size = len(old)
    for source, target in ((part.raw, raw), (part.confidence, confidence), (part.pages, pages), (part.boxes, boxes)):
        for path, value in source.items():
            if path[:size] == old:
                target[(*new, *path[size:])] = value
