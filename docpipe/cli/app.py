"""The `docpipe` command: run a folder through the pipeline, then look at the tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from docpipe.core.budget import BUDGETS
from docpipe.run.environment import quiet_defaults

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


def read_passwords(path: Path | None) -> tuple[str, ...]:
    """One password per line; in a TSV (such as a corpus' passwords.tsv) the second column."""
    if path is None:
        return ()
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        value = cells[1] if len(cells) > 1 else cells[0]
        if value and line != "" and not (len(cells) > 1 and value == "user_password"):
            out.append(value)
    return tuple(dict.fromkeys(out))


class BarProgress:
    """A rich progress bar over documents, with pages counted alongside."""

    def __init__(self, console: Console):
        self._bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("docs  {task.fields[pages]} pages"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, transient=False,
        )
        self._task = None
        self._pages = 0

    def note(self, message: str) -> None:
        self._bar.console.print(f"[yellow]{message}[/yellow]")

    def begin(self, documents: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task("extracting", total=documents, pages=0)

    def advance(self, documents: int, pages: int) -> None:
        self._pages += pages
        self._bar.update(self._task, advance=documents, pages=self._pages)

    def stop(self) -> None:
        self._bar.stop()


@app.command()
def run(
    input: Annotated[Path, typer.Argument(exists=True, help="Folder (or file) of PDFs and images")],
    schema: Annotated[str, typer.Option(help="Schema name in schemas/, or a path to a schema YAML")] = "invoice",
    out: Annotated[Path, typer.Option(help="Folder for the Parquet tables")] = Path("out"),
    model: Annotated[str | None, typer.Option(help="Hub id, local checkpoint folder, or 'tiny-random' (offline smoke test; answers are noise). Default: chosen by hardware")] = None,
    budget: Annotated[str | None, typer.Option(help=f"Visual tokens per page: one of {BUDGETS}, or 'auto' (read at a low budget, read again higher when unsure). Default: the schema's")] = None,
    confidence_threshold: Annotated[float, typer.Option(min=0.0, max=1.0, help="auto budget: read again when the least certain field is below this")] = 0.5,
    pages_per_request: Annotated[int, typer.Option(min=1, help="Documents with more pages are read page by page and merged")] = 4,
    constrained: Annotated[bool, typer.Option(help="Constrain answers to the schema's JSON shape")] = True,
    max_text_length: Annotated[int | None, typer.Option(min=1, help="Cap on every text value's length (the schemas set their own)")] = None,
    password: Annotated[list[str] | None, typer.Option(help="Password for encrypted PDFs (repeatable); never written to the tables")] = None,
    password_file: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="File with one password per line (or a TSV whose second column is the password)")] = None,
    max_pixels: Annotated[int, typer.Option(min=1, help="Raster pages with more pixels are refused unread (decompression bombs)")] = 100_000_000,
    render_timeout: Annotated[float, typer.Option(min=1, help="Seconds to render one document before its renderer is stopped")] = 120.0,
    render_workers: Annotated[int, typer.Option(min=0, help="Render processes (0: render in this process, no isolation)")] = 2,
    render_memory_mb: Annotated[int, typer.Option(min=64, help="Memory limit of one render process")] = 4096,
    batch_size: Annotated[str, typer.Option(help="Requests per generate call, or 'auto' (from the GPU's free memory and Gemma 4's memory model)")] = "8",
    max_pages: Annotated[int, typer.Option(min=1, help="Pages per document sent to the model; later pages are recorded as skipped")] = 16,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Token limit of one answer")] = 1024,
    verbose: Annotated[bool, typer.Option(help="Show Prefect and transformers logs")] = False,
) -> None:
    """Extract SCHEMA records from every document under INPUT into Parquet tables under OUT."""
    quiet_defaults(verbose)
    from docpipe.cli.summary import print_summary
    from docpipe.core.errors import ModelNotAvailable
    from docpipe.engines.checkpoints import resolve_model
    from docpipe.engines.transformers_engine import TransformersEngine
    from docpipe.run.config import RunConfig
    from docpipe.schema.load import resolve_schema

    console = Console()
    err = Console(stderr=True)
    if batch_size != "auto" and not (batch_size.isdigit() and int(batch_size) > 0):
        err.print(f"[red]error:[/red] --batch-size must be a positive number or auto, got {batch_size}")
        raise typer.Exit(2)
    if budget is not None and budget != "auto" and not (budget.isdigit() and int(budget) in BUDGETS):
        err.print(f"[red]error:[/red] --budget must be one of {BUDGETS} or auto, got {budget}")
        raise typer.Exit(2)
    try:
        resolve_schema(schema)
        config = RunConfig(
            input=input, out=out, schema_name=schema, model=model,
            budget=int(budget) if budget and budget.isdigit() else budget,
            confidence_threshold=confidence_threshold, pages_per_request=pages_per_request,
            constrained=constrained, max_text_length=max_text_length, batch_size=batch_size if batch_size == "auto" else int(batch_size), max_pages=max_pages,
            max_new_tokens=max_new_tokens, max_pixels=max_pixels, render_timeout=render_timeout,
            render_workers=render_workers, render_memory_mb=render_memory_mb,
            passwords=tuple(password or ()) + read_passwords(password_file),
        )
        with console.status("resolving the model"):
            choice = resolve_model(model)
    except (ValueError, ModelNotAvailable) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"model: [bold]{choice.spec}[/bold] ({choice.why})")
    engine = TransformersEngine(choice, config.engine_batch_size)
    from docpipe.flows.ingest import ingest

    progress = BarProgress(console)
    try:
        result = ingest(config, engine=engine, progress=progress)
    except ModelNotAvailable as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    finally:
        progress.stop()
    print_summary(console, result)


@app.command()
def show(
    out: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Output folder of a run")],
    table: Annotated[str, typer.Argument(help="A schema name (latest record per document) or documents, pages, generations, errors, runs")],
    limit: Annotated[int, typer.Option(help="Rows to show")] = 20,
    all_columns: Annotated[bool, typer.Option(help="Show every column, not the main ones")] = False,
) -> None:
    """Print a table of OUT (for a schema: the latest record per document)."""
    from docpipe.cli.summary import brief_columns, print_frame
    from docpipe.output.tables import FIXED, read_table

    frame = read_table(out, table)
    if frame.empty:
        schemas = sorted(p.name for p in (out / "records").glob("*") if p.is_dir())
        known = ", ".join([*FIXED, *schemas])
        Console(stderr=True).print(f"[yellow]no rows in {table!r} under {out}; tables there: {known}[/yellow]")
        raise typer.Exit(1)
    shown = frame if all_columns else frame[brief_columns(table, frame)]
    print_frame(Console(), shown, title=f"{table} ({len(frame)} rows)", limit=limit)


@app.command()
def revalidate(
    out: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Output folder of earlier runs")],
) -> None:
    """Rebuild the records of OUT from its stored answers, with the current schemas (no model)."""
    from rich.table import Table

    from docpipe.run.revalidate import revalidate as rebuild

    try:
        result = rebuild(out)
    except ValueError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    table = Table(title="records rebuilt from stored answers", title_justify="left")
    table.add_column("schema")
    table.add_column("records", justify="right")
    table.add_column("valid", justify="right")
    for name, count in result.records.items():
        table.add_row(name, str(count), str(result.valid[name]))
    console = Console()
    console.print(table)
    console.print(f"appended as run {result.run_id}; readers now see these records as the latest")


@app.command()
def schemas() -> None:
    """List the schemas in schemas/ with their fields."""
    from docpipe.schema.load import available_schemas, resolve_schema

    console = Console()
    for name in available_schemas():
        spec = resolve_schema(name)
        console.print(f"[bold]{spec.key}[/bold]: " + ", ".join(f.name for f in spec.fields))


def main() -> None:
    app()
