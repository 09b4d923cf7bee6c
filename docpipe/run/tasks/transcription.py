"""Transcription: every page's text as Markdown, into transcripts; one unconstrained request per page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from docpipe.core.types import Attempt, ModelRequest, RawGeneration, RenderedDocument
from docpipe.core.vocab import DocumentStatus
from docpipe.output import tables
from docpipe.output.outcome import DocContext, Rows, add_transcription
from docpipe.run.budget_policy import BudgetPolicy
from docpipe.run.config import RunConfig
from docpipe.run.tasks.base import InferFn, RenderFn, budget_rounds
from docpipe.run.tasks.kept import sizes_only
from docpipe.transcribe.prompt import (
    TRANSCRIBE_ASK, TRANSCRIBE_PROMPT, TRANSCRIBE_PROMPT_VERSION, TRANSCRIBE_TASK, transcribe_key,
)
from docpipe.transcribe.transcript import to_transcript


class Transcription:
    name = "transcribe"
    table = TRANSCRIBE_TASK
    prompt_version = TRANSCRIBE_PROMPT_VERSION
    constrained = False

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.key = transcribe_key()

    def policy(self, config: RunConfig) -> BudgetPolicy:
        return config.policy(None)

    def policy_key(self, config: RunConfig) -> str:
        return self.policy(config).key

    def prepare(self, out: Path) -> list[str]:
        return []

    def requests(self, rendered: Sequence[RenderedDocument], budget: int) -> list[ModelRequest]:
        return [
            ModelRequest(doc.source.doc_id, (page.image,), TRANSCRIBE_ASK, budget,
                         self.config.max_new_tokens, None, (page.page_no,), TRANSCRIBE_PROMPT)
            for doc in rendered for page in doc.usable_pages
        ]

    def read(self, doc: RenderedDocument, pairs: list[tuple[ModelRequest, RawGeneration]], budget: int) -> Attempt:
        doc = sizes_only(doc)
        texts = {p.page_no: p.text_layer for p in doc.pages if p.text_layer}
        transcripts = tuple(to_transcript(g, r.page_nos[0], texts.get(r.page_nos[0])) for r, g in pairs)
        return Attempt(budget, doc, tuple(sizes_only(r) for r, _ in pairs), tuple(g for _, g in pairs),
                       transcripts=transcripts)

    def answer(self, config, policy, items, render: RenderFn, infer: InferFn, first):
        return budget_rounds(policy, items, render, infer, first, self.requests, self.read)

    def outcome(self, rows: Rows, ctx: DocContext, attempts: list[Attempt]) -> DocumentStatus:
        return add_transcription(rows, ctx, attempts)

    def write(self, out: Path, rows: Rows, tag: str) -> None:
        tables.write_rows(out, TRANSCRIBE_TASK, rows.transcripts, tables.TRANSCRIPTS, tag)
