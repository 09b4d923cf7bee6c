"""What a run reads, and why it leaves the rest: the plan, made from the documents table.

Each input document is one of:

- new (no reading of its content into this table yet), or changed: read;
- read before with these settings (its work key): skipped, unless it failed for a cause that a
  setting governs and this run brings another value of it (core/causes.py), it failed with a
  category named by --retry-failed, or its failure was transient;
- read before with other settings: a new schema version reads it again; another model, prompt
  version or budget policy does not, unless --reread older: an upgrade never re-reads an archive
  on its own, and the run says beforehand what re-reading would cost.

A file whose content was read under another name gets a documents row of its own (a copy): every
path of a document is listed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from docpipe.core.causes import BEFORE_THE_MODEL, changed
from docpipe.core.errors import TRANSIENT, Category
from docpipe.core.types import SourceDocument
from docpipe.core.vocab import DocumentStatus
from docpipe.ingest.kinds import shape
from docpipe.output import tables

READING = ["model", "budget_policy", "prompt_version", "task_key"]  # what a reading was done with
_COLUMNS = ["doc_id", "work_key", "run_id", "source_path", "name", "pages", "schema", "status", "error_category",
            "finished_at", "failed_with", *READING]


@dataclass(frozen=True)
class WorkItem:
    source: SourceDocument
    key: str
    duplicate_of: str | None = None  # same bytes as this earlier file of the run (its name)
    replaces: str | None = None  # the run whose final reading of this key it reads again (a retry)


@dataclass
class Plan:
    pending: list[WorkItem] = field(default_factory=list)
    already_done: int = 0  # read before with these settings
    retried: Counter = field(default_factory=Counter)  # failures read again, by why ("--max-pages 2 -> 50")
    staying: Counter = field(default_factory=Counter)  # failures left as they are, by category
    older: Counter = field(default_factory=Counter)  # read with other settings, left: by those settings
    older_pages: int = 0  # what reading those again would cost
    rereading: Counter = field(default_factory=Counter)  # read with other settings, read again now
    rereading_pages: int = 0
    copies: list[tuple[SourceDocument, str]] = field(default_factory=list)  # new names of read documents
    containers: list[SourceDocument] = field(default_factory=list)  # archives and e-mails to list (unpacked)


@dataclass(frozen=True)
class Settings:
    """What a run reads with, as the documents table spells it."""

    table: str
    model: str
    budget_policy: str
    prompt_version: str
    task_key: str
    retry_failed: frozenset[str]
    reread_older: bool
    governing: dict
    max_pages: int


def earlier_readings(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the documents table's readings, in the order they finished, with what each was done with:
    rows written before the table kept it take it from their run's row; its copies: rows of files
    whose content was read under another name)."""
    frame = tables.read_all(out, "documents")
    for column in _COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    copy = frame["error_category"] == str(Category.DUPLICATE)
    copies, frame = frame.loc[copy, _COLUMNS], frame.loc[~copy, _COLUMNS]
    unknown = frame["model"].isna()
    if unknown.any():
        runs = tables.read_all(out, "runs", ["run_id", "model", "budget_policy", "task_key", "config_json"])
        runs = runs.drop_duplicates("run_id", keep="last").set_index("run_id")
        prompt = runs["config_json"].map(lambda text: json.loads(text).get("prompt_version") if text else None)
        for column, values in (("model", runs["model"]), ("budget_policy", runs["budget_policy"]),
                               ("task_key", runs["task_key"]), ("prompt_version", prompt)):
            frame.loc[unknown, column] = frame.loc[unknown, "run_id"].map(values)
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.sort_values("finished_at", kind="stable"), copies


def _final(frame: pd.DataFrame) -> pd.DataFrame:
    """The readings whose outcome is final: any but a transient failure (the next run retries it)."""
    return frame.loc[~frame["error_category"].isin([str(c) for c in TRANSIENT])]


def finished(out: Path) -> dict[str, str]:
    """Work key -> the run of its latest final reading (copies aside). Read while a run waits on
    another: the three columns it needs, not the whole table."""
    frame = tables.read_all(out, "documents", ["work_key", "run_id", "error_category", "finished_at"])
    final = _final(frame.loc[frame["error_category"] != str(Category.DUPLICATE)])
    final = final.sort_values("finished_at", kind="stable")
    return dict(zip(final["work_key"], final["run_id"]))


def make_plan(documents: Sequence[SourceDocument], keys: Sequence[str], settings: Settings, out: Path) -> Plan:
    """The plan for `documents`, whose work keys under these settings are `keys`."""
    frame, copies = earlier_readings(out)
    same_table = _final(frame).loc[lambda f: f["schema"] == settings.table].to_dict("records")
    by_key = {row["work_key"]: row for row in same_table}  # the latest reading of each is kept
    by_doc = {row["doc_id"]: row for row in same_table}
    known_paths = {p for f in (frame, copies) for p in f.loc[f["schema"] == settings.table, "source_path"]}
    plan, first_path, decided = Plan(), {}, {}
    for source, key in zip(documents, keys):
        before = by_key.get(key) or by_doc.get(source.doc_id)
        if key not in decided:  # copies of one content share its decision, whose reasons are counted once
            decided[key] = _decide(plan, before, key, settings)
        read, replaces, done = decided[key]
        plan.already_done += done  # each copy of a finished document is done too
        if read and shape(source.kind) == "container":  # listed, not read: its documents are read
            plan.containers.append(source)
        elif read:
            plan.pending.append(WorkItem(source, key, first_path.get(key), replaces))
            first_path.setdefault(key, source.shown_name)
        elif str(source.path) not in known_paths:
            plan.copies.append((source, before["name"] or Path(before["source_path"]).name))
            known_paths.add(str(source.path))
    return plan


def _decide(plan: Plan, before: dict | None, key: str, settings: Settings) -> tuple[bool, str | None, bool]:
    """(read it?, the run whose reading of this key it replaces, done already?), counting why in `plan`."""
    if before is None:
        return True, None, False
    same = before["work_key"] == key
    category = before["error_category"]
    unread = before["status"] in (DocumentStatus.FAILED, DocumentStatus.SKIPPED)
    if category and (unread or before["failed_with"] is not None):
        why = changed(category, before["failed_with"], settings.governing)
        asked = "all" in settings.retry_failed or category in settings.retry_failed
        if why or asked:
            plan.retried[", ".join(why) if why else f"--retry-failed {category}"] += 1
            return True, before["run_id"] if same else None, False
    container = before["status"] == DocumentStatus.UNPACKED
    if same or container or (unread and category in BEFORE_THE_MODEL):  # no model, prompt or budget changes those
        if unread and category:
            plan.staying[category] += 1
        return False, None, True
    pages = min(int(before["pages"] or 0), settings.max_pages)
    if before["task_key"] is not None and before["task_key"] != settings.task_key:
        plan.rereading[f"schema {before['task_key']} (now {settings.task_key})"] += 1
        plan.rereading_pages += pages
        return True, None, False
    differs = describe(before, settings)
    if settings.reread_older:
        plan.rereading[differs] += 1
        plan.rereading_pages += pages
        return True, None, False
    plan.older[differs] += 1
    plan.older_pages += pages
    return False, None, False


def describe(before: dict, settings: Settings) -> str:
    """The settings an earlier reading differs in, as `model X (now Y)`."""
    names = {"model": "model", "budget_policy": "budget", "prompt_version": "prompt"}
    parts = [f"{label} {before[column]} (now {getattr(settings, column)})" for column, label in names.items()
             if before[column] is not None and before[column] != getattr(settings, column)]
    if all(before[column] is None for column in names):
        return "settings not recorded"
    return ", ".join(parts) or "other settings (constrained answers)"
