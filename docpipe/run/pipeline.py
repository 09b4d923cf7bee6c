"""The stages of a run as plain functions (flows/ wraps them in Prefect tasks).

    discover -> plan (skip finished work) -> per chunk: [render -> requests -> engine ->
    validate] at each budget of the policy -> write

A chunk of documents is read and written before the next starts, so a crash loses at most the
chunk in flight, and a rerun skips every document whose work key is already written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from docpipe.answers.assess import assess
from docpipe.answers.boxes import record_boxes
from docpipe.answers.merge import merge_records
from docpipe.answers.validate import validate_generation
from docpipe.core.causes import governing_values
from docpipe.core.errors import EngineUnreachable
from docpipe.core.page_image import size_only
from docpipe.core.types import (
    Attempt, ModelRequest, RawGeneration, RenderedDocument, RenderedPage, SourceDocument,
)
from docpipe.core.vocab import DocumentStatus, RunStatus, Task
from docpipe.engines.base import Engine
from docpipe.ingest.convert import convert_many
from docpipe.ingest.render_pool import InlineRenderer, Renderer
from docpipe.output import tables
from docpipe.output.outcome import DocContext, Rows, add_container, add_duplicate, add_outcome
from docpipe.output.rows import RunRow
from docpipe.output.schema_store import remember, table_schema
from docpipe.run.budget_policy import BudgetPolicy
from docpipe.run.config import RunConfig, work_key
from docpipe.run.planning import Plan, Settings, WorkItem, make_plan
from docpipe.schema.prompt import ask, build_prompt
from docpipe.schema.spec import Schema
from docpipe.transcribe.prompt import (
    TRANSCRIBE_ASK, TRANSCRIBE_PROMPT, TRANSCRIBE_PROMPT_VERSION, TRANSCRIBE_TASK, transcribe_key,
)
from docpipe.transcribe.transcript import to_transcript


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
    schema: Schema | None  # None when the task is transcription
    model: str
    policy: BudgetPolicy
    started_at: dt.datetime
    started_clock: float
    # the records table's columns: this schema version's, then those only older versions have
    # (output/schema_store.table_schema); None for transcription
    records: pa.Schema | None = None

    @property
    def transcribing(self) -> bool:
        return self.config.task == Task.TRANSCRIBE

    @property
    def task_key(self) -> str:
        """What the documents are read for, in the work key: schema@version, or transcripts@prompt."""
        return transcribe_key() if self.schema is None else self.schema.key

    @property
    def table(self) -> str:
        """The table the task fills: records/<schema>, or transcripts."""
        return TRANSCRIBE_TASK if self.schema is None else self.schema.name

    @property
    def boxes(self) -> str:
        """Which pages the model is asked to box every value on (`--boxes`): text (none), model
        (all), auto (those without a text layer); transcription asks for none."""
        return "text" if self.schema is None else self.config.boxes

    @property
    def prompt_version(self) -> str:
        """In the work key: asking for boxes is another prompt, so a run with them reads again."""
        if self.schema is None:
            return TRANSCRIBE_PROMPT_VERSION
        return self.config.prompt_version + ("" if self.boxes == "text" else f"+boxes-{self.boxes}")

    def context(self, key: str) -> DocContext:
        return DocContext(self.run_id, key, self.table, self.schema, self.model, self.prompt_version, _now(),
                          self.policy.key, self.task_key, governing_values(self.config))

    def key_of(self, source: SourceDocument) -> str:
        return work_key(source.doc_id, self.task_key, self.model, self.policy.key, self.prompt_version,
                        self.config.constrained and not self.transcribing)

    def settings(self) -> Settings:
        """What this run reads with, for its plan."""
        return Settings(self.table, self.model, self.policy.key, self.prompt_version, self.task_key,
                        frozenset(self.config.retry_failed), self.config.reread == "older",
                        governing_values(self.config), self.config.max_pages)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start_run(config: RunConfig, schema: Schema | None, model: str) -> Run:
    """A run of `config`'s task: `schema` for extraction, None for transcription."""
    run_id = _now().strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    policy = config.policy(schema.budget if schema is not None else None)
    records = None
    if schema is not None:  # the folder keeps each version it was read with (SchemaEdited: an edit, same version)
        remember(config.out, schema)
        records = table_schema(config.out, schema)
    return Run(run_id, config, schema, model, policy, _now(), time.perf_counter(), records)


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
    """One request per document with all its pages, or one per page beyond `pages_per_request`;
    transcription asks one request per page, unconstrained."""
    if run.schema is None:
        return [
            ModelRequest(doc.source.doc_id, (page.image,), TRANSCRIBE_ASK, budget,
                         run.config.max_new_tokens, None, (page.page_no,), TRANSCRIBE_PROMPT)
            for doc in rendered for page in doc.usable_pages
        ]
    asks: dict[int, tuple[str, str | None]] = {}  # by boxes asked for: instructions and JSON schema

    def asking(group: Sequence[RenderedPage]) -> tuple[str, str | None]:
        """With boxes asked of the model, the box keys depend on the number of images."""
        wanted = run.boxes == "model" or (run.boxes == "auto" and not any(p.words for p in group))
        boxes = len(group) if wanted else 0
        if boxes not in asks:
            schema_json = run.schema.json_schema(run.config.max_text_length, boxes) if run.config.constrained else None
            asks[boxes] = (build_prompt(run.schema, boxes), None if schema_json is None else json.dumps(schema_json))
        return asks[boxes]

    requests = []
    for doc in rendered:
        pages = doc.usable_pages
        groups = [pages] if len(pages) <= run.config.pages_per_request else [(p,) for p in pages]
        for group in groups:
            if group:
                instructions, schema_json = asking(group)
                requests.append(ModelRequest(
                    doc.source.doc_id, tuple(p.image for p in group), ask(len(group)), budget,
                    run.config.max_new_tokens, schema_json, tuple(p.page_no for p in group), instructions,
                ))
    return requests


def sizes_only(thing: RenderedDocument | ModelRequest) -> RenderedDocument | ModelRequest:
    """A rendered document or a request without its pixels (or encoded bytes): what is kept of a
    page once it was answered is its size, so a chunk waiting to be written holds no images."""
    if isinstance(thing, ModelRequest):
        return dataclasses.replace(thing, images=tuple(size_only(i) for i in thing.images))
    pages = tuple(dataclasses.replace(p, image=size_only(p.image)) for p in thing.pages)
    return dataclasses.replace(thing, pages=pages)


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
        """Documents to read at the next budget: all at first, then those the policy escalates."""
        todo = [i for i in self.items if i.duplicate_of is None]
        if not self.attempts:
            return todo
        return [i for i in todo if i.key in self.attempts and run.policy.needs_more(self.attempts[i.key][-1].record)]

    def add_round(self, run: Run, items: Sequence[WorkItem], budget: int,
                  rendered: Sequence[RenderedDocument], requests: Sequence[ModelRequest],
                  generations: Sequence[RawGeneration]) -> None:
        by_doc: dict[str, list[tuple[ModelRequest, RawGeneration]]] = {}
        for request, generation in zip(requests, generations):  # answered: only the pages' sizes are kept
            by_doc.setdefault(request.doc_id, []).append((sizes_only(request), generation))
        for item, doc in zip(items, map(sizes_only, rendered)):
            pairs = by_doc.get(doc.source.doc_id, [])
            texts = {p.page_no: p.text_layer for p in doc.pages if p.text_layer}
            if run.schema is None:
                transcripts = tuple(to_transcript(g, r.page_nos[0], texts.get(r.page_nos[0])) for r, g in pairs)
                self.attempts.setdefault(item.key, []).append(Attempt(
                    budget, doc, tuple(r for r, _ in pairs), tuple(g for _, g in pairs), transcripts=transcripts,
                ))
                continue
            parts = [validate_generation(run.schema, g, texts, run.config.date_order) for _, g in pairs]
            record = merge_records(run.schema, parts) if parts else None
            if record is not None:  # where each value is printed, from the pages' text layer; the rules
                words = {p.page_no: p.words for p in doc.pages}
                record = assess(run.schema, dataclasses.replace(record, boxes=record_boxes(run.schema, record, words)))
            self.attempts.setdefault(item.key, []).append(Attempt(
                budget, doc, tuple(r for r, _ in pairs), tuple(g for _, g in pairs), record,
            ))


def answer_chunk(run: Run, state: ChunkState, render_fn: Callable[..., list[RenderedDocument]],
                 infer_fn: Callable[[list[ModelRequest]], list[RawGeneration]],
                 first: list[RenderedDocument] | None = None) -> int:
    """Every budget round for one chunk (one round for a fixed budget, auto's escalations after
    it); `first` is the first round's rendering when it was done ahead. Returns pages read."""
    pages = 0
    for round_no, budget in enumerate(run.policy.budgets):
        todo = state.pending(run)
        if not todo:
            break
        rendered = first if round_no == 0 and first is not None else render_fn(run, todo, budget)
        requests = build_requests(run, rendered, budget)
        state.add_round(run, todo, budget, rendered, requests, infer_fn(requests))
        pages += sum(len(d.usable_pages) for d in rendered)
    return pages


def process_chunk(run: Run, engine: Engine, items: Sequence[WorkItem], renderer: Renderer | None = None) -> ChunkState:
    """Render, ask the model and type one chunk in plain Python, without Prefect (the flow runs
    answer_chunk with its own tasks); nothing is written."""
    state = ChunkState(list(items))
    chosen = renderer or InlineRenderer()
    answer_chunk(run, state, lambda r, t, b: render(r, t, b, chosen), lambda q: infer(engine, q))
    return state


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
            status = add_outcome(rows, ctx, attempts)
            stats.pages += sum(len(a.rendered.usable_pages) for a in attempts)
            stats.escalations += int(len(attempts) > 1)
            final = attempts[-1].record
            if final is not None:
                stats.records += 1
                stats.records_valid += int(final.valid)
        stats.processed += 1
        stats.statuses[status] += 1
        category = rows.documents[-1].error_category
        if category:
            stats.categories[category] += 1
    stats.transcripts += len(rows.transcripts)
    tag, out = f"{run.run_id}-{state.tag}", run.config.out
    tables.write_rows(out, "pages", rows.pages, tables.PAGES, tag)
    tables.write_rows(out, "generations", rows.generations, tables.GENERATIONS, tag)
    if run.schema is not None:
        tables.write_rows(out, run.schema.name, tables.fit(rows.records, run.records), run.records, tag)
    tables.write_rows(out, TRANSCRIBE_TASK, rows.transcripts, tables.TRANSCRIPTS, tag)
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
        model=run.model, budget_policy=run.policy.key,
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
