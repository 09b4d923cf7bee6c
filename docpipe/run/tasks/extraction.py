"""Extraction: a schema's fields of each document, into records/<schema>."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from docpipe.answers.assess import assess
from docpipe.answers.boxes import record_boxes
from docpipe.answers.merge import merge_records
from docpipe.answers.validate import validate_generation
from docpipe.core.types import Attempt, ModelRequest, RawGeneration, RenderedDocument, RenderedPage
from docpipe.core.vocab import DocumentStatus
from docpipe.output import tables
from docpipe.output.outcome import DocContext, Rows, add_extraction
from docpipe.output.schema_store import remember, table_schema
from docpipe.output.versions import migrate
from docpipe.run.budget_policy import BudgetPolicy
from docpipe.run.config import RunConfig
from docpipe.run.tasks.base import InferFn, RenderFn, budget_rounds
from docpipe.run.tasks.kept import sizes_only
from docpipe.schema.prompt import ask, build_prompt
from docpipe.schema.spec import Schema


class Extraction:
    name = "extract"

    def __init__(self, schema: Schema, config: RunConfig) -> None:
        self.schema, self.config = schema, config
        self.table, self.key = schema.name, schema.key
        if config.adapter is not None:  # a tuned model reads again: the adapter's hash is in the key
            from docpipe.run.adapters import adapter_hash

            self.key = f"{schema.key}+adapter-{adapter_hash(config.adapter)}"
        self.constrained = config.constrained
        self.records: pa.Schema | None = None  # the records table's columns, once OUT's versions are known

    @property
    def boxes(self) -> str:
        """Which pages the model is asked to box every value on (`--boxes`)."""
        return self.config.boxes

    @property
    def prompt_version(self) -> str:
        """In the work key: asking for boxes is another prompt, so a run with them reads again."""
        return self.config.prompt_version + ("" if self.boxes == "text" else f"+boxes-{self.boxes}")

    def policy(self, config: RunConfig) -> BudgetPolicy:
        return config.policy(self.schema.budget)

    def policy_key(self, config: RunConfig) -> str:
        return self.policy(config).key

    def prepare(self, out: Path) -> list[str]:
        """OUT keeps each version it was read with (SchemaEdited: an edit, same version); its
        records table is brought to this version's columns, once."""
        remember(out, self.schema)
        self.records = table_schema(out, self.schema)
        rewritten = migrate(out, self.schema, self.records)
        if not rewritten:
            return []
        return [f"records/{self.schema.name}: {rewritten} files rewritten with the columns and types of "
                f"{self.schema.key} (and of its earlier versions)"]

    def requests(self, rendered: Sequence[RenderedDocument], budget: int) -> list[ModelRequest]:
        """One request per document with all its pages, or one per page beyond `pages_per_request`."""
        asks: dict[int, tuple[str, str | None]] = {}  # by boxes asked for: instructions and JSON schema
        config = self.config

        def asking(group: Sequence[RenderedPage]) -> tuple[str, str | None]:
            """With boxes asked of the model, the box keys depend on the number of images."""
            wanted = self.boxes == "model" or (self.boxes == "auto" and not any(p.words for p in group))
            boxes = len(group) if wanted else 0
            if boxes not in asks:
                schema_json = self.schema.json_schema(config.max_text_length, boxes) if config.constrained else None
                asks[boxes] = (build_prompt(self.schema, boxes), None if schema_json is None else json.dumps(schema_json))
            return asks[boxes]

        requests = []
        for doc in rendered:
            pages = doc.usable_pages
            groups = [pages] if len(pages) <= config.pages_per_request else [(p,) for p in pages]
            for group in groups:
                if group:
                    instructions, schema_json = asking(group)
                    requests.append(ModelRequest(
                        doc.source.doc_id, tuple(p.image for p in group), ask(len(group)), budget,
                        config.max_new_tokens, schema_json, tuple(p.page_no for p in group), instructions,
                    ))
        return requests

    def read(self, doc: RenderedDocument, pairs: list[tuple[ModelRequest, RawGeneration]], budget: int) -> Attempt:
        """The answers typed, merged into one record, boxed and judged by the schema's rules."""
        doc = sizes_only(doc)
        texts = {p.page_no: p.text_layer for p in doc.pages if p.text_layer}
        parts = [validate_generation(self.schema, g, texts, self.config.date_order) for _, g in pairs]
        record = merge_records(self.schema, parts) if parts else None
        if record is not None:  # where each value is printed, from the pages' text layer; the rules
            words = {p.page_no: p.words for p in doc.pages}
            record = assess(self.schema, dataclasses.replace(record, boxes=record_boxes(self.schema, record, words)))
        return Attempt(budget, doc, tuple(sizes_only(r) for r, _ in pairs), tuple(g for _, g in pairs), record)

    def answer(self, config, policy, items, render: RenderFn, infer: InferFn, first):
        return budget_rounds(policy, items, render, infer, first, self.requests, self.read)

    def outcome(self, rows: Rows, ctx: DocContext, attempts: list[Attempt]) -> DocumentStatus:
        return add_extraction(rows, ctx, attempts)

    def write(self, out: Path, rows: Rows, tag: str) -> None:
        records = rows.records.get(self.schema.name, [])
        tables.write_rows(out, self.schema.name, tables.fit(records, self.records), self.records, tag)
