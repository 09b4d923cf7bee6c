"""Tables for people: the end-of-run summary and `docpipe show`."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from docpipe.core.vocab import DocumentStatus
from docpipe.run.pipeline import RunResult


# why a document that failed before is left as it was, and what would read it again
LEFT_OTHERWISE = "--retry-failed CATEGORY reads them again"
LEFT_BECAUSE = {
    "encrypted": "as many passwords as before: --password / --password-file, or --retry-failed encrypted",
    "too_large": "same limits: raise --max-pages / --max-pixels / --render-memory-mb",
    "timeout": "same limit: raise --render-timeout",
    "render_error": "same limits: --render-timeout / --render-memory-mb, or --retry-failed render_error",
    "truncated": "same limit: raise --max-new-tokens",
    "corrupt": "the file is broken: a new copy of it is read",
    "empty": "nothing to read: a new copy of it is read",
    "unsupported": "not a document docpipe reads",
}


def print_summary(console: Console, result: RunResult) -> None:
    stats = result.stats
    table = Table(title=f"run {result.run_id}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("documents found", str(stats.found))
    table.add_row("already done (skipped)", str(stats.already_done))
    for category, count in sorted(stats.staying.items()):
        table.add_row(f"  failed before, left: {category}", f"{count}  ({LEFT_BECAUSE.get(category, LEFT_OTHERWISE)})")
    if stats.copies:
        table.add_row("  copies of documents read before (listed)", str(stats.copies))
    if stats.older:
        table.add_row("read with other settings, left", f"{sum(stats.older.values())}  (about {stats.older_pages} pages; "
                      "--reread older reads them)")
    for why, count in sorted(stats.older.items()):
        table.add_row(f"  {why}", str(count))
    table.add_row("processed now", str(stats.processed))
    for why, count in sorted(stats.rereading.items()):
        table.add_row(f"  read again: {why}", str(count))
    for why, count in sorted(stats.retried.items()):
        table.add_row(f"  failed before, read again: {why}", str(count))
    for status in DocumentStatus:
        if status != DocumentStatus.UNPACKED:  # containers are not read: counted below
            table.add_row(f"  {status}", str(stats.statuses.get(status, 0)))
    if stats.containers:
        table.add_row("archives and e-mails unpacked (their documents counted above)", str(stats.containers))
    table.add_row("pages", str(stats.pages))
    if stats.transcripts:
        table.add_row("pages transcribed", str(stats.transcripts))
    else:
        table.add_row("records (valid / all)", f"{stats.records_valid} / {stats.records}")
    if stats.classes:
        table.add_row("documents found by sorting, by class", str(sum(stats.classes.values())))
    for label, count in sorted(stats.classes.items()):
        table.add_row(f"  {label}", str(count))
    if stats.escalations:
        table.add_row("read again at a higher budget", str(stats.escalations))
    if stats.categories:
        table.add_row("not ok, by category", "")
    for category, count in sorted(stats.categories.items()):
        table.add_row(f"  {category}", str(count))
    table.add_row("seconds", f"{stats.seconds:.1f}")
    table.add_row("pages / s", f"{stats.pages_per_second:.2f}")
    console.print(table)
    console.print(f"tables in [bold]{result.out}[/bold]; try `docpipe show {result.out} documents`")


# the columns `docpipe show` leads with; --all-columns shows every column
_BRIEF = {
    "documents": ["source_path", "kind", "pages", "status", "error_category", "error_message"],
    "pages": ["doc_id", "page_no", "width_pt", "height_pt", "rotation", "render_width", "render_height", "soft_tokens", "status"],
    "generations": ["doc_id", "model", "budget", "output_tokens", "finish_reason", "text"],
    "errors": ["source_path", "page_no", "stage", "category", "message"],
    "transcripts": ["doc_id", "page_no", "finish_reason", "mean_token_prob", "text_layer_cer", "text"],
    "segments": ["name", "segment", "page_from", "page_to", "doc_class", "class_confidence", "class_rule", "record_status"],
    "runs": ["run_id", "status", "schema", "model", "budget_policy", "documents_found", "documents_processed", "documents_failed", "pages", "pages_per_second"],
}
_RECORD_HIDDEN = {"work_key", "run_id", "schema_version", "model", "extracted_at"}


def brief_columns(table: str, frame: pd.DataFrame) -> list[str]:
    if table in _BRIEF:
        return [c for c in _BRIEF[table] if c in frame.columns]
    return [c for c in frame.columns if c not in _RECORD_HIDDEN]


# columns of sentences: wrapped whole, never cut (an error message cut at 32 characters says nothing)
_PROSE = {"error_message", "message", "text", "error", "failed_with", "email_subject", "class_rule"}


def print_frame(console: Console, frame: pd.DataFrame, title: str, limit: int = 20) -> None:
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        name = str(column)
        if name in _PROSE:
            table.add_column(name, overflow="fold", min_width=min(len(name), 20), ratio=3)
        else:
            table.add_column(name, overflow="ellipsis", no_wrap=True, min_width=min(len(name), 10), max_width=32)
    for _, row in frame.head(limit).iterrows():
        table.add_row(*(_cell(column, v) for column, v in row.items()))
    console.print(table)
    if len(frame) > limit:
        console.print(f"... {len(frame) - limit} more rows (--limit)")


def _cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and column.endswith(("_no", "_page", "pages")) and value.is_integer():
        return str(int(value))  # a page number in a column with nulls is read back as float
    if isinstance(value, float) and column.endswith(("confidence", "_prob")):
        return f"{value:.3f}"  # a probability: three places say all a reader acts on
    if column == "doc_id":
        return str(value)[:12]
    if column == "source_path":
        return str(value).rsplit("/", 1)[-1]
    return " ".join(str(value).split())
