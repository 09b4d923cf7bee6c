"""Calibration from reviews: does a confidence of 0.95 mean right 95 times in 100, and how many of
the values nobody reviewed are likely wrong?

Every reviewed value (a reviewer accepted it, or set it: the correction row keeps the model's
confidence in it and whether the model had it right) falls in a confidence bin. Per bin:
reviewed values, how many the model had right, the share right with its 95% interval (Jeffreys:
Beta(right + 1/2, wrong + 1/2)), the mean confidence, and the values of the latest records nobody
reviewed.

Per threshold t (each bin's lower edge): the values nobody reviewed at or above t, and the
estimated share of them that is wrong, stratified by bin: sum over bins of (unreviewed values of
the bin x the bin's error rate) / (unreviewed values at or above t). Its interval comes from
drawing every bin's error rate from its Beta posterior (4,000 draws, seeded): a bin with few
reviewed values widens it, one with none leaves its error rate to the prior (anything from 0 to
1), and the notes say so.

The estimate assumes that within a bin, the reviewed values are like the others. Reviewers going
least certain first see few confident values; `docpipe review --sample N` queues documents drawn
at random among confident ones, and the notes count the reviewed values that came from such a
sample. Added list items (values the model missed) have no confidence and are counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import beta

from docpipe.core.vocab import ReviewAction
from docpipe.output.corrections import latest_rows
from docpipe.output.review_samples import drawn
from docpipe.output.tables import read_all
from docpipe.output.reading import latest_records
from docpipe.schema.kinds import Kind
from docpipe.schema.spec import Schema

EDGES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 1.0)
LEVEL = 0.95
DRAWS = 4000

BINS = pa.schema([("confidence", pa.string()), ("low", pa.float64()), ("high", pa.float64()),
                  ("reviewed", pa.int64()), ("right", pa.int64()), ("share_right", pa.float64()),
                  ("share_right_low", pa.float64()), ("share_right_high", pa.float64()),
                  ("mean_confidence", pa.float64()), ("unreviewed", pa.int64())])
THRESHOLDS = pa.schema([("threshold", pa.float64()), ("unreviewed", pa.int64()),
                        ("estimated_error_rate", pa.float64()), ("error_rate_low", pa.float64()),
                        ("error_rate_high", pa.float64()), ("estimated_wrong", pa.float64()),
                        ("bins_without_reviews", pa.int64())])


@dataclass
class Calibration:
    schema: str
    bins: pd.DataFrame
    thresholds: pd.DataFrame
    reviewed: int = 0  # reviewed values with a model confidence
    from_sample: int = 0  # of those, in documents drawn by --sample
    added: int = 0  # list items reviewers added (values the model missed)
    removed: int = 0  # list items reviewers removed (the model invented them)
    notes: list[str] = field(default_factory=list)


def bin_of(confidence: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(EDGES, confidence, side="right") - 1, 0, len(EDGES) - 2)


def value_confidences(latest: pa.Table, schema: Schema) -> np.ndarray:
    """The model's confidence of every value of the latest records (a list's cells one by one)."""
    parts = []
    for spec in schema.fields:
        if not spec.kind.is_group:
            name = f"{spec.name}_confidence"
            if name in latest.column_names:
                parts.append(latest[name].drop_null().to_numpy())
            continue
        if spec.name not in latest.column_names:
            continue
        column = latest[spec.name]
        items = pc.list_flatten(column) if spec.kind == Kind.LIST else column.combine_chunks()
        for sub in spec.fields:
            for name in (f"{sub.name}_confidence", "confidence"):  # the item's, for records older than cells' own
                if name in {f.name for f in items.type}:
                    parts.append(pc.struct_field(items, name).drop_null().to_numpy())
                    break
    return np.concatenate(parts).astype(float) if parts else np.array([], dtype=float)


def reviewed_values(corrections: pd.DataFrame, schema_name: str) -> pd.DataFrame:
    """The latest review of each value (accepted or set) that knows the model's confidence:
    doc_id, confidence, right; and the counts of added and removed items."""
    empty = pd.DataFrame({"doc_id": pd.Series(dtype=str), "confidence": pd.Series(dtype=float),
                          "right": pd.Series(dtype=bool)})
    if corrections.empty or "model_confidence" not in corrections:
        return empty
    latest = latest_rows(corrections, schema_name)
    values = latest[latest["action"].isin([ReviewAction.SET, ReviewAction.ACCEPT])
                    & latest["model_confidence"].notna() & latest["model_right"].notna()]
    return pd.DataFrame({"doc_id": values["doc_id"], "confidence": values["model_confidence"].astype(float),
                         "right": values["model_right"].astype(bool)}).reset_index(drop=True)


def calibrate(population: np.ndarray, reviewed: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(bins, thresholds) from every value's confidence and the reviewed values (confidence, right)."""
    nbins = len(EDGES) - 1
    total = np.bincount(bin_of(population), minlength=nbins) if len(population) else np.zeros(nbins, int)
    where = bin_of(reviewed["confidence"].to_numpy()) if len(reviewed) else np.array([], dtype=int)
    n = np.bincount(where, minlength=nbins)
    right = np.bincount(where, weights=reviewed["right"].to_numpy(dtype=float), minlength=nbins).astype(int)
    wrong = n - right
    unreviewed = np.maximum(total - n, 0)
    sums = np.bincount(where, weights=reviewed["confidence"].to_numpy(dtype=float), minlength=nbins)
    tail = (1 - LEVEL) / 2
    bins = pd.DataFrame({
        "confidence": [f"{EDGES[i]:g}-{EDGES[i + 1]:g}" for i in range(nbins)],
        "low": EDGES[:-1], "high": EDGES[1:], "reviewed": n, "right": right,
        "share_right": np.where(n > 0, right / np.maximum(n, 1), np.nan),
        "share_right_low": np.where(n > 0, beta.ppf(tail, right + 0.5, wrong + 0.5), np.nan),
        "share_right_high": np.where(n > 0, beta.ppf(1 - tail, right + 0.5, wrong + 0.5), np.nan),
        "mean_confidence": np.where(n > 0, sums / np.maximum(n, 1), np.nan),
        "unreviewed": unreviewed,
    })
    rng = np.random.default_rng(seed)
    error = rng.beta(wrong + 0.5, right + 0.5, size=(DRAWS, nbins))  # each bin's error rate, drawn
    rows = []
    for i, low in enumerate(EDGES[:-1]):
        counts = np.where(np.arange(nbins) >= i, unreviewed, 0)
        count = int(counts.sum())
        if count == 0:
            rows.append((low, 0, np.nan, np.nan, np.nan, 0.0, 0))
            continue
        rate = error @ counts / count
        mean = float(rate.mean())
        rows.append((low, count, mean, float(np.quantile(rate, tail)), float(np.quantile(rate, 1 - tail)),
                     mean * count, int(((n == 0) & (counts > 0)).sum())))
    thresholds = pd.DataFrame(rows, columns=THRESHOLDS.names)
    return bins, thresholds


def calibration(out: str | Path, schema: Schema, seed: int = 0) -> Calibration:
    """The calibration of `schema`'s latest records in `out` from the reviews there."""
    latest = latest_records(Path(out), schema.name)
    if latest is None:
        raise ValueError(f"no {schema.name} records in {out}")
    corrections = read_all(Path(out), "corrections")
    reviewed = reviewed_values(corrections, schema.name)
    bins, thresholds = calibrate(value_confidences(latest, schema), reviewed, seed)
    sampled = {d["doc_id"] for d in drawn(Path(out), schema.name)}
    result = Calibration(schema.name, bins, thresholds, len(reviewed), int(reviewed["doc_id"].isin(sampled).sum()))
    if not corrections.empty and "action" in corrections:
        mine = corrections[corrections["schema"] == schema.name]
        result.added = int((mine["action"] == ReviewAction.ADD_ITEM).sum())
        result.removed = int((mine["action"] == ReviewAction.REMOVE_ITEM).sum())
    result.notes = _notes(result)
    return result


def _notes(result: Calibration) -> list[str]:
    notes = [f"{result.reviewed:,} reviewed values ({result.from_sample:,} from documents drawn at random by "
             f"--sample); {int(result.bins['unreviewed'].sum()):,} values nobody reviewed."]
    empty = result.bins[(result.bins["reviewed"] == 0) & (result.bins["unreviewed"] > 0)]
    if not empty.empty:
        notes.append("No reviewed value in the bins " + ", ".join(empty["confidence"])
                     + ": their error rate is unknown (any from 0 to 1), which widens the intervals; "
                     "`docpipe review --sample N` queues confident documents drawn at random to fill them.")
    if result.reviewed and result.from_sample < result.reviewed:
        notes.append("Values reviewed least certain first are not a random sample: within a bin the estimate "
                     "takes them to be like the values nobody reviewed.")
    if result.added or result.removed:
        notes.append(f"Reviewers added {result.added} list items the model missed and removed {result.removed} "
                     "it invented (not in the bins: a missed value has no confidence).")
    return notes


def plot(result: Calibration, path: str | Path) -> Path:
    """Share right against confidence per bin (with intervals, the diagonal is perfect calibration),
    and the estimated error rate of unreviewed values against the threshold, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    bins = result.bins[result.bins["reviewed"] > 0]
    left.plot([0, 1], [0, 1], color="lightgray", linewidth=1, zorder=0)
    left.errorbar(bins["mean_confidence"], bins["share_right"],
                  yerr=[(bins["share_right"] - bins["share_right_low"]).clip(lower=0),  # all right: above Jeffreys' upper end
                        (bins["share_right_high"] - bins["share_right"]).clip(lower=0)],
                  fmt="o", color="tab:blue", capsize=3)
    for x, y, count in zip(bins["mean_confidence"], bins["share_right"], bins["reviewed"], strict=True):
        left.annotate(f"{count}", (x, y), textcoords="offset points", xytext=(5, -10), fontsize=8)
    left.set_xlabel("model confidence (mean of the bin's reviewed values)")
    left.set_ylabel("share the model had right")
    left.set_xlim(-0.02, 1.02)
    left.set_ylim(-0.02, 1.02)
    left.grid(True, alpha=0.3)
    thresholds = result.thresholds.dropna(subset=["estimated_error_rate"])
    right.plot(thresholds["threshold"], thresholds["estimated_error_rate"], marker="o", color="tab:red")
    right.fill_between(thresholds["threshold"], thresholds["error_rate_low"], thresholds["error_rate_high"],
                       color="tab:red", alpha=0.15)
    right.set_xlabel("threshold: values at or above it nobody reviewed")
    right.set_ylabel(f"estimated error rate ({LEVEL:.0%} interval)")
    right.set_ylim(bottom=0)
    right.grid(True, alpha=0.3)
    fig.suptitle(f"{result.schema}: calibration from {result.reviewed:,} reviewed values")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
