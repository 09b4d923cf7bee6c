"""`docpipe status OUT`: what each part of an output folder was read with, and what failed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from docpipe.cli.help_option import Command


def register(app: typer.Typer) -> None:
    app.command(cls=Command)(status)


def status(
    out: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Output folder of earlier runs", metavar="OUT")],
) -> None:
    """What OUT holds, by what it was read with (model, budget, prompt, schema version): a run with
    other settings reads only new files unless --reread older; and the documents whose latest
    reading failed, by category, with what reads them again."""
    from rich.table import Table

    from docpipe.cli.summary import LEFT_BECAUSE, LEFT_OTHERWISE
    from docpipe.run.read_with import failures, read_with

    console = Console()
    parts = read_with(out)
    if parts.empty:
        Console(stderr=True).print(f"[yellow]{out} holds no documents yet: run `docpipe run INPUT --out {out}`[/yellow]")
        raise typer.Exit(1)
    table = Table(title=f"{out}: documents by what they were read with", title_justify="left")
    for column in ("table", "model", "budget", "prompt", "schema", "documents", "pages", "failed", "last read"):
        numbers = column in ("documents", "pages", "failed")
        table.add_column(column, justify="right" if numbers else "left", overflow="fold", no_wrap=numbers)
    for row in parts.itertuples():
        table.add_row(row.table, row.model, row.budget_policy, row.prompt_version, row.task_key, str(row.documents),
                      str(row.pages), str(row.failed), f"{row.last_read:%Y-%m-%d %H:%M}")
    console.print(table)
    several = parts.groupby("table").size()
    for name in several[several > 1].index:
        console.print(f"{name}: read with {several[name]} settings; a run reads the older documents again only "
                      "with --reread older")
    failed = failures(out)
    if not failed.empty:
        listing = Table(title="not read, by why (their latest reading)", title_justify="left")
        for column in ("table", "category", "documents", "what reads them again"):
            listing.add_column(column)
        for row in failed.itertuples():
            listing.add_row(row.table, row.category, str(row.documents), LEFT_BECAUSE.get(row.category, LEFT_OTHERWISE))
        console.print(listing)
