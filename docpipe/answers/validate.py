"""Type a model's answer against a schema, field by field, with confidence and source page.

A value that does not fit its field becomes null with an error naming the field; the other fields
keep their values. The record is `valid` only when every value fitted. No answer (no JSON object)
is an invalid_output error; an answer cut off by the token limit is `truncated`. Boxes the model
drew beside the values (`--boxes model`) are read into the record's `boxes`; their tokens never
count in a value's confidence.

Paths name values: ("total",) is a field, ("line_items", 2) the third item of a list (after
dropping items that are not objects), ("line_items", 2, "amount") a value inside it,
("supplier", "vat_id") a value of an object field.
"""

from __future__ import annotations

from typing import Any

from docpipe.answers.confidence import value_confidences
from docpipe.answers.json_spans import Path, find_json_object, leaf_spans
from docpipe.answers.model_boxes import answer_boxes
from docpipe.answers.source_page import assign_pages
from docpipe.core.errors import Category, Failure, Stage
from docpipe.core.types import ExtractedRecord, RawGeneration
from docpipe.core.vocab import FinishReason
from docpipe.normalize.evidence import DocumentEvidence, describe, gather_evidence
from docpipe.schema.box_fields import is_box_key
from docpipe.schema.spec import RAW_KINDS, FieldSpec, Schema


def validate_generation(schema: Schema, generation: RawGeneration,
                        page_texts: dict[int, str] | None = None, date_order: str = "auto") -> ExtractedRecord:
    empty = {f.name: None for f in schema.fields}
    pages = tuple(generation.page_nos)
    if generation.error is not None:
        return ExtractedRecord(
            generation.doc_id, empty, False,
            failure=Failure(Stage.INFER, Category.MODEL_ERROR, generation.error), page_nos=pages,
        )
    found = find_json_object(generation.text, frozenset(f.name for f in schema.fields))
    if found is None:
        truncated = generation.finish_reason == FinishReason.LENGTH
        failure = (
            Failure(Stage.VALIDATE, Category.TRUNCATED,
                    f"the answer hit the limit of {generation.output_tokens} tokens before its JSON ended")
            if truncated else Failure(Stage.VALIDATE, Category.INVALID_OUTPUT, "the answer contains no JSON object")
        )
        return ExtractedRecord(generation.doc_id, empty, False, page_nos=pages, failure=failure)
    answer, start = found
    typer = _Typer(answer_evidence(schema, answer, date_order))  # settles '1.727', '04/05/2026'
    values = {f.name: typer.typed(f, answer.get(f.name), (f.name,)) for f in schema.fields}
    values = schema.model.model_validate(values).model_dump()  # typed values always pass: a bug if not
    spans = leaf_spans(generation.text, start)
    value_spans = {p: s for p, s in spans.items() if not any(is_box_key(k) for k in p)}
    box_spans = {p: s for p, s in spans.items() if p not in value_spans}  # --boxes model: not the values'
    confidence = typer.remap(value_confidences(value_spans, generation.token_ends, generation.token_logprobs))
    drawn = answer_boxes(schema, answer, typer.sources, pages,
                         value_confidences(box_spans, generation.token_ends, generation.token_logprobs))
    where = assign_pages(schema, values, typer.raw, pages, page_texts or {})
    errors = typer.errors
    summary = "; ".join(f"{k}: {v}" for k, v in errors.items())
    return ExtractedRecord(
        generation.doc_id, values, not errors, errors,
        failure=Failure(Stage.VALIDATE, Category.INVALID_OUTPUT, summary) if errors else None,
        raw=typer.raw, confidence=confidence, pages=where, boxes=drawn, page_nos=pages,
        typing=describe(typer.evidence) if typer.evidence is not None else {},
    )


def answer_evidence(schema: Schema, answer: dict[str, Any], date_order: str = "auto") -> DocumentEvidence:
    """What the answer's printed amounts, numbers and dates say about how the document prints
    values (decimal mark, currency, day/month order), and which rule decided each."""
    printed: dict[str, list[Any]] = {"money": [], "number": [], "date": [], "currency": []}

    def walk(fields: tuple[FieldSpec, ...], values: dict[str, Any]) -> None:
        for f in fields:
            value = values.get(f.name)
            if f.kind == "list" and isinstance(value, list):
                for item in (v for v in value if isinstance(v, dict)):
                    walk(f.fields, item)
            elif f.kind == "object" and isinstance(value, dict):
                walk(f.fields, value)
            elif f.kind in printed:
                printed[f.kind].append(value)
            elif f.kind == "text" and f.name == "currency":  # a field for the ISO code, as in invoice
                printed["currency"].append(value)

    walk(schema.fields, answer)
    return gather_evidence(printed["money"], printed["number"], printed["date"], date_order, printed["currency"])


class _Typer:
    """Types values and remembers what it saw: raw text, errors, and which JSON list index
    each kept list item came from (items that are not objects are dropped)."""

    def __init__(self, evidence: DocumentEvidence | None = None) -> None:
        self.evidence = evidence
        self.errors: dict[str, str] = {}
        self.raw: dict[Path, str] = {}
        self.sources: dict[Path, list[int]] = {}  # list path -> JSON index of each kept item

    def typed(self, spec: FieldSpec, value: Any, path: Path) -> Any:
        where = path_label(path)
        if spec.kind == "object":
            if value is None:
                return None
            if not isinstance(value, dict):
                self.errors[where] = f"expected an object, got {type(value).__name__}"
                return None
            return {f.name: self.typed(f, value.get(f.name), (*path, f.name)) for f in spec.fields}
        if spec.kind != "list":
            if spec.kind in RAW_KINDS and value is not None:
                self.raw[path] = str(value)
            try:
                return spec.parse(value, self.evidence)
            except ValueError as exc:
                self.errors[where] = str(exc)
                return None
        if value is None:
            return None
        if not isinstance(value, list):
            self.errors[where] = f"expected a list, got {type(value).__name__}"
            return None
        items, kept = [], []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.errors[f"{where}[{index}]"] = f"expected an object, got {type(item).__name__}"
                continue
            position = (*path, len(items))
            items.append({f.name: self.typed(f, item.get(f.name), (*position, f.name)) for f in spec.fields})
            kept.append(index)
        self.sources[path] = kept
        return items

    def remap(self, by_json_path: dict[Path, float]) -> dict[Path, float]:
        """Re-key JSON paths (list indices as written) to typed paths (indices after dropping)."""
        inverse = {
            (*list_path, json_index): (*list_path, kept_index)
            for list_path, kept in self.sources.items() for kept_index, json_index in enumerate(kept)
        }
        out = {}
        for path, value in by_json_path.items():
            if len(path) >= 2 and path[:2] in inverse:
                path = (*inverse[path[:2]], *path[2:])
            elif len(path) >= 2 and path[:1] in self.sources:
                continue  # inside an item that was dropped
            out[path] = value
        return out


def path_label(path: Path) -> str:
    """A value's path as people write it: total, line_items[2].amount, supplier.vat_id."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
