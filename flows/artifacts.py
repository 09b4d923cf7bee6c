"""What a run leaves in the Prefect UI: a table of its counts and a short markdown report."""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from docpipe.run.pipeline import RunResult


def summary_rows(result: RunResult) -> list[dict[str, object]]:
    stats = result.stats
    rows: list[dict[str, object]] = [
        {"measure": "documents found", "value": stats.found},
        {"measure": "documents already done", "value": stats.already_done},
        {"measure": "documents processed", "value": stats.processed},
        {"measure": "pages", "value": stats.pages},
        {"measure": "records", "value": stats.records},
        {"measure": "records valid", "value": stats.records_valid},
        {"measure": "pages/s", "value": round(stats.pages_per_second, 3)},
    ]
    rows += [{"measure": f"failures: {category}", "value": count}
             for category, count in sorted(stats.categories.items())]
    rows += [{"measure": f"failed before, read again: {why}", "value": count} for why, count in sorted(stats.retried.items())]
    rows += [{"measure": f"failed before, left: {category}", "value": count}
             for category, count in sorted(stats.staying.items())]
    rows += [{"measure": f"read with other settings, left: {why}", "value": count}
             for why, count in sorted(stats.older.items())]
    rows += [{"measure": f"read again, read before with {why}", "value": count}
             for why, count in sorted(stats.rereading.items())]
    rows += [{"measure": f"sorted: {label}", "value": count} for label, count in sorted(stats.classes.items())]
    return rows


def markdown_report(result: RunResult, shard: str) -> str:
    stats = result.stats
    failures = ", ".join(f"{count} {category}" for category, count in sorted(stats.categories.items())) or "none"
    return "\n".join([
        f"# docpipe run {result.run_id}",
        "",
        f"- output folder: `{result.out}`{shard}",
        (f"- {stats.processed} documents processed ({stats.already_done} already done), {stats.pages} pages, "
         f"{stats.records} records ({stats.records_valid} valid)"),
        f"- failures by category: {failures}",
        *(["- documents found by sorting: " + ", ".join(f"{count} {label}" for label, count in sorted(stats.classes.items()))]
          if stats.classes else []),
        *([f"- {sum(stats.older.values())} documents read with other settings left as they were (about "
           f"{stats.older_pages} pages): `--reread older` reads them again"] if stats.older else []),
        f"- {stats.seconds:.1f} s, {stats.pages_per_second:.2f} pages/s",
    ])


def publish(result: RunResult, shard_index: int, shard_count: int) -> None:
    shard = f", shard {shard_index} of {shard_count}" if shard_count > 1 else ""
    create_table_artifact(summary_rows(result), key="docpipe-run-summary", description=f"docpipe run {result.run_id}")
    create_markdown_artifact(markdown_report(result, shard), key="docpipe-run-report", description="docpipe run report")
