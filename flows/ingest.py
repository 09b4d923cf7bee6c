"""The ingest flow: discover -> plan -> (render -> infer -> write) per chunk, as Prefect tasks.

Run it from the CLI (`docpipe run`), from Python (`ingest(RunConfig(...))`), or schedule it with
`ingest.serve(cron=...)`. Without PREFECT_API_URL, Prefect starts a temporary local server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from docpipe.core.vocab import RunStatus, Task
from docpipe.engines.factory import build_engine
from docpipe.ingest.discover import discover
from docpipe.ingest.render_pool import make_renderer
from docpipe.output.lock import OutputLock
from docpipe.output.recovery import recover_orphans
from docpipe.run import pipeline
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress, Progress
from docpipe.schema.load import resolve_schema


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(root: Path):
    return discover(root)


@task(name="plan", cache_policy=NO_CACHE)
def plan_task(run: pipeline.Run, documents):
    return pipeline.plan(run, documents)


@task(name="render", cache_policy=NO_CACHE)
def render_task(run: pipeline.Run, items, budget: int, renderer: Any):
    return pipeline.render(run, items, budget, renderer)


@task(name="infer", cache_policy=NO_CACHE)
def infer_task(engine: Any, requests):
    return pipeline.infer(engine, requests)


@task(name="write", cache_policy=NO_CACHE)
def write_task(run, state, stats):
    pipeline.write_chunk(run, state, stats)


@flow(name="docpipe-ingest", log_prints=False)
def ingest(config: RunConfig, engine: Any = None, progress: Any = None) -> pipeline.RunResult:
    """Process every new document under `config.input` into the tables under `config.out`.

    `engine` (an engines.base.Engine; built from the settings when None) and `progress` (a
    run.progress.Progress) are typed Any here because Prefect validates flow parameters with
    pydantic, which cannot check a Protocol.

    The GPU is kept fed: while chunk k is being answered, chunk k+1 is rendered (in the render
    worker processes) and chunk k-1 is written, each by a Prefect task submitted to the flow's
    task runner; at most one chunk waits on each side, so memory stays flat on any folder size.
    One run writes to an output folder at a time (a second one waits for the lock); a run starts
    by moving aside what a killed run left half-written (recovery.py).
    """
    reporter: Progress = progress or NoProgress()
    extracting = config.task == Task.EXTRACT
    schema = resolve_schema(config.schema_name, config.schema_dir) if extracting else None
    if engine is None:
        engine = build_engine(config.model, config.batch_size, **config.engine_settings())
    run = pipeline.start_run(config, schema, engine.name)
    with OutputLock(config.out, run.run_id, on_wait=reporter.note):
        moved = recover_orphans(config.out)
        if moved:
            reporter.note(f"moved {len(moved)} files of an interrupted run to {config.out / '.orphaned'}")
        documents = discover_task(config.input)
        pending, already_done = plan_task(run, documents)
        stats = pipeline.RunStats(found=len(documents), already_done=already_done)
        reporter.begin(len(pending), "extracting" if extracting else "transcribing")
        size = config.documents_per_chunk
        chunks = [pipeline.ChunkState(pending[i : i + size], seq) for seq, i in enumerate(range(0, len(pending), size))]
        renderer = make_renderer(config.render_workers, config.render_timeout, config.render_memory_mb)
        first_budget = run.policy.budgets[0]  # later rounds (auto) render in answer_chunk

        def prefetch(index: int):
            if index >= len(chunks):
                return None
            return render_task.submit(run, chunks[index].pending(run), first_budget, renderer)

        writing = None
        try:
            upcoming = prefetch(0)
            for index, state in enumerate(chunks):
                rendered = upcoming.result()
                upcoming = prefetch(index + 1)  # render ahead while this chunk is answered
                pages = pipeline.answer_chunk(
                    run, state, lambda r, t, b: render_task(r, t, b, renderer),
                    lambda q: infer_task(engine, q), first=rendered,
                )
                if writing is not None:
                    writing.result()  # one write behind at most, and chunks commit in order
                writing = write_task.submit(run, state, stats)
                reporter.advance(len(state.items), pages)
            if writing is not None:
                writing.result()
        except BaseException:
            pipeline.finish_run(run, stats, RunStatus.FAILED)
            raise
        finally:
            renderer.close()
        pipeline.finish_run(run, stats, RunStatus.COMPLETED)
    return pipeline.RunResult(run.run_id, config.out, stats)
