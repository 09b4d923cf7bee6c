"""The lines a run logs where operators watch it (a Prefect flow run's Logs tab): one per committed
chunk, and the run's summary. Plain text, no Prefect here: the flow passes them to its logger."""

from __future__ import annotations

from collections import Counter

from docpipe.run.pipeline import RunStats


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
