"""Labelled documents paired with the latest record of each, through the documents table.

Labels are keyed by a name: a path under the input folder (`supplierB/invoice.pdf`, or without its
suffix), a bare file name or stem (`sroie_000` -> `sroie_000.jpg`); records by doc_id (the file's
sha256). The documents table links the two: each reading's `name` (its path under the input
folder) -> doc_id, copies of a file included. A key with a '/' matches the names it ends; a bare
key matches file names and stems, and one that names documents in different folders is ambiguous:
reported with the files it could mean, not scored (an invoice labelled once, read as PDF and as
PNG in one folder, is two scored documents). A label file is never a document: files of the
labels themselves, and files no record can come from (not a document docpipe reads), are left
out. A labelled document that the run read but left without a record (it failed) is scored with
every value missing; a label with no document in the output folder is reported, not scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from docpipe.core.errors import Category
from docpipe.eval.truth import Truth
from docpipe.output.names import document_names, names_file
from docpipe.output.reading import read_table


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
    ambiguous: list[tuple[Truth, list[str]]] = field(default_factory=list)  # labels naming documents in several folders


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
    """Each label with its document's latest record (a packet's label of pages p-q: the record of
    the segment the run cut at exactly those pages; another cut leaves it without a record)."""
    out = Path(out)
    records = read_table(out, schema_name, python_cells=True)
    by_doc, by_pages = {}, {}
    for _, row in records.iterrows():
        record = {k: plain(v) for k, v in row.items()}
        by_doc[record["doc_id"]] = record
        if record.get("page_from") is not None:
            by_pages[record["doc_id"], record["page_from"], record["page_to"]] = record
    matched = match_documents(out, schema_name, truths)
    pairs, labelled_docs = [], set()
    for truth, doc_id, path in matched.found:
        labelled_docs.add(doc_id)
        record = by_pages.get((doc_id, *truth.pages)) if truth.pages else by_doc.get(doc_id)
        pairs.append(Labelled(truth, doc_id, path, record))
    return Joined(pairs, matched.unmatched, len(set(by_doc) - labelled_docs), matched.ambiguous)


@dataclass(frozen=True)
class Matched:
    found: list[tuple[Truth, str, str]]  # (label, doc_id, the file's path)
    unmatched: list[Truth]
    ambiguous: list[tuple[Truth, list[str]]]


def match_documents(out: Path, table: str, truths: list[Truth]) -> Matched:
    """Each label's documents among those read into `table`, by the module's rules."""
    label_files = {str(Path(t.source).resolve()) for t in truths}
    names = [(doc_id, name, path) for doc_id, named in _documents(out, table).items()
             for name, path in zip(named.names, named.paths) if str(Path(path).resolve()) not in label_files]
    pairs, unmatched, ambiguous = [], [], []
    for truth in truths:
        found: dict[str, tuple[str, str]] = {}  # doc_id -> (name, path): the same bytes under two names, once
        for doc_id, name, path in names:
            if names_file(truth.key.strip("/"), name):
                found.setdefault(doc_id, (name, path))
        folders = {PurePosixPath(name).parent for name, _ in found.values()}
        if not found:
            unmatched.append(truth)
            continue
        if len(folders) > 1:
            ambiguous.append((truth, sorted(name for name, _ in found.values())))
            continue
        pairs += [(truth, doc_id, path) for doc_id, (_, path) in found.items()]
    return Matched(pairs, unmatched, ambiguous)


def _documents(out: Path, schema_name: str):
    """The documents read into this schema (files no record can come from left out), with every name."""
    documents = read_table(out, "documents")
    if documents.empty:
        return {}
    readable = set(documents.loc[documents["error_category"] != str(Category.UNSUPPORTED), "doc_id"])
    return {doc_id: n for doc_id, n in document_names(out, schema_name).items() if doc_id in readable}
