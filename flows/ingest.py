"""The ingest flow: discover -> plan -> (render -> infer -> write) per chunk, as Prefect tasks.

Run it from the CLI (`docpipe run`), from Python (`ingest(RunConfig(...))`), or schedule it with
`ingest.serve(cron=...)`. Without PREFECT_API_URL, Prefect starts a temporary local server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from docpipe import pipeline
from docpipe.config import RunConfig
from docpipe.discover import discover
from docpipe.engines.transformers_engine import TransformersEngine
from docpipe.models import resolve_model
from docpipe.outlock import OutputLock
from docpipe.progress import NoProgress, Progress
from docpipe.recovery import recover_orphans
from docpipe.render_pool import make_renderer
from docpipe.schemas import resolve_schema


@dataclass(frozen=True)
class RunResult:
    run_id: str
    out: Path
    stats: pipeline.RunStats


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
def ingest(config: RunConfig, engine: Any = None, progress: Any = None) -> RunResult:
    """Process every new document under `config.input` into the tables under `config.out`.

    One run writes to an output folder at a time (a second one waits for the lock); a run starts
    by moving aside what a killed run left half-written (recovery.py).
    """
    reporter: Progress = progress or NoProgress()
    schema = resolve_schema(config.schema_name, config.schema_dir)
    if engine is None:
        engine = TransformersEngine(resolve_model(config.model), config.batch_size)
    run = pipeline.start_run(config, schema, engine.name)
    with OutputLock(config.out, run.run_id, on_wait=reporter.note):
        moved = recover_orphans(config.out)
        if moved:
            reporter.note(f"moved {len(moved)} files of an interrupted run to {config.out / '.orphaned'}")
        documents = discover_task(config.input)
        pending, already_done = plan_task(run, documents)
        stats = pipeline.RunStats(found=len(documents), already_done=already_done)
        reporter.begin(len(pending))
        renderer = make_renderer(config.render_workers, config.render_timeout, config.render_memory_mb)
        try:
            for seq, start in enumerate(range(0, len(pending), config.batch_size)):
                state = pipeline.ChunkState(pending[start : start + config.batch_size], seq)
                pages = 0
                for budget in run.policy.budgets:  # one budget, or auto's escalation rounds
                    todo = state.pending(run)
                    if not todo:
                        break
                    rendered = render_task(run, todo, budget, renderer)
                    requests = pipeline.build_requests(run, rendered, budget)
                    state.add_round(run, todo, budget, rendered, requests, infer_task(engine, requests))
                    pages += sum(len(d.usable_pages) for d in rendered)
                write_task(run, state, stats)
                reporter.advance(len(state.items), pages)
        except BaseException:
            pipeline.finish_run(run, stats, "failed")
            raise
        finally:
            renderer.close()
        pipeline.finish_run(run, stats, "completed")
    return RunResult(run.run_id, config.out, stats)
