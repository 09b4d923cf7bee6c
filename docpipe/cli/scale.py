"""`docpipe serve | deploy | submit | compact`: scheduled ingestion and scale-out on Prefect.

serve    one host: the ingest flow on a schedule (--cron or --interval), each run reading only
         what is new by content
deploy   many hosts: the flow registered on a work pool; one `prefect worker start --pool NAME`
         per GPU host runs its flow runs
submit   N flow runs of a deployment, each owning the documents whose content hash falls in its
         shard, all writing into one output folder
compact  many small Parquet files per table become one, while readers read
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from docpipe.cli.failing import fail
from docpipe.cli.help_option import Command
from docpipe.cli.options import explain, with_run_options
from docpipe.run.config import RunConfig
from docpipe.run.environment import quiet_defaults

PASSWORD_FILE = "File with one password per line, read by each run where it runs (its path travels in the deployment, never a password)"
SERVE_SETTLE_SECONDS = 30.0  # served runs: a file modified within this long is being written (--settle-seconds)
INPUT_HELP = RunConfig.model_fields["input"].description


def _config(input: Path, password_file: Path | None, settings: dict[str, Any], **more: Any) -> RunConfig:
    from pydantic import ValidationError

    from docpipe.run.tasks.choose import task_for

    try:
        config = RunConfig(input=input, password_file=password_file, **settings, **more)
        task_for(config, checked=True)  # unknown schemas, and SchemaEdited: before anything is deployed
    except ValidationError as exc:
        fail(explain(exc))
    except ValueError as exc:
        fail(str(exc))
    return config


def serve(
    input: Annotated[Path, typer.Argument(exists=True, help=INPUT_HELP, metavar="INPUT")],
    cron: Annotated[str | None, typer.Option(help='Schedule as a cron line, e.g. "0 2 * * *" (02:00 every night)', metavar="CRON")] = None,
    interval: Annotated[float | None, typer.Option(help="Schedule as seconds between runs", metavar="SECONDS")] = None,
    name: Annotated[str, typer.Option(help="Deployment name", metavar="NAME")] = "nightly",
    password_file: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help=PASSWORD_FILE, metavar="FILE")] = None,
    verbose: Annotated[bool, typer.Option(help="Show Prefect and transformers logs", metavar="")] = False,
    **settings: Any,
) -> None:
    """Serve the ingest flow on this host on a schedule: each run reads only what is new by
    content (a renamed or copied file is not read twice; a changed one is; a file still being
    written waits). Runs until interrupted (Ctrl-C)."""
    quiet_defaults(verbose)
    if not cron and interval is None:
        fail("give a schedule: --cron \"0 2 * * *\" or --interval SECONDS")
    config = _config(input, password_file, settings)
    from docpipe.flows.deployments import serve as serve_flow
    from docpipe.flows.local_server import owned_server

    Console().print(f"serving docpipe-ingest/{name}: {config.input} -> {config.out} "
                    f"({'cron ' + cron if cron else f'every {interval:g} s'}; files modified within "
                    f"{config.settle_seconds:g} s wait for the next run); Ctrl-C stops")
    with owned_server(services=True):  # its scheduler creates the runs
        try:
            serve_flow(config, name, cron, interval)
        except ValueError as exc:
            fail(str(exc))


def deploy(
    input: Annotated[Path, typer.Argument(exists=True, help=INPUT_HELP, metavar="INPUT")],
    pool: Annotated[str, typer.Option(help="Work pool (a process pool, created when missing)", metavar="POOL")],
    name: Annotated[str, typer.Option(help="Deployment name", metavar="NAME")] = "docpipe",
    cron: Annotated[str | None, typer.Option(help="Optional schedule, as a cron line", metavar="CRON")] = None,
    interval: Annotated[float | None, typer.Option(help="Optional schedule, as seconds between runs", metavar="SECONDS")] = None,
    password_file: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help=PASSWORD_FILE, metavar="FILE")] = None,
    heartbeat_seconds: Annotated[int, typer.Option(
        min=30, help="Flow runs send Prefect a heartbeat this often; one silent for three is marked Crashed (lost)", metavar="N")] = 30,
    **settings: Any,
) -> None:
    """Register the ingest flow on a work pool of the Prefect server named by PREFECT_API_URL;
    start one `prefect worker start --pool POOL` per GPU host (with CUDA_VISIBLE_DEVICES for one
    GPU each), then `docpipe submit`. Also creates, when missing, the Prefect automation that
    marks a flow run without heartbeats Crashed (a lost host)."""
    quiet_defaults()
    config = _config(input, password_file, settings)
    _need_server()
    from docpipe.flows.deployments import deploy as deploy_flow

    try:
        full_name = deploy_flow(config, name, pool, cron, interval, heartbeat_seconds)
    except ValueError as exc:
        fail(str(exc))
    Console().print(f"deployed {full_name} on work pool {pool!r}; start workers with: prefect worker start --pool {pool}")


def submit(
    input: Annotated[Path, typer.Argument(exists=True, help=INPUT_HELP, metavar="INPUT")],
    shards: Annotated[int, typer.Option(min=1, help="Flow runs to start, each owning the documents whose content hash falls in its shard", metavar="N")] = 1,
    deployment: Annotated[str, typer.Option(help="Deployment as FLOW/NAME", metavar="DEPLOYMENT")] = "docpipe-ingest/docpipe",
    wait: Annotated[bool, typer.Option(help="Wait for every run to finish, and fail when one did", metavar="")] = True,
    resubmit_lost: Annotated[int, typer.Option(
        min=0, help="Times a lost shard (its host or process died: Crashed) is submitted again while waiting", metavar="N")] = 0,
    password_file: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help=PASSWORD_FILE, metavar="FILE")] = None,
    **settings: Any,
) -> None:
    """Start SHARDS flow runs of a deployment over INPUT, all writing into one output folder, and
    wait for them. A run whose host or process is lost is marked Crashed (its lease on the output
    folder expired, or Prefect heard no heartbeat) and reported; submitting again reads what it
    left, nothing twice. Ctrl-C stops the waiting, not the runs."""
    quiet_defaults()
    config = _config(input, password_file, settings)
    _need_server()
    from prefect.exceptions import ObjectNotFound

    from docpipe.flows.deployments import submit as submit_runs
    from docpipe.flows.deployments import wait as wait_runs

    console = Console()
    config = _index_input(console, config)
    try:
        runs = submit_runs(config, deployment, shards)
    except ObjectNotFound:
        fail(f"no deployment {deployment!r} on this Prefect server: run `docpipe deploy --pool NAME` first")
    console.print(f"submitted {len(runs)} flow runs of {deployment}")
    if not wait:
        _print_runs(console, config, runs)
        return
    history: list = []  # every flow run, lost ones and their resubmissions included
    try:
        for round_ in range(resubmit_lost + 1):
            runs = wait_runs(runs, config.out)
            history += runs
            lost = [r for r in runs if r.lost]
            if not lost or round_ == resubmit_lost:
                break
            for run in lost:
                console.print(f"[yellow]shard {run.shard} was lost[/yellow] ({run.message}); submitting it again")
            runs = submit_runs(config, deployment, shards, only=[r.shard for r in lost])
    except KeyboardInterrupt:
        Console(stderr=True).print("stopped waiting (Ctrl-C); the flow runs go on: see them in Prefect, or "
                                   "`docpipe submit` again later (nothing is read twice)")
        raise typer.Exit(130) from None
    _print_runs(console, config, history)
    last = {run.shard: run for run in history}  # each shard's latest flow run
    for run in last.values():
        if run.lost:
            Console(stderr=True).print(
                f"[red]shard {run.shard} was lost[/red]: {run.message}. What it committed is kept; submit again "
                "(or pass --resubmit-lost N) and its other documents are read, none twice")
    if any(run.state != "Completed" for run in last.values()):
        raise typer.Exit(1)


def _index_input(console: Console, config: RunConfig) -> RunConfig:
    """Hash what OUT's file index does not know, once, here: every shard then reads it from the
    index instead of hashing the whole folder itself. The runs need not rehash again."""
    from docpipe.ingest.discover import discover
    from docpipe.ingest.file_index import FileIndex

    config.out.mkdir(parents=True, exist_ok=True)
    index = FileIndex(config.out)
    with console.status(f"indexing {config.input} (a file not seen before is hashed once, for every shard)"):
        documents = discover(config.input, config.follow_links, index, config.rehash, selection=config.selection())
    console.print(f"indexed {len(documents)} files")
    return config.model_copy(update={"rehash": False})


def _print_runs(console: Console, config: RunConfig, runs: list) -> None:
    table = Table(title=f"{config.input} -> {config.out}", title_justify="left")
    for column in ("shard", "flow run", "state"):
        table.add_column(column)
    for run in runs:
        table.add_row(str(run.shard), f"{run.name} ({run.flow_run_id})", run.state)
    console.print(table)


def compact(
    out: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Output folder of runs", metavar="OUT")],
) -> None:
    """Merge each table's small Parquet files into one (committed chunks only; safe while runs
    write and readers read)."""
    from docpipe.output.compact import compact as compact_tables

    try:
        done = compact_tables(out)
    except ValueError as exc:
        fail(str(exc))
    if not done:
        Console().print("nothing to compact")
        return
    table = Table(title=f"compacted {out}", title_justify="left")
    for column in ("table", "files before", "rows"):
        table.add_column(column)
    for item in done:
        table.add_row(item.table, str(item.files_before), str(item.rows))
    Console().print(table)


def _need_server() -> None:
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        fail("deployments live on a Prefect server: start one (`prefect server start`) and set "
              "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)")


def register(app: typer.Typer) -> None:
    app.command(cls=Command)(with_run_options(serve, defaults={"settle_seconds": SERVE_SETTLE_SECONDS}))
    app.command(cls=Command)(with_run_options(deploy))
    app.command(cls=Command)(with_run_options(submit))
    app.command(cls=Command)(compact)
