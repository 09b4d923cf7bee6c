"""The training set of `docpipe finetune`: each fully reviewed document of a schema (every value
accepted or corrected: the review page's "document done") as the request docpipe sends at
inference (run/tasks/extraction.py: the schema's instructions, its pages at the budget the record
was read at, the ask) and, as the target, the compact JSON the grammar accepts with the
reviewer's values as printed. A target is typed back with the schema (answers/validate.py) and
must give the reviewed values: one that does not (a value the grammar cannot write) is left out,
saying why."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from docpipe.answers.validate import validate_generation
from docpipe.core.types import ModelRequest, RawGeneration, SourceDocument
from docpipe.core.vocab import DocumentKind, FinishReason
from docpipe.ingest.limits import RenderOptions
from docpipe.ingest.render import render_document
from docpipe.output.reading import read_table
from docpipe.run.config import RunConfig
from docpipe.run.tasks.extraction import Extraction
from docpipe.schema.kinds import Kind
from docpipe.schema.spec import RAW_KINDS, FieldSpec, Schema


@dataclass(frozen=True)
class Example:
    doc_id: str
    name: str
    budget: int
    request: ModelRequest  # exactly what inference asks (pixels included)
    target: str  # the approved answer, compact JSON


@dataclass
class TrainingSet:
    examples: list[Example] = field(default_factory=list)
    reviewed: int = 0  # documents marked done
    left_out: dict[str, str] = field(default_factory=dict)  # name -> why


def printed(spec: FieldSpec, row: dict[str, Any], name: str) -> Any:
    """A value as the answer writes it: typed kinds as printed (their `_raw`), others as they are."""
    value = row.get(name)
    if _missing(value):
        return None
    if spec.kind == Kind.LIST:
        return [{sub.name: printed(sub, item, sub.name) for sub in spec.fields} for item in value]
    if spec.kind == Kind.OBJECT:
        return {sub.name: printed(sub, value, sub.name) for sub in spec.fields}
    if spec.kind in RAW_KINDS:
        raw = row.get(f"{name}_raw")
        return None if _missing(raw) else str(raw)
    return value.item() if isinstance(value, np.generic) else value


def target_of(schema: Schema, row: dict[str, Any]) -> str:
    """The compact JSON answer holding a reviewed record's values, in the schema's field order."""
    return json.dumps({spec.name: printed(spec, row, spec.name) for spec in schema.fields},
                      separators=(",", ":"), ensure_ascii=False)


def build(out: Path, schema: Schema, config: RunConfig) -> TrainingSet:
    """Every document of `schema` marked done in OUT's review, as an example (see the module)."""
    records = read_table(out, schema.name, corrected=True, python_cells=True)
    found = TrainingSet()
    if records.empty or "review_done" not in records:
        return found
    done = records[records["review_done"].astype(bool)]
    found.reviewed = len(done)
    documents = read_table(out, "documents").drop_duplicates("doc_id", keep="last").set_index("doc_id")
    task = Extraction(schema, config)
    for row in done.to_dict("records"):
        name = str(row.get("name") or row["doc_id"][:12])
        why = _left_out(row, documents)
        if why:
            found.left_out[name] = why
            continue
        entry = documents.loc[row["doc_id"]]
        source = SourceDocument(Path(entry["source_path"]), row["doc_id"], DocumentKind(entry["kind"]),
                                int(entry["size_bytes"]))
        budget = int(row["budget"])
        rendered = render_document(source, budget, RenderOptions(max_pages=config.max_pages,
                                                                 converted=str(out / "_converted")))
        if rendered.failure is not None or not rendered.usable_pages:
            found.left_out[name] = f"its pages could not be drawn again: {rendered.failure or 'none usable'}"
            continue
        if not _missing(row.get("segment")):  # a sorted file's document: its own pages
            pages = range(int(row["page_from"]), int(row["page_to"]) + 1)
            rendered = dataclasses.replace(rendered, pages=tuple(p for p in rendered.pages if p.page_no in pages))
        requests = task.requests([rendered], budget)
        if len(requests) != 1:
            found.left_out[name] = (f"{len(rendered.usable_pages)} pages are read page by page (--pages-per-request "
                                    f"{config.pages_per_request}): a page's own answer is not reviewed")
            continue
        target = target_of(schema, row)
        problem = _types_back(schema, target, row)
        if problem:
            found.left_out[name] = problem
            continue
        found.examples.append(Example(row["doc_id"], name, budget, requests[0], target))
    return found


def split(examples: Sequence[Example], held_out: float, seed: int) -> tuple[list[Example], list[Example]]:
    """(training, held out): a seeded draw of round(held_out x n) documents, at least one when
    there are two or more and held_out > 0."""
    chosen = sorted(examples, key=lambda e: e.doc_id)
    random.Random(seed).shuffle(chosen)
    count = 0 if held_out <= 0 or len(chosen) < 2 else max(1, min(len(chosen) - 1, round(held_out * len(chosen))))
    return chosen[count:], chosen[:count]


def _left_out(row: dict[str, Any], documents) -> str | None:
    if row["doc_id"] not in documents.index:
        return "no documents row: where its file is, is not known"
    if not Path(documents.loc[row["doc_id"], "source_path"]).is_file():
        return f"its file is gone: {documents.loc[row['doc_id'], 'source_path']}"
    return None


def _types_back(schema: Schema, target: str, row: dict[str, Any]) -> str | None:
    """Why `target` does not type to the reviewed values (None: it does)."""
    generation = RawGeneration("", target, 0, 0, FinishReason.STOP, 0.0)
    record = validate_generation(schema, generation)
    if not record.valid:
        return f"its reviewed values do not fit the schema's grammar: {record.failure.message if record.failure else ''}"
    for spec in schema.fields:
        if spec.kind.is_group:
            continue
        want, got = row.get(spec.name), record.values.get(spec.name)
        if _missing(want) and got is None:
            continue
        if _missing(want) or got is None or not _same(want, got):
            return f"{spec.name}: the answer would type to {got!r}, the review says {want!r}"
    return None


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, np.generic):
        want = want.item()
    if isinstance(want, float) or isinstance(got, float):
        try:
            return math.isclose(float(want), float(got), abs_tol=0.005)
        except (TypeError, ValueError):
            return False
    return want == got


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, list | dict | np.ndarray) else False
    except (TypeError, ValueError):
        return False
