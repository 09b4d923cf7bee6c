"""Labelled documents paired with the latest record of each, through the documents table.

Labels are keyed by a file name or stem; records by doc_id (the file's sha256). The documents
table of the output folder links the two: source_path -> doc_id. A label matches every document
whose file name equals its key, or whose stem does (`sroie_000` -> `sroie_000.jpg`; an invoice
labelled once, read as PDF and as PNG, is two scored documents). A labelled document that the run
read but left without a record (it failed) is scored with every value missing; a label with no
document in the output folder is reported, not scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from docpipe.eval.truth import Truth
from docpipe.output.tables import read_table


@dataclass(frozen=True)
class Labelled:
    truth: Truth
    doc_id: str
    source_path: str
    record: dict[str, Any] | None  # the latest record's columns as plain Python; None: no record


@dataclass(frozen=True)
class Joined:
    pairs: list[Labelled]
    unmatched: list[Truth]  # labels with no document in the output folder
    records_without_truth: int  # records of this schema whose document has no label


def plain(value: Any) -> Any:
    """A pandas/Arrow cell as plain Python: NaN/NaT -> None, arrays -> lists, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray | list | tuple):
        return [plain(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return plain(value.item())
    return value


def join(out: str | Path, schema_name: str, truths: list[Truth]) -> Joined:
    out = Path(out)
    documents = read_table(out, "documents")
    records = read_table(out, schema_name, python_cells=True)
    by_doc = {row["doc_id"]: {k: plain(v) for k, v in row.items()} for _, row in records.iterrows()}
    paths: dict[str, set[str]] = {}
    if not documents.empty:
        same_schema = documents["schema"] == schema_name
        for _, row in documents[same_schema].iterrows():
            paths.setdefault(row["doc_id"], set()).add(str(row["source_path"]))
    by_name: dict[str, list[tuple[str, str]]] = {}
    for doc_id, sources in paths.items():
        for source in sorted(sources):
            path = Path(source)
            for key in {path.name, path.stem}:
                by_name.setdefault(key, []).append((doc_id, source))
    pairs, unmatched, labelled_docs = [], [], set()
    for truth in truths:
        found = by_name.get(truth.key, [])
        if not found:
            unmatched.append(truth)
        seen = set()
        for doc_id, source in found:
            if doc_id in seen:  # the same bytes under two names: scored once per label
                continue
            seen.add(doc_id)
            labelled_docs.add(doc_id)
            pairs.append(Labelled(truth, doc_id, source, by_doc.get(doc_id)))
    return Joined(pairs, unmatched, len(set(by_doc) - labelled_docs))
