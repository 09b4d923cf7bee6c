"""Ground truth: labelled values per document, read from docpipe's own format or a public one.

A `Truth` is one document's labelled fields under a schema's field names. Only the fields a
source labels are scored (SROIE labels four receipt fields; the others are not "empty", they are
unknown), and a labelled field whose value is null means "this document has no such value".

Formats, recognised by content (`load_truth(path)` takes a JSON file or a folder of them):

    docpipe, one file      {"<file name>": {"schema": "invoice", "fields": {...}}, ...}
                           (samples/ground_truth.json: keyed by the document's file name)
    docpipe, per document  <stem>.json holding {"schema": ..., "fields": {...}} or just the fields
    SROIE (task 3 keys)    <stem>.json holding {"company", "date", "address", "total"} -> receipt
    FUNSD question/answer  <stem>.kv.json holding {"pairs": [{"question", "answer"}, ...]} -> form
    invoice2data expected  <stem>.json holding [{"issuer", "amount", "date", ...}] -> invoice

A per-document file is matched to documents by its path under the labels folder, without its
suffix (`sroie_000.json` -> `sroie_000.jpg`; `supplierB/invoice.json` -> `supplierB/invoice.pdf`);
a key of the one-file format by the path or file name it gives (eval/join.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from docpipe.ingest.discover import iter_files
from docpipe.output.record_columns import item_fields

SROIE_KEYS = {"company": "merchant_name", "address": "merchant_address", "date": "date", "total": "total"}
# invoice2data's expected-output keys -> the invoice schema (the template's issuer is the seller)
INVOICE2DATA_KEYS = {
    "issuer": "seller_name",
    "amount": "total",
    "amount_untaxed": "subtotal",
    "amount_tax": "tax",
    "date": "invoice_date",
    "date_due": "due_date",
    "invoice_number": "invoice_number",
    "currency": "currency",
}


@dataclass(frozen=True)
class Truth:
    key: str  # a file name ("invoice_acme.pdf") or a stem ("sroie_000"), matched to documents
    schema: str
    fields: dict[str, Any]  # schema field name -> labelled value (as labelled: strings, numbers, lists)
    source: str  # the file it came from
    format: str  # docpipe | sroie | funsd | invoice2data
    original: dict[str, Any] = field(default_factory=dict)  # the source's own values (SROIE scoring)
    # one document of a file that holds several (a packet): its first and last page; None: the whole file
    pages: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        """The label's name in reports: its key, and a packet's document's pages (`batch.pdf#p3-4`)."""
        return self.key if self.pages is None else f"{self.key}#p{self.pages[0]}-{self.pages[1]}"


def load_truth(path: str | Path) -> list[Truth]:
    """Every labelled document in a JSON file or in the JSON files under a folder (its subfolders
    too, docpipe output folders aside: a label's key is its path there), or the reviewed documents
    of a docpipe output folder (one with a corrections table)."""
    path = Path(path)
    if path.is_dir() and (path / "corrections").is_dir():
        return reviewed_truths(path)
    if path.is_dir():
        files = [f for f in iter_files(path) if f.name.endswith(".json")]
        kv_stems = {str(p)[: -len(".kv.json")] for p in files if p.name.endswith(".kv.json")}
        out: list[Truth] = []
        for file in files:
            if str(file.with_suffix("")) in kv_stems:  # FUNSD's entity JSON beside its question/answer pairs
                continue
            folder = file.parent.relative_to(path).as_posix()
            prefix = "" if folder == "." else folder + "/"
            out.extend(dataclasses.replace(t, key=prefix + t.key) if t.key == document_stem(file) else t
                       for t in read_truth_file(file))
        return out
    if path.is_file():
        return list(read_truth_file(path))
    raise FileNotFoundError(f"no ground truth at {path}")


def document_stem(file: Path) -> str:
    name = file.name
    for suffix in (".kv.json", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return file.stem


def read_truth_file(file: Path) -> Iterator[Truth]:
    data = json.loads(file.read_text(encoding="utf-8"))
    stem, source = document_stem(file), str(file)
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data) and _is_invoice2data(data[0]):
        yield from_invoice2data(stem, data[0], source)
    elif isinstance(data, dict) and isinstance(data.get("pairs"), list):
        yield from_funsd_pairs(stem, data["pairs"], source)
    elif isinstance(data, dict) and "form" in data and "fields" not in data:
        return  # FUNSD entities without derived pairs: nothing under a schema's field names
    elif isinstance(data, dict) and _is_invoice2data(data):
        yield from_invoice2data(stem, data, source)
    elif isinstance(data, dict) and data and set(data) <= set(SROIE_KEYS):
        yield from_sroie(stem, data, source)
    elif isinstance(data, dict) and (isinstance(data.get("fields"), dict) or isinstance(data.get("segments"), list)):
        yield from _docpipe_entry(stem, data, source)
    elif isinstance(data, dict) and data and all(isinstance(v, dict) and ("fields" in v or "segments" in v)
                                                 for v in data.values()):
        for name, entry in data.items():
            yield from _docpipe_entry(name, entry, source)
    elif isinstance(data, dict):
        yield Truth(stem, "", dict(data), source, "docpipe")  # bare fields: any schema that has them
    else:
        raise ValueError(f"{file}: not a ground-truth format docpipe knows (see docpipe/eval/truth.py)")


def _docpipe_entry(key: str, entry: dict[str, Any], source: str) -> Iterator[Truth]:
    """docpipe's label of one file: {"schema", "fields"}, or a packet's {"segments": [{"pages":
    [first, last], "schema", "fields"}, ...]} (each document of the file, with its pages)."""
    if "segments" not in entry:
        yield Truth(key, str(entry.get("schema", "")), dict(entry["fields"]), source, "docpipe")
        return
    for part in entry["segments"]:
        pages = part.get("pages")
        if not (isinstance(pages, list) and len(pages) == 2 and all(isinstance(p, int) for p in pages)
                and 1 <= pages[0] <= pages[1]):
            raise ValueError(f"{source} ({key}): a segment's pages are [first, last], 1-based: got {pages!r}")
        yield Truth(key, str(part.get("schema", "")), dict(part.get("fields") or {}), source, "docpipe",
                    pages=(pages[0], pages[1]))


def _is_invoice2data(entry: dict[str, Any]) -> bool:
    return "issuer" in entry and ("amount" in entry or "invoice_number" in entry)


def from_sroie(key: str, data: dict[str, Any], source: str) -> Truth:
    """SROIE task 3 keys -> receipt: company, address, date, total (values as printed)."""
    fields = {SROIE_KEYS[k]: _blank_to_none(v) for k, v in data.items()}
    return Truth(key, "receipt", fields, source, "sroie", original=dict(data))


def from_funsd_pairs(key: str, pairs: list[dict[str, Any]], source: str) -> Truth:
    """FUNSD question -> answer links -> form.fields [{key, value}] (title and date unlabelled)."""
    items = [{"key": _blank_to_none(p.get("question")), "value": _blank_to_none(p.get("answer"))} for p in pairs]
    return Truth(key, "form", {"fields": items}, source, "funsd")


def from_invoice2data(key: str, entry: dict[str, Any], source: str) -> Truth:
    """invoice2data's expected output -> invoice (its `lines` vary by template: not mapped)."""
    fields = {target: entry[k] for k, target in INVOICE2DATA_KEYS.items() if k in entry}
    return Truth(key, "invoice", fields, source, "invoice2data", original=dict(entry))


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def for_schema(truths: list[Truth], schema_name: str, field_names: set[str]) -> tuple[list[Truth], list[Truth]]:
    """(the truths for this schema, the others). A truth that names no schema belongs to any
    schema its fields fit; labelled fields the schema lacks are an error, not silently dropped."""
    kept, other = [], []
    for truth in truths:
        if truth.schema and truth.schema != schema_name:
            other.append(truth)
            continue
        unknown = set(truth.fields) - field_names
        if unknown and truth.schema:
            raise ValueError(f"{truth.source} ({truth.key}): fields {sorted(unknown)} are not in schema {schema_name!r}")
        if unknown:
            other.append(truth)
            continue
        kept.append(truth)
    return kept, other


def reviewed_truths(out: Path) -> list[Truth]:
    """The values people reviewed in `docpipe review`, as labels: a document marked done is
    labelled whole; any other only by the values a reviewer accepted or corrected (a list only when
    every cell of its items was). So a reviewed run is ground truth for the next model or budget,
    and nobody's unreviewed guess is. `original` says how many values were reviewed and whether
    the document was marked done."""
    from docpipe.output.names import document_names
    from docpipe.output.record_columns import field_names
    from docpipe.output.tables import read_all
    from docpipe.output.reading import read_table

    corrections = read_all(out, "corrections")
    names = {doc_id: named.name for doc_id, named in document_names(out).items()}
    found: list[Truth] = []
    for schema_name in sorted(set(corrections["schema"])):
        if schema_name == "segments":  # a reviewed class: the file's (or its segment's) class
            found += _reviewed_classes(out, names)
            continue
        records = read_table(out, str(schema_name), corrected=True, python_cells=True)
        if records.empty:
            continue
        fields = field_names(records.columns)
        for row in records.to_dict("records"):
            row = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in row.items()}  # list cells
            paths, done = set(row["corrected"]), bool(row["review_done"])
            labels = {name: _label(row[name]) for name in fields if done or _reviewed(name, row[name], paths)}
            if not labels:
                continue
            counted = sum(_values(row[name]) for name in labels) if done else len(paths)
            pages = None if row.get("page_from") is None or pd.isna(row.get("page_from")) else \
                (int(row["page_from"]), int(row["page_to"]))  # a sorted file's record: its pages
            found.append(Truth(names.get(row["doc_id"], row["doc_id"]), str(schema_name), labels, str(out),
                               "docpipe-review", original={"reviewed_values": counted, "done": done}, pages=pages))
    return found


def _reviewed_classes(out: Path, names: dict[str, str]) -> list[Truth]:
    """Each segment whose class a reviewer set or accepted, as a label of its class and pages."""
    from docpipe.output.reading import read_table

    segments = read_table(out, "segments", corrected=True)
    reviewed = segments[segments["class_reviewed"]] if "class_reviewed" in segments else segments.iloc[0:0]
    return [Truth(names.get(r.doc_id, r.doc_id), str(r.doc_class), {}, str(out), "docpipe-review",
                  original={"reviewed_class": True}, pages=(int(r.page_from), int(r.page_to)))
            for r in reviewed.itertuples()]


def _reviewed(name: str, value: Any, paths: set[str]) -> bool:
    if name in paths:
        return True
    if isinstance(value, dict):  # an object: all its fields reviewed
        return {f"{name}.{sub}" for sub in item_fields(value)} <= paths
    if not isinstance(value, list | tuple) or not value:
        return False
    cells = {f"{name}[{i}].{sub}" for i, item in enumerate(value) for sub in item_fields(dict(item))}
    return cells <= paths


def _values(value: Any) -> int:
    """How many values a label holds: a list's cells one by one."""
    if isinstance(value, list | tuple):
        return sum(len(item_fields(dict(item))) for item in value)
    if isinstance(value, dict):
        return len(item_fields(value))
    return 1


def review_coverage(truths: list[Truth]) -> str | None:
    """What labels from reviews cover, in one line (None when no label came from a review)."""
    reviewed = [t for t in truths if t.format == "docpipe-review"]
    if not reviewed:
        return None
    values = sum(t.original["reviewed_values"] for t in reviewed)
    done = sum(bool(t.original["done"]) for t in reviewed)
    return (f"labels from reviews: {values:,} reviewed values of {len(reviewed):,} documents ({done:,} marked "
            "done); values nobody reviewed are not scored")


def _label(value: Any) -> Any:
    """A record's typed value as a label (JSON-like: dates as ISO text, list items without their
    _raw, _box, confidence and page)."""
    import datetime as dt
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, list):
        return [{k: _label(dict(item)[k]) for k in item_fields(dict(item))} for item in value]
    if isinstance(value, dict):  # an object field
        return {k: _label(value[k]) for k in item_fields(value)}
    return value.item() if hasattr(value, "item") else value
