"""The ingest flow: the run protocol (run/protocol.py) with its stages as Prefect tasks.

Two entries, one flow name (`docpipe-ingest`):

- `ingest_flow(config)`: what a deployment runs (`docpipe serve | deploy | submit`). Its only
  parameter is the run configuration, plain data; the engine is built inside the run by
  engines/factory.py. Passwords are SecretStr (Prefect stores them as `**********`), or a
  `password_file` the run reads where it runs.
- `ingest(config, engine=None, progress=None)`: the same flow from Python or `docpipe run`, with
  an engine object and a progress reporter of the caller's; Prefect's parameters hold only
  `config` here too.

The protocol (lease, recovery, shards, settling, claims, the chunk loop with its render ahead and
write behind) is plain Python, tested without Prefect; what Prefect adds is here: the tasks (the
infer task retried with back-off when no server answers, under --chunk-timeout), the GPU's model
slot (flows/model_slot.py), the flow run the lease names, and the run's artifact.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from docpipe.engines.factory import build_engine
from docpipe.flows.artifacts import publish
from docpipe.flows.model_slot import model_slot
from docpipe.flows.retry import backoff, retry_when_unreachable
from docpipe.ingest.discover import discover
from docpipe.ingest.file_index import FileIndex
from docpipe.ingest.selection import Selection
from docpipe.output.lease import Lease
from docpipe.run import pipeline, protocol
from docpipe.run.config import RunConfig
from docpipe.run.log_lines import summary_line
from docpipe.run.progress import NoProgress, Progress
from docpipe.run.tasks.choose import task_for

FLOW_NAME = "docpipe-ingest"


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(root: Path, follow_links: bool = False, index: FileIndex | None = None, rehash: bool = False,
                  selection: Selection | None = None):
    return discover(root, follow_links, index, rehash, selection=selection)


@task(name="plan", cache_policy=NO_CACHE)
def plan_task(run: pipeline.Run, documents):
    return pipeline.plan(run, documents)


@task(name="render", cache_policy=NO_CACHE)
def render_task(run: pipeline.Run, items, budget: int, renderer: Any, ahead=()):
    return pipeline.render(run, items, budget, renderer, ahead)


@task(name="infer", cache_policy=NO_CACHE)
def infer_task(engine: Any, requests, kept: pipeline.KeptAnswers):
    return pipeline.infer(engine, requests, kept)  # a retry asks only for what the last attempt lacked


@task(name="write", cache_policy=NO_CACHE)
def write_task(run, state, stats, lease: Lease):
    protocol.write(run, state, stats, lease)  # a run that lost its lease commits nothing


@flow(name=FLOW_NAME, log_prints=False)
def ingest_flow(config: RunConfig) -> pipeline.RunResult:
    """Process every new document of this run's shard under `config.input` into `config.out`.
    What deployments run (`docpipe serve`, workers): the process that serves it shows one line per
    finished run on its terminal, whatever its log level (the flow run's log has it too)."""
    result = run_ingest(config)
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} docpipe-ingest run {result.run_id} ({config.out}): "
          f"{summary_line(result.stats)}", flush=True)
    return result


def ingest(config: RunConfig, engine: Any = None, progress: Any = None) -> pipeline.RunResult:
    """The flow, in this process, with the caller's engine (an engines.base.Engine; built from the
    settings when None) and progress reporter (a run.progress.Progress)."""

    @flow(name=FLOW_NAME, log_prints=False)
    def docpipe_ingest(config: RunConfig) -> pipeline.RunResult:
        return run_ingest(config, engine, progress)

    return docpipe_ingest(config)


def run_ingest(config: RunConfig, engine: Any = None, progress: Any = None) -> pipeline.RunResult:
    """The flow's body (call it inside a flow run): the run protocol, its render ahead and write
    behind submitted to the flow's task runner."""
    config = config.with_password_file()
    reporter: Progress = progress or NoProgress()
    owned = engine is None
    if owned:
        engine = build_engine(config.model, config.batch_size, **config.engine_settings())
    try:
        reading = task_for(config, model=engine.name)
        return _run(config, engine, reporter, reading)
    finally:
        if owned:
            engine.close()  # the served engine's connections and page files


def quoted(call: Any) -> Any:
    """`call` (a task, or its submit) with every argument in Prefect's `quote`: Prefect does not
    walk a chunk's documents, pages and records looking for futures (its visit_collection, twice
    per task run, took half the CPU of a run of 2,000 one-page PDFs). No stage's argument is a
    future or holds one; Prefect hands the task the value itself."""

    def with_quoted_arguments(*args: Any, **kwargs: Any) -> Any:
        return call(*(quote(a) for a in args), **{name: quote(value) for name, value in kwargs.items()})

    return with_quoted_arguments


def _run(config: RunConfig, engine: Any, reporter: Progress, reading: Any) -> pipeline.RunResult:
    infer = infer_task.with_options(
        retries=config.engine_retries, retry_delay_seconds=backoff(config.engine_retries),
        retry_condition_fn=retry_when_unreachable, timeout_seconds=config.chunk_timeout,
    )
    stages = protocol.Stages(
        render_ahead=quoted(render_task.submit), write_behind=quoted(write_task.submit),
        discover=quoted(discover_task), plan=quoted(plan_task), render=quoted(render_task), infer=quoted(infer),
        model_slot=model_slot, owner=_flow_run_id, log=_log,
    )
    result = protocol.execute(config, engine, reporter, reading, stages)
    publish(result, config.shard_index, config.shard_count)
    return result


def _log(line: str) -> None:
    """To the flow run's log: its Logs tab in Prefect's UI (the terminal shows warnings only,
    run/environment.quiet_defaults)."""
    from prefect import get_run_logger

    get_run_logger().info(line)


def _flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return flow_run.id or None
