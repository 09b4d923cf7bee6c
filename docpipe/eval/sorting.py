"""Scoring a sorting (docpipe run with several --schema, or --split) against labels that give each
file's class, or each document of a packet with its pages.

    class accuracy     labelled documents whose segment (the one at the same pages; not split:
                       the file's one segment) has the labelled class; a confusion table beside it
    boundaries         where a new document starts inside a file (page 1 aside): precision and
                       recall of the starts the run cut at, against the labelled starts
    exact segments     labelled documents the run cut at exactly their pages, with their class

Only files read by a sorting run are scored (their documents rows name the table `segments`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from docpipe.eval.join import match_documents
from docpipe.eval.truth import Truth, load_truth
from docpipe.output.reading import read_table

SORTED = "segments"


@dataclass(frozen=True)
class SortingScore:
    details: pd.DataFrame  # one row per labelled document: truth_key, pages, class, predicted, cut right
    confusion: pd.DataFrame  # labelled class (rows) x predicted class (columns): counts
    files: int  # labelled files the sorting read
    boundary_precision: float | None  # None: neither the labels nor the run start a document after page 1
    boundary_recall: float | None
    unmatched: list[Truth]

    @property
    def documents(self) -> int:
        return len(self.details)

    @property
    def class_accuracy(self) -> float | None:
        return float(self.details["class_right"].mean()) if len(self.details) else None

    @property
    def exact_segments(self) -> float | None:
        return float(self.details["exact"].mean()) if len(self.details) else None

    def summary(self) -> pd.DataFrame:
        rows = [("documents labelled", self.documents), ("class accuracy", self.class_accuracy),
                ("exact segments", self.exact_segments), ("boundary precision", self.boundary_precision),
                ("boundary recall", self.boundary_recall)]
        return pd.DataFrame(rows, columns=["measure", "value"], dtype=object)


def score_sorting(out: str | Path, truth: str | Path | list[Truth]) -> SortingScore | None:
    """The sorting's scores on the labelled files of OUT (None: OUT holds no sorting)."""
    out = Path(out)
    segments = read_table(out, SORTED)
    if segments.empty:
        return None
    truths = [t for t in (load_truth(truth) if not isinstance(truth, list) else truth) if t.schema]
    matched = match_documents(out, SORTED, truths)
    cut = {doc_id: part.sort_values("segment") for doc_id, part in segments.groupby("doc_id")}
    labelled: dict[str, list[Truth]] = defaultdict(list)
    seen = set()
    for item, doc_id, _ in matched.found:  # a document labelled twice (its class, its values) counts once
        if doc_id in cut and (doc_id, item.pages, item.schema) not in seen:
            seen.add((doc_id, item.pages, item.schema))
            labelled[doc_id].append(item)
    rows, starts_right, starts_run, starts_labelled = [], 0, 0, 0
    for doc_id, items in labelled.items():
        run = cut[doc_id]
        last = int(run["page_to"].max())
        spans = [(t, t.pages or (1, last)) for t in items]
        for item, (first, end) in spans:
            at = run[(run["page_from"] <= first) & (run["page_to"] >= first)]
            predicted = str(at["doc_class"].iloc[0]) if len(at) else None
            exact = run[(run["page_from"] == first) & (run["page_to"] == end)]
            rows.append({"truth_key": item.label, "doc_id": doc_id, "page_from": first, "page_to": end,
                         "truth_class": item.schema, "predicted_class": predicted,
                         "class_right": predicted == item.schema,
                         "exact": bool(len(exact)) and str(exact["doc_class"].iloc[0]) == item.schema})
        labelled_starts = {first for _, (first, _) in spans} - {1}
        run_starts = set(run["page_from"].astype(int)) - {1}
        starts_right += len(labelled_starts & run_starts)
        starts_run += len(run_starts)
        starts_labelled += len(labelled_starts)
    details = pd.DataFrame(rows, columns=["truth_key", "doc_id", "page_from", "page_to", "truth_class",
                                          "predicted_class", "class_right", "exact"])
    confusion = pd.crosstab(details["truth_class"], details["predicted_class"].fillna("(none)"),
                            rownames=["labelled"], colnames=["predicted"]) if len(details) else pd.DataFrame()
    return SortingScore(details, confusion, len(labelled),
                        starts_right / starts_run if starts_run else None,
                        starts_right / starts_labelled if starts_labelled else None, matched.unmatched)
