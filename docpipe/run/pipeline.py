"""The stages of a run as plain functions (flows/ wraps them in Prefect tasks).

    discover -> plan (skip finished work) -> per chunk: [render -> requests -> engine ->
    validate] at each budget of the policy -> write

A chunk of documents is read and written before the next starts, so a crash loses at most the
chunk in flight, and a rerun skips every document whose work key is already written.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


from docpipe.core.causes import governing_values
from docpipe.core.errors import EngineUnreachable
from docpipe.core.types import (
    Attempt, ModelRequest, RawGeneration, RenderedDocument, SourceDocument,
)
from docpipe.core.vocab import DocumentStatus, RunStatus
from docpipe.engines.base import Engine
from docpipe.ingest.convert import convert_many
from docpipe.ingest.render_pool import InlineRenderer, Renderer
from docpipe.output import tables
from docpipe.output.outcome import DocContext, Rows, add_container, add_duplicate
from docpipe.output.rows import RunRow
from docpipe.run.budget_policy import BudgetPolicy
from docpipe.run.config import RunConfig, work_key
from docpipe.run.planning import Plan, Settings, WorkItem, make_plan
from docpipe.run.tasks.base import ReadingTask
from docpipe.run.tasks.choose import as_task
from docpipe.schema.spec import Schema


@dataclass
class RunStats:
    found: int = 0
    already_done: int = 0
    processed: int = 0
    pages: int = 0
    records: int = 0
    records_valid: int = 0
    transcripts: int = 0  # pages transcribed (task transcribe)
    escalations: int = 0
    statuses: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    # what the plan left or read again, and why (run/planning.Plan)
    retried: Counter = field(default_factory=Counter)  # failures read again, by why
    staying: Counter = field(default_factory=Counter)  # failures left as they were, by category
    older: Counter = field(default_factory=Counter)  # read before with other settings, left: by those
    older_pages: int = 0
    rereading: Counter = field(default_factory=Counter)  # read before with other settings, read again
    copies: int = 0  # files whose content was read under another name: listed, not read
    containers: int = 0  # archives and e-mails listed (their documents are read as documents of their own)
    classes: Counter = field(default_factory=Counter)  # sorting: documents found, by class

    def planned(self, plan: Plan) -> None:
        self.already_done += plan.already_done
        self.retried, self.staying, self.older = plan.retried, plan.staying, plan.older
        self.older_pages, self.rereading, self.copies = plan.older_pages, plan.rereading, len(plan.copies)
        self.containers = len(plan.containers)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class RunResult:
    """What a finished run reports: its id, where its tables are, and its counts."""

    run_id: str
    out: Path
    stats: RunStats


@dataclass(frozen=True)
class Run:
    run_id: str
    config: RunConfig
    task: ReadingTask  # what each document is read for (run/tasks/)
    model: str
    policy: BudgetPolicy  # the task's own reading (sorting: its one budget; each schema's is the task's)
    started_at: dt.datetime
    started_clock: float

    @property
    def task_key(self) -> str:
        """What the documents are read for, in the work key: schema@version, transcripts@prompt, segments:..."""
        return self.task.key

    @property
    def table(self) -> str:
        """The table the task fills: records/<schema>, transcripts, or segments."""
        return self.task.table

    @property
    def prompt_version(self) -> str:
        return self.task.prompt_version

    @property
    def policy_key(self) -> str:
        return self.task.policy_key(self.config)

    def context(self, key: str) -> DocContext:
        schema = getattr(self.task, "schema", None)  # extraction's: its records
        return DocContext(self.run_id, key, self.table, schema, self.model, self.prompt_version, _now(),
                          self.policy_key, self.task_key, governing_values(self.config))

    def key_of(self, source: SourceDocument) -> str:
        return work_key(source.doc_id, self.task_key, self.model, self.policy_key, self.prompt_version,
                        self.config.constrained and self.task.constrained)

    def settings(self) -> Settings:
        """What this run reads with, for its plan."""
        return Settings(self.table, self.model, self.policy_key, self.prompt_version, self.task_key,
                        frozenset(self.config.retry_failed), self.config.reread == "older",
                        governing_values(self.config), self.config.max_pages)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start_run(config: RunConfig, task: ReadingTask | Schema | None, model: str) -> Run:
    """A run of `task` (a schema: extraction with it; None: the task `config` asks for)."""
    task = as_task(config, task)
    run_id = _now().strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    return Run(run_id, config, task, model, task.policy(config), _now(), time.perf_counter())


def plan(run: Run, documents: Sequence[SourceDocument]) -> Plan:
    """The work still to do, and why the rest is left (run/planning.py)."""
    return make_plan(documents, [run.key_of(d) for d in documents], run.settings(), run.config.out)


def render(run: Run, items: Sequence[WorkItem], budget: int, renderer: Renderer,
           ahead: Sequence[SourceDocument] = ()) -> list[RenderedDocument]:
    """The chunk's pages; its Office and HTML files, and those of the documents `ahead` (the next
    chunks'), are converted to PDF first, together, in one LibreOffice process (ingest/convert.py:
    starting it costs most of a second; a file that fails the lot is converted alone after)."""
    sources, options = [item.source for item in items], run.config.render_options()
    if options.converted is not None:
        convert_many([*sources, *ahead], Path(options.converted))
    return renderer.render(sources, budget, options)


def build_requests(run: Run, rendered: Sequence[RenderedDocument], budget: int) -> list[ModelRequest]:
    """The task's requests for rendered documents (the benchmarks call it)."""
    return run.task.requests(rendered, budget)


class KeptAnswers:
    """Answers of one call that an earlier attempt got before its server went away: the next
    attempt of the call (Prefect's retry of the infer task, which passes this same object again)
    asks only for the others. A plain object, not a dict, so Prefect passes it as it is."""

    def __init__(self) -> None:
        self.by_position: dict[int, RawGeneration] = {}


def infer(engine: Engine, requests: Sequence[ModelRequest], kept: KeptAnswers | None = None) -> list[RawGeneration]:
    """The engine's answers, one per request. When no server could be reached for some requests
    (EngineUnreachable), the answers it did get are kept in `kept` and the error is raised, for
    the caller's retry."""
    kept = kept if kept is not None else KeptAnswers()
    asked = [i for i in range(len(requests)) if i not in kept.by_position]
    try:
        answers = engine.generate([requests[i] for i in asked]) if asked else []
    except EngineUnreachable as exc:
        kept.by_position.update({asked[j]: g for j, g in enumerate(exc.answered) if g is not None})
        raise
    kept.by_position.update(zip(asked, answers))
    return [kept.by_position[i] for i in range(len(requests))]


@dataclass
class ChunkState:
    """The attempts made so far for each document of a chunk."""

    items: list[WorkItem]
    seq: int = 0  # the chunk's number in its run: part of its files' tag
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)  # by work key

    @property
    def tag(self) -> str:
        return f"c{self.seq:05d}"

    def pending(self, run: Run) -> list[WorkItem]:
        """Documents to read (copies of a document read in the same chunk are not)."""
        return [i for i in self.items if i.duplicate_of is None]


def answer_chunk(run: Run, state: ChunkState, render_fn: Callable[..., list[RenderedDocument]],
                 infer_fn: Callable[[list[ModelRequest]], list[RawGeneration]],
                 first: list[RenderedDocument] | None = None) -> int:
    """Every reading of one chunk, as its task does it (budget rounds; sorting, then extraction);
    `first` is the first rendering when it was done ahead. Returns pages read."""
    attempts, pages = run.task.answer(run.config, run.policy, state.pending(run),
                                      lambda items, budget: render_fn(run, items, budget), infer_fn, first)
    state.attempts = attempts
    return pages


def process_chunk(run: Run, engine: Engine, items: Sequence[WorkItem], renderer: Renderer | None = None) -> ChunkState:
    """Render, ask the model and type one chunk in plain Python, without Prefect (the flow runs
    answer_chunk with its own tasks); nothing is written."""
    state = ChunkState(list(items))
    chosen = renderer or InlineRenderer()
    answer_chunk(run, state, lambda r, t, b: render(r, t, b, chosen), lambda q: infer(engine, q))
    return state


def final_records(attempts: Sequence[Attempt]) -> list:
    """A document's records as its last reading left them: its record, or each extracted segment's."""
    last = attempts[-1]
    if last.extractions:
        return [tried[-1].record for _, tried in last.extractions if tried and tried[-1].record is not None]
    return [last.record] if last.record is not None else []


def write_chunk(run: Run, state: ChunkState, stats: RunStats, before_commit: Callable[[], None] | None = None) -> None:
    """Write every table's rows for the chunk, and count the outcome. `before_commit` runs right
    before the documents file, which commits the chunk (e.g. a lease check that raises)."""
    rows = Rows()
    for item in state.items:
        ctx = run.context(item.key)
        if item.duplicate_of is not None:
            status = add_duplicate(rows, ctx, item.source, str(item.duplicate_of))
        else:
            attempts = state.attempts[item.key]
            status = run.task.outcome(rows, ctx, attempts)
            stats.pages += sum(len(a.rendered.usable_pages) for a in attempts)
            stats.escalations += int(len(attempts) > 1)
            for final in final_records(attempts):
                stats.records += 1
                stats.records_valid += int(final.valid)
            for segment in attempts[-1].segments:
                stats.classes[segment.label if segment.schema else f"{segment.label} (not extracted)"] += 1
        stats.processed += 1
        stats.statuses[status] += 1
        category = rows.documents[-1].error_category
        if category:
            stats.categories[category] += 1
    stats.transcripts += len(rows.transcripts)
    tag, out = f"{run.run_id}-{state.tag}", run.config.out
    tables.write_rows(out, "pages", rows.pages, tables.PAGES, tag)
    tables.write_rows(out, "generations", rows.generations, tables.GENERATIONS, tag)
    run.task.write(out, rows, tag)
    tables.write_rows(out, "errors", rows.errors, tables.ERRORS, tag)
    # documents last: a document counts as done only once everything else about it is on disk
    if before_commit is not None:
        before_commit()
    tables.write_rows(out, "documents", rows.documents, tables.DOCUMENTS, tag)


def write_unread(run: Run, plan: Plan, before_commit: Callable[[], None] | None = None) -> None:
    """The documents rows of what is listed, not read: each file whose content an earlier run read
    under another name, and each container (an archive, an e-mail: its documents have rows of
    their own), or why it could not be unpacked."""
    rows = Rows()
    for source, name in plan.copies:
        add_duplicate(rows, run.context(run.key_of(source)), source, f"{name}, read before")
    for source in plan.containers:
        add_container(rows, run.context(run.key_of(source)), source)
    if rows.documents:
        if before_commit is not None:
            before_commit()
        tables.write_rows(run.config.out, "errors", rows.errors, tables.ERRORS, f"{run.run_id}-listed")
        tables.write_rows(run.config.out, "documents", rows.documents, tables.DOCUMENTS, f"{run.run_id}-listed")


def finish_run(run: Run, stats: RunStats, status: RunStatus) -> None:
    from docpipe import __version__

    stats.seconds = time.perf_counter() - run.started_clock
    row = RunRow(
        run_id=run.run_id, started_at=run.started_at, finished_at=_now(),
        status=status, input_path=str(run.config.input), schema=run.table, task_key=run.task_key,
        model=run.model, budget_policy=run.policy_key,
        config_json=run.config.public_json(),
        documents_found=stats.found, documents_already_done=stats.already_done,
        documents_processed=stats.processed,
        documents_ok=stats.statuses[DocumentStatus.OK] + stats.statuses[DocumentStatus.PARTIAL],
        documents_failed=stats.statuses[DocumentStatus.FAILED], pages=stats.pages,
        records=stats.records, records_valid=stats.records_valid,
        escalations=stats.escalations,
        seconds=stats.seconds, pages_per_second=stats.pages_per_second,
        docpipe_version=__version__,
    )
    tables.write_rows(run.config.out, "runs", [row], tables.RUNS, run.run_id)
