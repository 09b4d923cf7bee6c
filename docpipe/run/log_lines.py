"""The lines a run logs where operators watch it (a Prefect flow run's Logs tab): one per committed
chunk, and the run's summary. Plain text, no Prefect here: the flow passes them to its logger."""

from __future__ import annotations

from collections import Counter

from docpipe.run.pipeline import RunStats
from docpipe.run.planning import Plan


def _failures(categories: Counter) -> str:
    if not categories:
        return "no failures"
    return "failures: " + ", ".join(f"{name} {count}" for name, count in categories.most_common())


def chunk_line(seq: int, stats: RunStats, planned: int, seconds: float) -> str:
    """After chunk `seq` is committed: documents done and left of the `planned`, pages/s so far,
    failures by category so far."""
    left = max(planned - stats.processed, 0)
    rate = stats.pages / seconds if seconds > 0 else 0.0
    return (f"chunk {seq} committed: {stats.processed} of {planned} documents done, {left} left; "
            f"{stats.pages} pages at {rate:.1f} pages/s; {_failures(stats.categories)}")


def summary_line(stats: RunStats) -> str:
    """The run's summary, once its runs row is written."""
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(stats.statuses.items())) or "none"
    return (f"run finished: {stats.found} documents found, {stats.already_done} already done, "
            f"{stats.processed} read ({statuses}); {stats.pages} pages in {stats.seconds:.1f} s "
            f"({stats.pages_per_second:.1f} pages/s); {_failures(stats.categories)}")


def plan_lines(plan: Plan) -> list[str]:
    """What a run says before it starts: documents it reads again and why, and those read before
    with other settings that it leaves (with what reading them again would cost)."""
    lines = []
    if plan.rereading:
        settings = "; ".join(f"{count} with {why}" for why, count in sorted(plan.rereading.items()))
        lines.append(f"reading {sum(plan.rereading.values())} documents again (about {plan.rereading_pages} pages), "
                     f"read before with other settings: {settings}")
    for why, count in sorted(plan.retried.items()):
        lines.append(f"reading {count} failed documents again: {why}")
    if plan.older:
        settings = "; ".join(f"{count} with {why}" for why, count in sorted(plan.older.items()))
        lines.append(f"{sum(plan.older.values())} documents in the output folder were read with other settings "
                     f"({settings}): left as they are; --reread older reads them again (about "
                     f"{plan.older_pages} pages)")
    if plan.copies:
        lines.append(f"{len(plan.copies)} files hold the content of documents read before under another name: "
                     "listed in the documents table, not read again")
    return lines
