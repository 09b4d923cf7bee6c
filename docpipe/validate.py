"""Type a model's answer against a schema, field by field.

A value that does not fit its field becomes null with an error naming the field; the other fields
keep their values. The record is `valid` only when every present value fitted. No answer (no JSON
object) is an invalid_output error; an answer cut off by the token limit is `truncated`.
"""

from __future__ import annotations

from typing import Any

from docpipe.errors import Category
from docpipe.parse import find_json_object
from docpipe.schemas import FieldSpec, Schema
from docpipe.types import ExtractedRecord, RawGeneration


def validate_generation(schema: Schema, generation: RawGeneration) -> ExtractedRecord:
    empty = {f.name: None for f in schema.fields}
    if generation.error is not None:
        return ExtractedRecord(
            generation.doc_id, empty, False,
            error_category=Category.MODEL_ERROR, error_message=generation.error,
        )
    answer = find_json_object(generation.text)
    if answer is None:
        truncated = generation.finish_reason == "length"
        category = Category.TRUNCATED if truncated else Category.INVALID_OUTPUT
        reason = (
            f"the answer hit the limit of {generation.output_tokens} tokens before its JSON ended"
            if truncated else "the answer contains no JSON object"
        )
        return ExtractedRecord(
            generation.doc_id, empty, False, error_category=category, error_message=reason
        )
    values, field_errors = type_values(schema, answer)
    if not field_errors:
        return ExtractedRecord(generation.doc_id, values, True)
    summary = "; ".join(f"{k}: {v}" for k, v in field_errors.items())
    return ExtractedRecord(
        generation.doc_id, values, False, field_errors,
        error_category=Category.INVALID_OUTPUT, error_message=summary,
    )


def type_values(schema: Schema, answer: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values for every field, and an error per value that had to be dropped.

    A missing key is null without an error. A list item that is not an object is dropped; a
    sub-field that does not fit is nulled inside its item.
    """
    errors: dict[str, str] = {}
    values = {f.name: _typed(f, answer.get(f.name), f.name, errors) for f in schema.fields}
    model = schema.model.model_validate(values)  # typed values always pass: a bug if not
    return model.model_dump(), errors


def _typed(spec: FieldSpec, value: Any, where: str, errors: dict[str, str]) -> Any:
    if spec.kind != "list":
        try:
            return spec.parse(value)
        except ValueError as exc:
            errors[where] = str(exc)
            return None
    if value is None:
        return None
    if not isinstance(value, list):
        errors[where] = f"expected a list, got {type(value).__name__}"
        return None
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            errors[f"{where}[{index}]"] = f"expected an object, got {type(item).__name__}"
            continue
        items.append(
            {f.name: _typed(f, item.get(f.name), f"{where}[{index}].{f.name}", errors) for f in spec.fields}
        )
    return items
