"""The protocol of one run over an output folder, in plain Python: what lets many runs write into
one folder at once, losing nothing and reading nothing twice. flows/ingest.py is the Prefect
wiring over it.

    lease on OUT -> move the files of runs whose lease expired aside -> discover (hashing only files
    the file index does not know unchanged) -> this shard ->
    settled files -> plan (skip finished work) -> claim -> chunk after chunk: [render ahead |
    answer | write behind] -> wait for the documents another live run holds -> runs row

How each stage is called belongs to the caller (`Stages`): plain functions, with a thread for the
render ahead and the write behind (`plain_stages`), or Prefect tasks in the flow (retries of an
unreachable engine, time limits, the run's task graph, the GPU's model slot).

The GPU is kept fed: while chunk k is being answered, chunk k+1 is rendered and chunk k-1 is
written; at most one chunk waits on each side, so memory stays flat on any folder size.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from docpipe.core.vocab import RunStatus
from docpipe.engines.base import Engine
from docpipe.ingest.discover import discover
from docpipe.ingest.file_index import FileIndex
from docpipe.ingest.render_pool import make_renderer
from docpipe.ingest.kinds import shape
from docpipe.ingest.unpack import unpack_all
from docpipe.output.claims import release, try_claim
from docpipe.output.lease import Lease
from docpipe.output.recovery import recover_orphans
from docpipe.run import pipeline
from docpipe.run.config import RunConfig
from docpipe.run.log_lines import chunk_line, plan_lines, summary_line
from docpipe.run.planning import finished
from docpipe.run.progress import Progress
from docpipe.run.shards import in_shard, settled
from docpipe.run.tasks.base import ReadingTask
from docpipe.schema.spec import Schema


VERBS = {"extract": "extracting", "transcribe": "transcribing", "sort": "sorting and extracting"}
CONVERT_AHEAD = 64  # documents whose Office and HTML files one LibreOffice process converts (render ahead)


def write(run: pipeline.Run, state: pipeline.ChunkState, stats: pipeline.RunStats, lease: Lease) -> None:
    """A chunk's tables; a run that lost its lease commits nothing (the check right before the commit)."""
    pipeline.write_chunk(run, state, stats, before_commit=lease.check)


@dataclass(frozen=True)
class Stages:
    """How the protocol calls each stage. `render_ahead` and `write_behind` start their stage and
    return at once with something whose `.result()` waits for it (a Future, a Prefect future)."""

    render_ahead: Callable[..., Any]  # (run, items, budget, renderer, ahead) -> future of rendered documents
    write_behind: Callable[..., Any]  # (run, state, stats, lease) -> future of None
    discover: Callable[..., list] = discover  # (input, follow_links, file index, rehash, selection)
    plan: Callable[..., pipeline.Plan] = pipeline.plan
    render: Callable[..., list] = pipeline.render  # later budget rounds (auto), in the chunk's turn
    infer: Callable[..., list] = pipeline.infer  # (engine, requests, kept answers)
    model_slot: Callable[[float], contextlib.AbstractContextManager] = field(default=lambda seconds: contextlib.nullcontext())
    owner: Callable[[], str | None] = field(default=lambda: None)  # what the lease names (a flow run)
    # where a line per committed chunk and the run's summary go (a flow run's logger); plain runs: nowhere
    log: Callable[[str], None] = field(default=lambda line: None)


@contextlib.contextmanager
def plain_stages() -> Iterator[Stages]:
    """Every stage a plain function call; the render ahead and the write behind in threads."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="docpipe-stage") as pool:
        yield Stages(
            render_ahead=lambda *args: pool.submit(pipeline.render, *args),
            write_behind=lambda *args: pool.submit(write, *args),
        )


def execute(config: RunConfig, engine: Engine, reporter: Progress, task: ReadingTask | Schema | None,
            stages: Stages) -> pipeline.RunResult:
    """One run of `config` with `engine`, start to runs row. Runs a chunk loop per pass: a pass
    reads what this run could claim, then it waits for what another live run holds, and reads
    what that run left unfinished."""
    run = pipeline.start_run(config, task, engine.name)
    task = run.task
    # one model per GPU: only a run that loads its model onto this host's GPU waits for the slot
    slot = stages.model_slot(config.lease_seconds) if engine.holds_gpu() else contextlib.nullcontext()
    with Lease(config.out, run.run_id, config.lease_seconds, stages.owner()) as lease, slot:
        moved = recover_orphans(config.out)
        if moved:
            reporter.note(f"moved {len(moved)} files of an interrupted run to {config.out / '.orphaned'}")
        for line in task.prepare(config.out):  # schema versions kept, records brought to today's columns
            reporter.note(line)
        index = FileIndex(config.out)  # what earlier runs learnt: unchanged files are not read again
        found = stages.discover(config.input, config.follow_links, index, config.rehash, selection=config.selection())
        if index.set_aside:
            reporter.note(f"the file index had {len(index.set_aside)} unreadable parts (moved to "
                          f"{config.out / '.orphaned'}): their files were hashed again")
        # this run's shard, and every archive and e-mail (the documents inside may fall in it)
        shard = {d.doc_id for d in in_shard(found, config.shard_index, config.shard_count)}
        mine = [d for d in found if d.doc_id in shard or shape(d.kind) == "container"]
        complete, waiting = settled(mine, config.settle_seconds)
        if waiting:
            reporter.note(f"{len(waiting)} files are still being written; the next run reads them")
        # a container is unpacked once complete; of what it holds, this run reads its shard
        ready = in_shard(unpack_all(complete, config.out, config.unpack_limits()), config.shard_index,
                         config.shard_count)
        plan = stages.plan(run, ready)
        pending = plan.pending
        stats = pipeline.RunStats(found=len(ready))
        stats.planned(plan)
        for line in plan_lines(plan):
            reporter.note(line)
            stages.log(line)
        pipeline.write_unread(run, plan, lease.check)
        reporter.begin(len(pending), VERBS[task.name])
        renderer = make_renderer(config.render_workers, config.render_timeout, config.render_memory_mb)
        chunks = _Chunks(run, engine, stages, renderer, stats, reporter, lease, len(pending))
        noted: set[str] = set()
        try:
            while pending:
                mine, others = _claim(run, pending, reporter, noted)
                # a claim is free once its run ended, committed or not: what another run committed
                # between our plan and our claim is done
                todo = _still_to_do(run, mine, stats)
                release(config.out, sorted({i.key for i in mine} - {i.key for i in todo}), run.run_id)
                chunks.process(todo)
                if not others:
                    break
                time.sleep(min(2.0, config.lease_seconds / 3))
                pending = _still_to_do(run, others, stats)
        except BaseException:
            pipeline.finish_run(run, stats, RunStatus.FAILED)
            raise
        finally:
            renderer.close()
            release(config.out, sorted(chunks.claimed), run.run_id)
        pipeline.finish_run(run, stats, RunStatus.COMPLETED)
    stages.log(summary_line(stats))
    return pipeline.RunResult(run.run_id, config.out, stats)


class _Chunks:
    """Chunks of one run, numbered across its passes (a pass: the documents it could claim)."""

    def __init__(self, run, engine, stages: Stages, renderer, stats, reporter, lease, planned: int):
        self.run, self.engine, self.stages, self.renderer = run, engine, stages, renderer
        self.stats, self.reporter, self.lease = stats, reporter, lease
        self.planned = planned  # documents the run set out to read: the log's "left"
        self.seq = 0
        self.claimed: set[str] = set()

    def process(self, items: Sequence[pipeline.WorkItem]) -> None:
        """Chunk after chunk; each chunk's size is asked of the engine when it is cut (the served
        engine's in-flight window grows or shrinks to its servers' limits as the run goes)."""
        run, stages = self.run, self.stages
        self.claimed |= {item.key for item in items}
        first_budget = run.policy.budgets[0]  # later rounds (auto) render in answer_chunk
        cut, converted_until = 0, 0

        def next_chunk():
            nonlocal cut, converted_until
            if cut >= len(items):
                return None
            size = run.config.documents_per_chunk(self.engine.queue_depth())
            state = pipeline.ChunkState(list(items[cut : cut + size]), self.seq)
            ahead = []  # Office files of the next chunks too: one LibreOffice start for CONVERT_AHEAD documents
            if cut >= converted_until:
                ahead = [item.source for item in items[cut + size : cut + CONVERT_AHEAD]]
                converted_until = cut + max(size, CONVERT_AHEAD)
            cut, self.seq = cut + size, self.seq + 1
            return state, stages.render_ahead(run, state.pending(run), first_budget, self.renderer, ahead)

        writing: tuple[Future | Any, int] | None = None  # the chunk being written, and its number
        upcoming = next_chunk()
        while upcoming is not None:
            state, rendering = upcoming
            rendered = rendering.result()
            upcoming = next_chunk()  # render ahead while this chunk is answered
            pages = pipeline.answer_chunk(
                run, state, lambda r, t, b: stages.render(r, t, b, self.renderer),
                lambda q: stages.infer(self.engine, q, pipeline.KeptAnswers()), first=rendered,
            )
            if writing is not None:
                self._committed(*writing)  # one write behind at most, and chunks commit in order
            writing = (stages.write_behind(run, state, self.stats, self.lease), state.seq)
            self.reporter.advance(len(state.items), pages)
        if writing is not None:
            self._committed(*writing)

    def _committed(self, writing: Future | Any, seq: int) -> None:
        """Wait for chunk `seq`'s write, then log it."""
        writing.result()
        seconds = time.perf_counter() - self.run.started_clock
        self.stages.log(chunk_line(seq, self.stats, self.planned, seconds))


def _claim(run: pipeline.Run, items: Sequence[pipeline.WorkItem], reporter: Progress, noted: set[str]):
    """(ours, another live run's): claims per work key, so copies of a file go together."""
    mine, others, holders = [], [], {}
    for item in items:
        if item.key not in holders:
            holders[item.key] = try_claim(run.config.out, item.key, run.run_id)
        (mine if holders[item.key] is None else others).append(item)
    by = {lease.describe() for lease in holders.values() if lease is not None}
    if others and not by <= noted:
        noted |= by
        reporter.note(f"{len(others)} documents are being read by {', '.join(sorted(by))}; waiting for it to finish")
    return mine, others


def _still_to_do(run: pipeline.Run, items: Sequence[pipeline.WorkItem], stats: pipeline.RunStats):
    """Of the documents another run was reading: those it has not finished (yet). A document read
    again (a retry) is finished once a reading newer than the one it replaces is."""
    done = finished(run.config.out)
    left = [item for item in items if done.get(item.key, item.replaces) == item.replaces]
    stats.already_done += len(items) - len(left)
    return left
