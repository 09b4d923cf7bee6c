"""Sorting: each document classified among the given schemas (or `other`) at a small budget, then
extracted with its class's schema at that schema's budget; with --split each page is classified
and the file cut into segments (a scanner's batch into its documents), each extracted on its own.

One chunk: [render at the sorting budget -> one request per document (its first pages), or per
page (--split) -> classes -> segments] -> for each schema's budget round: the documents rendered
at that budget once, each segment's pages asked with its schema -> records (auto: segments whose
record wants more are read again higher, as extraction does).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from docpipe.classify.prompt import (
    DEFAULT_CLASSIFY_BUDGET, SEGMENTS_TABLE, answer_json_schema, answer_schema, ask, instructions, sorting_key,
)
from docpipe.classify.segments import page_class, split_pages, whole_document
from docpipe.core.types import Attempt, ModelRequest, PageClass, RenderedDocument, Segment
from docpipe.core.vocab import DocumentStatus
from docpipe.output import tables
from docpipe.output.outcome import DocContext, Rows, add_sorting
from docpipe.run.budget_policy import BudgetPolicy
from docpipe.run.config import RunConfig
from docpipe.run.tasks.base import InferFn, RenderFn, answers_by_doc
from docpipe.run.tasks.extraction import Extraction
from docpipe.run.tasks.kept import sizes_only
from docpipe.schema.prompt import PROMPT_VERSION
from docpipe.schema.spec import Schema


class Sorting:
    name = "sort"
    table = SEGMENTS_TABLE
    constrained = True

    def __init__(self, schemas: Sequence[Schema], config: RunConfig) -> None:
        self.config = config
        self.schemas = {s.name: s for s in sorted(schemas, key=lambda s: s.name)}  # the order given is no setting
        self.extractions = {s.name: Extraction(s, config) for s in schemas}
        self.split = config.split
        self.budget = config.classify_budget or DEFAULT_CLASSIFY_BUDGET
        self.answer_schema = answer_schema(list(self.schemas), self.split)
        self.instructions = instructions(list(self.schemas.values()), self.split)
        self.json_schema = json.dumps(answer_json_schema(list(self.schemas), self.split))
        self.key = sorting_key(list(self.schemas.values()), self.split, self.budget, config.class_threshold,
                               config.classify_pages, config.segment_max_pages)

    @property
    def prompt_version(self) -> str:
        """Extraction's prompt version (boxes included): the sorting's own is in its key."""
        return next(iter(self.extractions.values())).prompt_version if self.extractions else PROMPT_VERSION

    def policy(self, config: RunConfig) -> BudgetPolicy:
        """The sorting's own reading: one budget."""
        return BudgetPolicy.fixed(self.budget)

    def policy_key(self, config: RunConfig) -> str:
        """Each schema's extraction policy (--budget, or the schema's own)."""
        return ",".join(f"{name}:{task.policy_key(config)}" for name, task in sorted(self.extractions.items()))

    def prepare(self, out: Path) -> list[str]:
        return [line for task in self.extractions.values() for line in task.prepare(out)]

    def requests(self, rendered: Sequence[RenderedDocument], budget: int) -> list[ModelRequest]:
        """Per document, one request with its first pages; with --split one per page."""
        out = []
        for doc in rendered:
            pages = doc.usable_pages
            groups = [(p,) for p in pages] if self.split else ([tuple(pages[: self.config.classify_pages])] if pages else [])
            out += [ModelRequest(doc.source.doc_id, tuple(p.image for p in group), ask(self.split), budget,
                                 self.config.max_new_tokens, self.json_schema, tuple(p.page_no for p in group),
                                 self.instructions) for group in groups]
        return out

    def segments(self, doc: RenderedDocument, classes: Sequence[PageClass]) -> tuple[Segment, ...]:
        threshold = self.config.class_threshold
        pages = [p.page_no for p in doc.usable_pages]
        if not classes:
            return ()
        if self.split:
            return split_pages(classes, threshold, self.config.segment_max_pages)
        return (whole_document(classes[0], pages, threshold),)

    def answer(self, config: RunConfig, policy: BudgetPolicy, items, render: RenderFn, infer: InferFn, first):
        todo = [i for i in items if i.duplicate_of is None]
        if not todo:
            return {}, 0
        rendered = first if first is not None else render(todo, self.budget)
        asked = self.requests(rendered, self.budget)
        by_doc = answers_by_doc(asked, infer(asked))
        sorted_docs: dict[str, Attempt] = {}
        for item, doc in zip(todo, rendered):
            pairs = by_doc.get(doc.source.doc_id, [])
            classes = tuple(page_class(self.answer_schema, g, r.page_nos[0]) for r, g in pairs)
            sorted_docs[item.key] = Attempt(self.budget, sizes_only(doc), tuple(sizes_only(r) for r, _ in pairs),
                                            tuple(g for _, g in pairs), classes=classes,
                                            segments=self.segments(doc, classes))
        pages = sum(len(d.usable_pages) for d in rendered)
        extracted, more = self._extract(config, todo, sorted_docs, render, infer, rendered)
        pages += more
        return {key: [dataclasses.replace(a, extractions=tuple((s, tuple(extracted[key, s.number]))
                                                             for s in a.segments if (key, s.number) in extracted))]
                for key, a in sorted_docs.items()}, pages

    def _extract(self, config: RunConfig, todo, sorted_docs: dict[str, Attempt], render: RenderFn, infer: InferFn,
                 classified: list[RenderedDocument]) -> tuple[dict[tuple[str, int], list[Attempt]], int]:
        """Every segment of a known class read with its schema: budget round after budget round
        (each schema's policy); a document is rendered once per budget, for all its segments."""
        jobs = [(item, seg) for item in todo for seg in sorted_docs[item.key].segments if seg.schema is not None]
        policies = {name: task.policy(config) for name, task in self.extractions.items()}
        attempts: dict[tuple[str, int], list[Attempt]] = {}
        pages, round_no = 0, 0
        while True:
            wanted = []
            for item, seg in jobs:
                policy, tried = policies[seg.schema], attempts.get((item.key, seg.number), [])
                if round_no < len(policy.budgets) and (not tried or policy.needs_more(tried[-1].record)):
                    wanted.append((item, seg, policy.budgets[round_no]))
            if not wanted:
                return attempts, pages
            renders: dict[tuple[str, int], RenderedDocument] = {}
            for budget in sorted({b for _, _, b in wanted}):
                items = list({item.key: item for item, _, b in wanted if b == budget}.values())
                if budget == self.budget and round_no == 0:  # read at the sorting's budget: drawn already
                    done = {d.source.doc_id: d for d in classified}
                    fresh = [done[i.source.doc_id] for i in items]
                else:
                    fresh = render(items, budget)
                    pages += sum(len(d.usable_pages) for d in fresh)
                renders |= {(item.key, budget): doc for item, doc in zip(items, fresh)}
            asked, owners = [], []
            for item, seg, budget in wanted:
                doc = renders[item.key, budget]
                view = dataclasses.replace(doc, pages=tuple(p for p in doc.pages if p.page_no in seg.pages))
                requests = self.extractions[seg.schema].requests([view], budget)
                asked += requests
                owners.append((item, seg, budget, view, len(requests)))
            answers, at = infer(asked), 0
            for item, seg, budget, view, count in owners:
                pairs = list(zip(asked[at: at + count], answers[at: at + count]))
                at += count
                attempts.setdefault((item.key, seg.number), []).append(
                    self.extractions[seg.schema].read(view, pairs, budget))
            round_no += 1

    def outcome(self, rows: Rows, ctx: DocContext, attempts: list[Attempt]) -> DocumentStatus:
        return add_sorting(rows, ctx, attempts, self.schemas)

    def write(self, out: Path, rows: Rows, tag: str) -> None:
        tables.write_rows(out, SEGMENTS_TABLE, rows.segments, tables.SEGMENTS, tag)
        for name, task in self.extractions.items():
            task.write(out, rows, tag)
