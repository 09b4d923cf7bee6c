"""The reading task of a run: what every stage asks of it instead of branching on the task.

A task says what documents are read into (`table`, the documents table's `schema` column, which
the plan compares), what stands for it in the work key (`key`, `prompt_version`, `constrained`,
`policy_key`), how one chunk is answered (`answer`: render, requests, engine, reading, at each
budget round), what one document's attempts become as rows (`outcome`), and which tables a chunk
writes (`write`). Adding a task is one module here and its choice in run/tasks/choose.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from docpipe.core.types import Attempt, ModelRequest, RawGeneration, RenderedDocument
from docpipe.core.vocab import DocumentStatus
from docpipe.output.outcome import DocContext, Rows

if TYPE_CHECKING:
    from docpipe.run.budget_policy import BudgetPolicy
    from docpipe.run.config import RunConfig
    from docpipe.run.planning import WorkItem

RenderFn = Callable[[Sequence["WorkItem"], int], list[RenderedDocument]]  # (items, budget) -> rendered
InferFn = Callable[[list[ModelRequest]], list[RawGeneration]]


class ReadingTask(Protocol):
    name: str  # extract | transcribe | sort: the progress bar's verb comes from it
    table: str  # what documents are read into: a schema's records, transcripts, or segments
    key: str  # stands for the schema in the work key: schema@version, transcripts@prompt, segments:...
    prompt_version: str  # in the work key
    constrained: bool  # in the work key: answers held to a JSON schema

    def policy(self, config: RunConfig) -> BudgetPolicy:
        """The budgets of the task's reading (extraction's: --budget, or the schema's)."""

    def policy_key(self, config: RunConfig) -> str:
        """The budget policy as the work key and the documents table spell it."""

    def prepare(self, out: Path) -> list[str]:
        """Before the run reads: the schema versions OUT keeps, tables brought to today's columns.
        Returns lines for the user."""

    def answer(self, config: RunConfig, policy: BudgetPolicy, items: Sequence[WorkItem], render: RenderFn,
               infer: InferFn, first: list[RenderedDocument] | None) -> tuple[dict[str, list[Attempt]], int]:
        """One chunk's documents answered: their attempts by work key, and the pages read."""

    def outcome(self, rows: Rows, ctx: DocContext, attempts: list[Attempt]) -> DocumentStatus:
        """A read document's rows; its status."""

    def write(self, out: Path, rows: Rows, tag: str) -> None:
        """The task's own tables of a chunk (documents, pages, generations and errors are the run's)."""


def budget_rounds(policy: BudgetPolicy, items: Sequence[WorkItem], render: RenderFn, infer: InferFn,
                  first: list[RenderedDocument] | None,
                  requests: Callable[[Sequence[RenderedDocument], int], list[ModelRequest]],
                  read: Callable[[RenderedDocument, list[tuple[ModelRequest, RawGeneration]], int], Attempt],
                  ) -> tuple[dict[str, list[Attempt]], int]:
    """Every budget round of a chunk (one for a fixed budget, auto's escalations after it): the
    documents rendered at the round's budget, asked, and their answers read into an attempt each;
    a document is read again while the policy wants more of its latest record."""
    attempts: dict[str, list[Attempt]] = {}
    todo, pages = [i for i in items if i.duplicate_of is None], 0
    for round_no, budget in enumerate(policy.budgets):
        if round_no:
            todo = [i for i in todo if policy.needs_more(attempts[i.key][-1].record)]
        if not todo:
            break
        rendered = first if round_no == 0 and first is not None else render(todo, budget)
        asked = requests(rendered, budget)
        by_doc = answers_by_doc(asked, infer(asked))
        for item, doc in zip(todo, rendered):
            attempts.setdefault(item.key, []).append(read(doc, by_doc.get(doc.source.doc_id, []), budget))
        pages += sum(len(d.usable_pages) for d in rendered)
    return attempts, pages


def answers_by_doc(requests: Sequence[ModelRequest], answers: Sequence[RawGeneration],
                   ) -> dict[str, list[tuple[ModelRequest, RawGeneration]]]:
    """Each document's (request, answer) pairs, in the order asked."""
    by_doc: dict[str, list[tuple[ModelRequest, RawGeneration]]] = {}
    for request, generation in zip(requests, answers):
        by_doc.setdefault(request.doc_id, []).append((request, generation))
    return by_doc
