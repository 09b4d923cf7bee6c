"""Several output folders (the same documents read by other models or budgets), side by side.

Each folder is evaluated against the same labels; the scores are then taken over the labelled
documents that every folder has, so no reading is flattered by skipping a hard document. Cost,
per folder, from its own tables, restricted to the work behind the evaluated records (their
work keys, so a folder holding runs of several models is not mixed up):

    pages_per_second   pages / seconds summed over the runs that wrote those records
    tokens_per_page    prompt + output tokens of every request for those records (every budget
                       round of an `auto` policy included) / the distinct pages they covered

`plot` draws accuracy (exact match over all fields) against tokens per page and against seconds
per page, one labelled point per folder (matplotlib, Agg backend, PNG).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from docpipe.eval.report import ALL_FIELDS, SROIE_ROW, EvalResult, evaluate, summarise
from docpipe.eval.truth import Truth, load_truth
from docpipe.output.reading import read_table

COMPARISON = pa.schema([
    ("out", pa.string()),
    ("label", pa.string()),
    ("model", pa.string()),
    ("budget_policy", pa.string()),
    ("documents", pa.int64()),
    ("exact", pa.float64()),
    ("anls", pa.float64()),
    ("precision", pa.float64()),
    ("recall", pa.float64()),
    ("f1", pa.float64()),
    ("sroie_f1", pa.float64()),
    ("pages", pa.int64()),
    ("pages_per_second", pa.float64()),
    ("tokens_per_page", pa.float64()),
])


@dataclass
class Comparison:
    schema: str
    table: pd.DataFrame  # one row per output folder (COMPARISON)
    results: list[EvalResult]  # per folder, restricted to the common documents


def compare(outs: list[str | Path], truth: str | Path | list[Truth], schema_name: str,
            schema_dir: Path | None = None) -> Comparison:
    truths = load_truth(truth) if not isinstance(truth, list) else truth
    full = [evaluate(out, truths, schema_name, schema_dir) for out in outs]
    common = _common_documents(full)
    rows, results = [], []
    for out, result in zip(outs, full, strict=True):
        details = result.details[result.details["truth_key"].isin(common)].reset_index(drop=True)
        order = list(dict.fromkeys(result.details["field"]))
        summary = summarise(details, result.schema, order)
        restricted = EvalResult(result.schema, details, summary, result.unmatched, result.other_schema,
                                result.records_without_truth)
        results.append(restricted)
        rows.append(_row(Path(out), restricted))
    table = pa.Table.from_pylist(rows, schema=COMPARISON).to_pandas()
    return Comparison(full[0].schema if full else schema_name, table, results)  # the name, not a path


def _common_documents(results: list[EvalResult]) -> set[str]:
    keys = [set(r.details["truth_key"]) for r in results]
    return set.intersection(*keys) if keys else set()


def _row(out: Path, result: EvalResult) -> dict:
    summary = result.summary.set_index("field")
    overall = summary.loc[ALL_FIELDS] if ALL_FIELDS in summary.index else None
    cost = cost_of(out, set(result.details["doc_id"]), result.schema)
    label = f"{cost['model']} @ {cost['budget_policy']}"
    return {
        "out": str(out), "label": label, **cost, "documents": result.documents,
        "exact": _get(overall, "exact"), "anls": _get(overall, "anls"), "precision": _get(overall, "precision"),
        "recall": _get(overall, "recall"), "f1": _get(overall, "f1"),
        "sroie_f1": _get(summary.loc[SROIE_ROW] if SROIE_ROW in summary.index else None, "f1"),
    }


def _get(row, column):
    if row is None or pd.isna(row[column]):
        return None
    return float(row[column])


def cost_of(out: Path, doc_ids: set[str], schema_name: str) -> dict:
    """Model, budget policy, pages/s and tokens/page of the work behind the latest records."""
    records = read_table(out, schema_name, python_cells=True)
    records = records[records["doc_id"].isin(doc_ids)] if not records.empty else records
    work_keys = set(records["work_key"]) if not records.empty else set()
    run_ids = set(records["run_id"]) if not records.empty else set()
    runs = read_table(out, "runs")
    runs = runs[runs["run_id"].isin(run_ids)]
    generations = read_table(out, "generations", python_cells=True)
    generations = generations[generations["work_key"].isin(work_keys)]
    pages = {(d, int(p)) for d, nos in zip(generations["doc_id"], generations["page_nos"], strict=True) for p in nos}
    tokens = int(generations["prompt_tokens"].sum() + generations["output_tokens"].sum())
    seconds, run_pages = float(runs["seconds"].sum()), int(runs["pages"].sum())
    return {
        "model": ", ".join(sorted(set(records["model"]))) if not records.empty else "",
        "budget_policy": ", ".join(sorted(set(runs["budget_policy"]))),
        "pages": len(pages),
        "pages_per_second": run_pages / seconds if seconds > 0 else None,
        "tokens_per_page": tokens / len(pages) if pages else None,
    }


def plot(table: pd.DataFrame, path: str | Path, title: str = "accuracy for cost") -> Path:
    """Exact-match accuracy against tokens per page and against seconds per page, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    seconds_per_page = [1 / v if v else None for v in table["pages_per_second"]]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for axis, xs, name in ((axes[0], table["tokens_per_page"], "tokens per page"),
                           (axes[1], seconds_per_page, "seconds per page")):
        for x, y, anls, label in zip(xs, table["exact"], table["anls"], table["label"], strict=True):
            if x is None or pd.isna(x) or y is None or pd.isna(y):
                continue
            axis.scatter([x], [y], marker="o", color="tab:blue")
            if anls is not None and not pd.isna(anls):
                axis.scatter([x], [anls], marker="x", color="tab:orange")
                axis.plot([x, x], [y, anls], color="lightgray", linewidth=1, zorder=0)
            axis.annotate(label, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
        axis.set_xlabel(name)
        axis.margins(x=0.2)  # room for the labels of the outermost points
        axis.grid(True, alpha=0.3)
    axes[0].set_ylabel("accuracy (o exact match, x ANLS*)")
    axes[0].set_ylim(-0.05, 1.05)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
