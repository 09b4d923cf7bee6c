"""`docpipe export OUT SCHEMA`: the latest records as JSON Lines or CSV (output/export.py)."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from docpipe.cli.failing import fail
from docpipe.cli.help_option import Command


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def export(
    out: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Output folder of a run", metavar="OUT")],
    schema: Annotated[str, typer.Argument(help="The schema whose records are written (a records table of OUT)", metavar="SCHEMA")],
    fmt: Annotated[Format, typer.Option(
        "--format", help="jsonl: one JSON object per record; csv: one row per record, nested values as JSON text",
    metavar="jsonl|csv")] = Format.JSONL,
    corrected: Annotated[bool, typer.Option(
        "--corrected", help="Apply the reviewers' corrections (docpipe review)", metavar="")] = False,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, help="File to write (default: standard output)", metavar="FILE")] = None,
) -> None:
    """Write the latest record of each document of SCHEMA in OUT as JSON Lines or CSV: money as
    its exact text, dates ISO 8601, line items and boxes nested (in CSV: as JSON text)."""
    from docpipe.output.export import latest, write
    from docpipe.output.tables import record_tables

    err = Console(stderr=True)
    known = record_tables(out)
    if schema not in known:
        fail(f"no records of {schema!r} in {out}; its records tables: "
             f"{', '.join(known) or 'none (run `docpipe run` into it first)'}", highlight=False, soft_wrap=True)
    try:
        records = latest(out, schema, corrected=corrected)
    except ValueError as exc:  # --corrected: a schema neither OUT nor docpipe knows
        fail(str(exc), highlight=False, soft_wrap=True)
    if records is None:  # its files went away meanwhile
        raise typer.Exit(1)
    if output is None:
        try:
            write(records, sys.stdout, fmt.value)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(f".{output.name}.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as stream:
        count = write(records, stream, fmt.value)
    os.replace(temporary, output)  # a reader never sees half a file
    err.print(f"{count} {schema} records{' (corrected)' if corrected else ''} written to {output}",
              highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command(cls=Command)(export)
