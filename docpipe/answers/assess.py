"""A record judged against its schema's rules, after its values are typed and placed:

    missing       the required values it lacks (schema `required: true`)
    failed_checks the schema's checks it fails, each with by how much (schema/checks.py)
    not_on_page   amounts, numbers and dates printed nowhere on a page that has a text layer
                  (their box says `not_found`): the grammar makes the model write these as printed,
                  so on a born-digital page a value the page does not hold is likely invented, or
                  misread beyond recognition. Text is left out: a schema may ask for text the page
                  does not print as such (an ISO currency code, an address on one line)

A record is then parsed (every value fitted its field: `valid`), complete (nothing required is
missing) and consistent (no check fails). They judge; they never change a value.
"""

from __future__ import annotations

import dataclasses

from docpipe.answers.validate import path_label
from docpipe.core.types import ExtractedRecord
from docpipe.schema.checks import evaluate, missing_required
from docpipe.schema.spec import RAW_KINDS, Schema


def assess(schema: Schema, record: ExtractedRecord) -> ExtractedRecord:
    failures = tuple(f for check in schema.checks for f in evaluate(check, record.values))
    return dataclasses.replace(record, missing=tuple(missing_required(schema.fields, record.values)),
                               failed_checks=failures, not_on_page=not_on_page(schema, record))


def not_on_page(schema: Schema, record: ExtractedRecord) -> tuple[str, ...]:
    """The printed values whose box says the page's text layer does not hold them, by name."""
    specs = {f.name: f for f in schema.fields}
    flagged = []
    for path, box in sorted(record.boxes.items(), key=lambda item: str(item[0])):
        spec = specs.get(path[0])
        if spec is not None and spec.kind.is_group and isinstance(path[-1], str):
            spec = next((s for s in spec.fields if s.name == path[-1]), None)
        if box.source == "not_found" and spec is not None and spec.kind in RAW_KINDS:
            flagged.append(path_label(path))
    return tuple(flagged)
