"""`evaluate`: an output folder's latest records against labels, as two tables.

    details   one row per labelled document and field: outcome, exact, ANLS*, value counts, the
              two values as text, the document's ANLS*, and the SROIE verdict where it applies
    summary   one row per field, then `(all fields)`, then `(SROIE task 3)` for SROIE labels

Summary columns: `exact` is the share of documents whose value matches exactly (score.py);
`anls` the mean ANLS* (for `(all fields)`, the mean per-document ANLS* of the whole record);
matched / mismatched / missing / extra / empty count documents by outcome; `labelled`,
`predicted` and `found` count values (a list's items one by one), from which precision =
found / predicted, recall = found / labelled and F1 = 2 found / (labelled + predicted) (None where
the denominator is 0).

`write_report` writes both as Parquet with explicit Arrow schemas (default OUT/eval/<schema>/),
each file replaced atomically: the report describes the records as they are now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from docpipe.eval.join import join
from docpipe.eval.match import ratio
from docpipe.eval.score import score_record
from docpipe.eval.sroie import score_sroie
from docpipe.eval.truth import Truth, for_schema, load_truth, review_coverage
from docpipe.output.tables import write_parquet
from docpipe.output.schema_store import resolve

ALL_FIELDS = "(all fields)"
SROIE_ROW = "(SROIE task 3)"

# values the label gives, the model gives, and that match; and the ratios of those
COUNT_COLUMNS = [
    ("labelled", pa.int64()),
    ("predicted", pa.int64()),
    ("found", pa.int64()),
    ("precision", pa.float64()),
    ("recall", pa.float64()),
    ("f1", pa.float64()),
]

DETAILS = pa.schema([
    ("schema", pa.string()),
    ("truth_key", pa.string()),
    ("truth_format", pa.string()),
    ("doc_id", pa.string()),
    ("source_path", pa.string()),
    ("has_record", pa.bool_()),
    ("field", pa.string()),
    ("kind", pa.string()),
    ("outcome", pa.string()),
    ("exact", pa.bool_()),
    ("anls", pa.float64()),
    *COUNT_COLUMNS,
    ("truth", pa.string()),
    ("prediction", pa.string()),
    ("document_anls", pa.float64()),
    ("sroie_correct", pa.bool_()),
    ("sroie_submitted", pa.bool_()),
    ("sroie_labelled", pa.bool_()),
])

OUTCOMES = ("match", "mismatch", "missing", "extra", "empty")
SUMMARY = pa.schema([
    ("schema", pa.string()),
    ("field", pa.string()),
    ("kind", pa.string()),
    ("documents", pa.int64()),
    ("exact", pa.float64()),
    ("anls", pa.float64()),
    *[(name if name != "match" else "matched", pa.int64()) for name in OUTCOMES],
    *COUNT_COLUMNS,
    ("evaluated_at", pa.timestamp("us", tz="UTC")),
])
_COUNT_COLUMN = {"match": "matched", "mismatch": "mismatch", "missing": "missing", "extra": "extra", "empty": "empty"}


@dataclass
class EvalResult:
    schema: str
    details: pd.DataFrame
    summary: pd.DataFrame
    unmatched: list[Truth] = field(default_factory=list)  # labels with no document in OUT
    other_schema: int = 0  # labels for another schema (not scored here)
    records_without_truth: int = 0
    coverage: str | None = None  # what labels taken from reviews cover (truth.review_coverage)
    ambiguous: list[tuple[Truth, list[str]]] = field(default_factory=list)  # labels naming files in several folders

    @property
    def documents(self) -> int:
        """Labelled documents scored (a packet's documents each count)."""
        return int(len(self.details[["truth_key", "doc_id"]].drop_duplicates())) if not self.details.empty else 0

    def overall(self) -> dict:
        return self.summary.set_index("field").loc[ALL_FIELDS].to_dict()


def evaluate(out: str | Path, truth: str | Path | list[Truth], schema_name: str,
             schema_dir: Path | None = None) -> EvalResult:
    schema = resolve(schema_name, Path(out), reading=True, schema_dir=schema_dir)
    truths = load_truth(truth) if not isinstance(truth, list) else truth
    kept, other = for_schema(truths, schema.name, {f.name for f in schema.fields})
    joined = join(out, schema.name, kept)
    rows = []
    for pair in joined.pairs:
        scored = score_record(schema, pair.truth.fields, pair.record)
        sroie = {s.field: s for s in score_sroie(pair.truth.original, pair.record)} if pair.truth.format == "sroie" else {}
        for f in scored.fields:
            verdict = sroie.get(f.field)
            rows.append({
                "schema": schema.name, "truth_key": pair.truth.label, "truth_format": pair.truth.format,
                "doc_id": pair.doc_id, "source_path": pair.source_path, "has_record": pair.record is not None,
                "field": f.field, "kind": f.kind, "outcome": f.outcome, "exact": f.exact, "anls": f.anls,
                "labelled": f.labelled, "predicted": f.predicted, "found": f.found,
                "precision": f.precision, "recall": f.recall, "f1": f.f1,
                "truth": f.truth_text, "prediction": f.predicted_text, "document_anls": scored.anls,
                "sroie_correct": verdict.correct if verdict else None,
                "sroie_submitted": verdict.submitted if verdict else None,
                "sroie_labelled": verdict.labelled if verdict else None,
            })
    details = pa.Table.from_pylist(rows, schema=DETAILS).to_pandas()
    return EvalResult(schema.name, details, summarise(details, schema.name), joined.unmatched, len(other),
                      joined.records_without_truth, review_coverage(kept), joined.ambiguous)


def summarise(details: pd.DataFrame, schema_name: str, order: list[str] | None = None) -> pd.DataFrame:
    """The summary table of (a subset of) a details table."""
    now = dt.datetime.now(dt.UTC)
    rows = []
    names = order or list(dict.fromkeys(details["field"]))
    for name in names:
        part = details[details["field"] == name]
        if part.empty:
            continue
        rows.append(_row(schema_name, name, str(part["kind"].iloc[0]), part, float(part["anls"].mean()), now))
    if not details.empty:
        per_doc = details.drop_duplicates(["truth_key", "doc_id"])["document_anls"]
        rows.append(_row(schema_name, ALL_FIELDS, "", details, float(per_doc.mean()), now))
        sroie = details[details["sroie_correct"].notna()]
        if not sroie.empty:
            correct = int(sroie["sroie_correct"].astype(bool).sum())
            submitted = int(sroie["sroie_submitted"].astype(bool).sum())
            labelled = int(sroie["sroie_labelled"].astype(bool).sum())
            row = {c: None for c in SUMMARY.names}
            row.update(schema=schema_name, field=SROIE_ROW, kind="",
                       documents=int(sroie[["truth_key", "doc_id"]].drop_duplicates().shape[0]),
                       labelled=labelled, predicted=submitted, found=correct,
                       precision=ratio(correct, submitted), recall=ratio(correct, labelled),
                       f1=ratio(2 * correct, labelled + submitted), evaluated_at=now)
            rows.append(row)
    return pa.Table.from_pylist(rows, schema=SUMMARY).to_pandas()


def _row(schema_name: str, name: str, kind: str, part: pd.DataFrame, anls: float, now: dt.datetime) -> dict:
    labelled, predicted, found = (int(part[c].sum()) for c in ("labelled", "predicted", "found"))
    counts = part["outcome"].value_counts()
    return {
        "schema": schema_name, "field": name, "kind": kind,
        "documents": int(part[["truth_key", "doc_id"]].drop_duplicates().shape[0]),
        "exact": float(part["exact"].mean()), "anls": anls,
        **{_COUNT_COLUMN[o]: int(counts.get(o, 0)) for o in OUTCOMES},
        "labelled": labelled, "predicted": predicted, "found": found,
        "precision": ratio(found, predicted), "recall": ratio(found, labelled),
        "f1": ratio(2 * found, labelled + predicted), "evaluated_at": now,
    }


def write_frame(frame: pd.DataFrame, schema: pa.Schema, path: Path) -> Path:
    """One Parquet file, replaced atomically (tables.write_parquet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_parquet(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), path)


def default_report_dir(out: str | Path, schema_name: str) -> Path:
    return Path(out) / "eval" / schema_name


def write_report(result: EvalResult, folder: str | Path) -> tuple[Path, Path]:
    folder = Path(folder)
    return (write_frame(result.summary, SUMMARY, folder / "summary.parquet"),
            write_frame(result.details, DETAILS, folder / "details.parquet"))
