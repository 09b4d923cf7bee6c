"""The ingest flow: discover -> plan -> (render -> infer -> write) per chunk, as Prefect tasks.

Two entries, one flow name (`docpipe-ingest`):

- `ingest_flow(config)`: what a deployment runs (`docpipe serve | deploy | submit`). Its only
  parameter is the run configuration, plain data; the engine is built inside the run by
  engines/factory.py. Passwords are SecretStr (Prefect stores them as `**********`), or a
  `password_file` the run reads where it runs.
- `ingest(config, engine=None, progress=None)`: the same flow from Python or `docpipe run`, with
  an engine object and a progress reporter of the caller's; Prefect's parameters hold only
  `config` here too.

Many runs may write into one output folder at once (shards of a submission, several hosts on a
shared filesystem): each holds a lease on the folder (output/lease.py), claims the documents it
reads (output/claims.py) and waits for documents another live run is reading; only files of runs
whose lease expired are moved aside (output/recovery.py).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from docpipe.core.vocab import RunStatus, Task
from docpipe.engines.factory import build_engine
from docpipe.flows.artifacts import publish
from docpipe.flows.model_slot import model_slot
from docpipe.flows.retry import backoff, retry_when_unreachable
from docpipe.ingest.discover import discover
from docpipe.ingest.render_pool import make_renderer
from docpipe.output.claims import release, try_claim
from docpipe.output.lease import Lease
from docpipe.output.recovery import recover_orphans
from docpipe.run import pipeline
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress, Progress
from docpipe.run.shards import in_shard, settled
from docpipe.schema.load import resolve_schema

FLOW_NAME = "docpipe-ingest"


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(root: Path, follow_links: bool = False):
    return discover(root, follow_links)


@task(name="plan", cache_policy=NO_CACHE)
def plan_task(run: pipeline.Run, documents):
    return pipeline.plan(run, documents)


@task(name="render", cache_policy=NO_CACHE)
def render_task(run: pipeline.Run, items, budget: int, renderer: Any):
    return pipeline.render(run, items, budget, renderer)


@task(name="infer", cache_policy=NO_CACHE)
def infer_task(engine: Any, requests, kept: pipeline.KeptAnswers):
    return pipeline.infer(engine, requests, kept)  # a retry asks only for what the last attempt lacked


@task(name="write", cache_policy=NO_CACHE)
def write_task(run, state, stats, lease: Lease):
    pipeline.write_chunk(run, state, stats, before_commit=lease.check)  # a run that lost its lease commits nothing


@flow(name=FLOW_NAME, log_prints=False)
def ingest_flow(config: RunConfig) -> pipeline.RunResult:
    """Process every new document of this run's shard under `config.input` into `config.out`."""
    return run_ingest(config)


def ingest(config: RunConfig, engine: Any = None, progress: Any = None) -> pipeline.RunResult:
    """The flow, in this process, with the caller's engine (an engines.base.Engine; built from the
    settings when None) and progress reporter (a run.progress.Progress)."""

    @flow(name=FLOW_NAME, log_prints=False)
    def docpipe_ingest(config: RunConfig) -> pipeline.RunResult:
        return run_ingest(config, engine, progress)

    return docpipe_ingest(config)


def run_ingest(config: RunConfig, engine: Any = None, progress: Any = None) -> pipeline.RunResult:
    """The flow's body (call it inside a flow run).

    The GPU is kept fed: while chunk k is being answered, chunk k+1 is rendered (in the render
    worker processes) and chunk k-1 is written, each by a Prefect task submitted to the flow's
    task runner; at most one chunk waits on each side, so memory stays flat on any folder size.
    """
    config = config.with_password_file()
    reporter: Progress = progress or NoProgress()
    extracting = config.task == Task.EXTRACT
    schema = resolve_schema(config.schema_name, config.schema_dir) if extracting else None
    owned = engine is None
    if owned:
        engine = build_engine(config.model, config.batch_size, **config.engine_settings())
    try:
        return _run(config, engine, reporter, schema, extracting)
    finally:
        if owned:
            engine.close()  # the served engine's connections and page files


def _run(config: RunConfig, engine: Any, reporter: Progress, schema: Any, extracting: bool) -> pipeline.RunResult:
    run = pipeline.start_run(config, schema, engine.name)
    infer = infer_task.with_options(
        retries=config.engine_retries, retry_delay_seconds=backoff(config.engine_retries),
        retry_condition_fn=retry_when_unreachable, timeout_seconds=config.chunk_timeout,
    )
    # one model per GPU: only a run that loads its model onto this host's GPU waits for the slot
    slot = model_slot(config.lease_seconds) if engine.holds_gpu() else contextlib.nullcontext()
    with Lease(config.out, run.run_id, config.lease_seconds, _flow_run_id()) as lease, slot:
        moved = recover_orphans(config.out)
        if moved:
            reporter.note(f"moved {len(moved)} files of an interrupted run to {config.out / '.orphaned'}")
        documents = in_shard(discover_task(config.input, config.follow_links), config.shard_index, config.shard_count)
        ready, waiting = settled(documents, config.settle_seconds)
        if waiting:
            reporter.note(f"{len(waiting)} files are still being written; the next run reads them")
        pending, already_done = plan_task(run, ready)
        stats = pipeline.RunStats(found=len(ready), already_done=already_done)
        reporter.begin(len(pending), "extracting" if extracting else "transcribing")
        renderer = make_renderer(config.render_workers, config.render_timeout, config.render_memory_mb)
        chunks = _Chunks(run, engine, infer, renderer, stats, reporter, lease)
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
    result = pipeline.RunResult(run.run_id, config.out, stats)
    publish(result, config.shard_index, config.shard_count)
    return result


def _flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return flow_run.id or None


class _Chunks:
    """Chunks of one run, numbered across its passes (a pass: the documents it could claim)."""

    def __init__(self, run, engine, infer, renderer, stats, reporter, lease):
        self.run, self.engine, self.infer, self.renderer = run, engine, infer, renderer
        self.stats, self.reporter, self.lease = stats, reporter, lease
        self.seq = 0
        self.claimed: set[str] = set()

    def process(self, items: Sequence[pipeline.WorkItem]) -> None:
        """Chunk after chunk; each chunk's size is asked of the engine when it is cut (the served
        engine's in-flight window grows or shrinks to its servers' limits as the run goes)."""
        run = self.run
        self.claimed |= {item.key for item in items}
        first_budget = run.policy.budgets[0]  # later rounds (auto) render in answer_chunk
        cut = 0

        def next_chunk():
            nonlocal cut
            if cut >= len(items):
                return None
            size = run.config.documents_per_chunk(self.engine.queue_depth())
            state = pipeline.ChunkState(list(items[cut : cut + size]), self.seq)
            cut, self.seq = cut + size, self.seq + 1
            return state, render_task.submit(run, state.pending(run), first_budget, self.renderer)

        writing = None
        upcoming = next_chunk()
        while upcoming is not None:
            state, rendering = upcoming
            rendered = rendering.result()
            upcoming = next_chunk()  # render ahead while this chunk is answered
            pages = pipeline.answer_chunk(
                run, state, lambda r, t, b: render_task(r, t, b, self.renderer),
                lambda q: self.infer(self.engine, q, pipeline.KeptAnswers()), first=rendered,
            )
            if writing is not None:
                writing.result()  # one write behind at most, and chunks commit in order
            writing = write_task.submit(run, state, self.stats, self.lease)
            self.reporter.advance(len(state.items), pages)
        if writing is not None:
            writing.result()


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
    """Of the documents another run was reading: those it has not finished (yet)."""
    done = pipeline.finished_keys(run.config.out)
    left = [item for item in items if item.key not in done]
    stats.already_done += len(items) - len(left)
    return left
