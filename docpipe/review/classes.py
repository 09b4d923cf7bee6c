"""The classes a sorting gave (`docpipe run` with several --schema, or --split), as a review queue:
each segment of each sorted file, least certain class first, its pages beside its class; a
reviewer accepts the class or sets another, and the correction (schema `segments`, field
`doc_class`, the segment) is ground truth as a corrected value is (eval/truth.reviewed_truths).

A segment whose class was `other` or under the threshold has no record in any schema's queue:
this queue is where it is seen.
"""

from __future__ import annotations

import pandas as pd

from docpipe.core.vocab import ReviewAction
from docpipe.output.corrections import (
    CLASS_FIELD, CLASS_TABLE, apply_class_corrections, correction, record_key, split_key,
)
from docpipe.output.names import pages_label
from docpipe.output.reading import latest_segments
from docpipe.output.rows import CorrectionRow
from docpipe.review.edits import EditRefused

TAB = "~classes"  # its address: no schema can be named so (a schema's name is an identifier)
OTHER = "other"


def sorted_segments(segments: pd.DataFrame, corrections: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Every sorted file's latest segments (`segments`: the segments table's rows) with the
    reviewers' classes (`corrections`): key, name (with its pages when the file holds several;
    `names`: doc_id -> its name), classes (what the sorting chose among), model_class and
    model_confidence (the sorting's own), reviewed; least certain first."""
    if segments.empty:
        return segments
    latest = latest_segments(segments)
    latest = latest.assign(model_confidence=latest["class_confidence"])
    latest = apply_class_corrections(latest, corrections)
    latest["key"] = [record_key(d, s) for d, s in zip(latest["doc_id"], latest["segment"])]
    several = latest.groupby("doc_id")["doc_id"].transform("size") > 1
    named = [names.get(d) or n or d[:12] for d, n in zip(latest["doc_id"], latest["name"])]
    latest["name"] = [n + pages_label(int(a), int(b)) if cut else n
                      for n, a, b, cut in zip(named, latest["page_from"], latest["page_to"], several)]
    latest["classes"] = latest["sorting"].map(classes_of)
    return latest.sort_values(["class_reviewed", "class_confidence", "name"], na_position="first",
                              kind="stable").reset_index(drop=True)


def classes_of(sorting: str) -> list[str]:
    """The classes a sorting chose among, from its key (`segments:invoice@2,receipt@1|...`), and other."""
    names = str(sorting).split("|", 1)[0].removeprefix(f"{CLASS_TABLE}:")
    return [part.split("@", 1)[0] for part in names.split(",") if part] + [OTHER]


def class_rows(segments: pd.DataFrame, key: str, action: str, new_class: str | None, reviewer: str) -> list[CorrectionRow]:
    """A reviewer's action on segment `key`'s class (accept it, or set another) as correction rows."""
    try:
        doc_id, segment = split_key(key)
    except ValueError as exc:
        raise EditRefused(str(exc), 400) from None
    found = segments[segments["key"] == key]
    if found.empty:
        raise EditRefused(f"no sorted segment {key!r}", 404)
    row = found.iloc[0]
    if action == ReviewAction.ACCEPT:
        new_class = str(row["doc_class"])
    elif action == ReviewAction.SET:
        if new_class not in row["classes"]:
            raise EditRefused(f"class must be one of {', '.join(row['classes'])}, not {new_class!r}")
    else:
        raise EditRefused("action must be accept or set", 400)
    return [correction(doc_id, str(row["work_key"]), CLASS_TABLE, CLASS_FIELD, ReviewAction(action), reviewer,
                       new_value=new_class, old_value=row["model_class"], model_confidence=row["model_confidence"],
                       model_right=new_class == row["model_class"],
                       segment=segment if segment is not None else int(row["segment"]))]
