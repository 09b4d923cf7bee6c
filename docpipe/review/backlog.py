"""The review queue of one schema: which documents, in which order, filtered how, and one
document's record read on its own.

Three tables are kept in memory, each file read once (output/table_cache.py): of the records, only
the columns the queue sorts and filters by (doc_id, work key, time, valid, lowest_confidence and
each field's confidence) and where each row lies; of `documents`, the file names; `corrections`
whole (it is small). A view refreshes them, which costs a directory listing when no run or
reviewer wrote anything, and reads what it shows: the queue's page from memory, a document's
record from its own row group.

Queues (`Filter.show`): `todo` (not marked done), `all`, `invalid` (a value did not fit its
field: not parsed), `incomplete` (a required value is missing), `inconsistent` (a check fails),
`done`, `sample` (drawn at random by `docpipe review --sample N` among confident documents, so
that calibration sees confident values too); `field` + `below`: only documents whose value of that
field is less certain than `below`. Order: records with a problem first (not parsed, incomplete,
inconsistent), then least certain first (the record's lowest confidence, or the filtered
field's); or by file name.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from docpipe.core.vocab import ReviewAction
from docpipe.output.corrections import Applied, apply_to_record, latest_corrections, latest_rows, record_key, split_key
from docpipe.output.names import pages_label
from docpipe.output.reading import latest_reading
from docpipe.output.record_columns import STATES, record_state
from docpipe.output.review_samples import drawn, record_draw
from docpipe.output.table_cache import FILE, ROW, TableCache
from docpipe.schema.spec import Schema

PER_PAGE = 50
_STATE_COLUMNS = ["valid", "parsed", "complete", "consistent"]
SHOWS = ("todo", "all", "invalid", "incomplete", "inconsistent", "done", "sample")
ORDERS = ("least_certain", "file")
REVIEWED = (str(ReviewAction.SET), str(ReviewAction.ACCEPT))


@dataclass(frozen=True)
class Filter:
    show: str = "todo"
    field: str | None = None
    below: float | None = None
    order: str = "least_certain"

    @classmethod
    def from_query(cls, query: dict[str, str], schema: Schema) -> Filter:
        """The filter a page's query asks for; ValueError saying what is wrong."""
        show, order = query.get("show") or "todo", query.get("order") or "least_certain"
        if show not in SHOWS:
            raise ValueError(f"show must be one of {', '.join(SHOWS)}, not {show!r}")
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
        field = query.get("field") or None
        if field is not None and field not in {f.name for f in schema.fields}:
            raise ValueError(f"{schema.name} has no field {field!r}")
        try:
            below = float(query["below"]) if query.get("below") else None
        except ValueError:
            raise ValueError(f"below must be a number from 0 to 1, not {query['below']!r}") from None
        return cls(show, field, below if field is not None else None, order)

    def query(self, **changes: Any) -> str:
        """This filter as a query string (with `changes`), for links that keep the queue."""
        chosen = replace(self, **{k: v for k, v in changes.items() if k in self.__dataclass_fields__})
        params = {"show": chosen.show, "order": chosen.order}
        if chosen.field:
            params["field"] = chosen.field
            if chosen.below is not None:
                params["below"] = f"{chosen.below:g}"
        params |= {k: str(v) for k, v in changes.items() if k not in self.__dataclass_fields__}
        return urlencode(params)


class Backlog:
    """The queue of one schema's records in `out` (tables shared between schemas: `documents`
    and `corrections` caches are handed in)."""

    def __init__(self, out: Path, schema: Schema, documents: TableCache, corrections: TableCache):
        self.out, self.schema = Path(out), schema
        confidence = [f"{f.name}_confidence" for f in schema.fields]
        self.records = TableCache(out, schema.name, ["doc_id", "work_key", "extracted_at", "valid", "parsed",
                                                     "complete", "consistent", "lowest_confidence", "segment",
                                                     "page_from", "page_to", *confidence])
        self.documents, self.corrections = documents, corrections
        self._base: pd.DataFrame | None = None  # latest records and their names: changes with a run
        self._position: dict[str, int] = {}  # record key (doc_id, or doc_id~segment) -> row of _base
        self._orders: dict[str, np.ndarray] = {}  # sort key -> rows of _base in that order
        self._state: pd.DataFrame | None = None  # reviewed values and done, per document: changes with a review
        self._frame: pd.DataFrame | None = None
        self._lock = threading.RLock()  # views are answered in threads

    def frame(self) -> pd.DataFrame:
        """One row per record (a document's, or each of a sorted file's segments'): key (the record
        key: doc_id, or doc_id~segment), doc_id, name, pages, valid, lowest_confidence, each field's
        confidence, reviewed (values), done, sampled; where its record lies (_file, _row)."""
        with self._lock:
            return self._refreshed()

    def _refreshed(self) -> pd.DataFrame:
        records, documents = self.records.refresh(), self.documents.refresh()
        corrections = self.corrections.refresh()
        if records or documents or self._base is None:
            base = self._read_latest().merge(self._read_names(), on="work_key", how="left")
            base["name"] = base["name"].fillna(base["doc_id"].str[:12])
            cut = base.groupby("doc_id")["doc_id"].transform("size") > 1  # a packet's documents: named by pages
            base.loc[cut, "name"] = [n + pages_label(a, b) for n, a, b in zip(
                base.loc[cut, "name"], base.loc[cut, "page_from"].astype(int), base.loc[cut, "page_to"].astype(int))]
            base["state"] = [STATES.index(record_state(r)) for r in base[_STATE_COLUMNS].to_dict("records")] \
                if len(base) else pd.Series(dtype=int)
            self._base, self._orders = base, {}
            self._position = dict(zip(base["key"], range(len(base)), strict=True))
            self._frame = None
        if corrections or self._state is None:
            self._state, self._frame = self._read_state(), None
        if self._frame is None:
            frame = self._base.copy(deep=False)
            frame["reviewed"] = frame["key"].map(self._state["reviewed"]).fillna(0).astype(int)
            frame["done"] = frame["key"].isin(self._state.index[self._state["done"].fillna(False).astype(bool)])
            frame["sampled"] = frame["key"].isin(self.sampled())
            self._frame = frame
        return self._frame

    def positions(self, wanted: Filter) -> np.ndarray:
        """The rows of `frame()` in the queue, in its order (sorted once per run, not per view)."""
        with self._lock:
            frame = self._refreshed()
            by = "name" if wanted.order == "file" else (
                f"{wanted.field}_confidence" if wanted.field is not None else "lowest_confidence")
            keep = self._mask(frame, wanted)
            order = self._orders.get(by)
            if order is None:  # problems first (not parsed, incomplete, inconsistent), then least certain
                keys = ["name", "key"] if by == "name" else ["state", by, "name"]
                order = self._orders[by] = frame.sort_values(keys, na_position="first", kind="stable").index.to_numpy()
            return order[keep[order]]

    def count(self, wanted: Filter) -> int:
        with self._lock:
            return int(self._mask(self._refreshed(), wanted).sum())

    def queue(self, wanted: Filter) -> pd.DataFrame:
        return self.frame().iloc[self.positions(wanted)]

    def _mask(self, frame: pd.DataFrame, wanted: Filter) -> np.ndarray:
        state = frame["state"].to_numpy()
        keep = {"todo": lambda: ~frame["done"].to_numpy(), "all": lambda: np.ones(len(frame), bool),
                "invalid": lambda: state == STATES.index("not parsed"),
                "incomplete": lambda: state == STATES.index("incomplete"),
                "inconsistent": lambda: state == STATES.index("inconsistent"),
                "done": lambda: frame["done"].to_numpy(), "sample": lambda: frame["sampled"].to_numpy()}[wanted.show]()
        if wanted.field is not None and wanted.below is not None:
            keep = keep & (frame[f"{wanted.field}_confidence"].to_numpy(dtype=float) < wanted.below)
        return keep

    def neighbours(self, wanted: Filter, key: str) -> tuple[str | None, str | None]:
        """The records before and after record `key` in the queue (None at either end; when it is not
        in the queue, none before and the queue's first after)."""
        rows = self.positions(wanted)
        ids = self.frame()["key"]
        where = np.flatnonzero(rows == self._position.get(key, -1))
        if not len(where):
            return None, (str(ids.iloc[rows[0]]) if len(rows) else None)
        at = int(where[0])
        return ((str(ids.iloc[rows[at - 1]]) if at > 0 else None),
                (str(ids.iloc[rows[at + 1]]) if at + 1 < len(rows) else None))

    def entry(self, key: str) -> pd.Series | None:
        """The queue's row of record `key` (a doc_id, or doc_id~segment)."""
        frame = self.frame()
        row = self._position.get(key)
        return None if row is None else frame.iloc[row]

    def extracted(self, key: str) -> dict[str, Any] | None:
        """Record `key` as extracted, whole, read from its file's row group."""
        for _ in range(3):
            entry = self.entry(key)
            if entry is None:
                return None
            row = self.records.read_row(str(entry[FILE]), int(entry[ROW]))
            if row is not None:
                return row
            self.records.refresh()  # compacted since: look again
        return None

    def fixes(self, key: str) -> list[dict[str, Any]]:
        """The latest correction of each of the record's values (corrections.latest_corrections)."""
        arrow = self.corrections.arrow()
        if arrow is None:
            return []
        mine = arrow.filter(pc.equal(arrow["doc_id"], split_key(key)[0])).to_pandas()
        return latest_corrections(mine, self.schema.name).get(key, [])

    def reviewed_record(self, key: str) -> tuple[dict[str, Any], Applied, list[dict[str, Any]]] | None:
        """(record `key` as extracted, with its corrections applied, those corrections)."""
        record = self.extracted(key)
        if record is None:
            return None
        fixes = self.fixes(key)
        return record, apply_to_record(record, fixes, self.schema), fixes

    def sampled(self) -> set[str]:
        return {d["doc_id"] for d in drawn(self.out, self.schema.name)}  # record keys

    def draw_sample(self, count: int, above: float, seed: int | None = None) -> list[str]:
        """Put `count` documents drawn at random among those not yet reviewed whose least certain
        value is at least `above` into the `sample` queue (output/review_samples.py)."""
        frame = self.frame()
        pool = frame[(frame["lowest_confidence"] >= above) & (frame["reviewed"] == 0) & ~frame["sampled"]]
        seed = random.SystemRandom().randrange(2**32) if seed is None else seed
        chosen = sorted(random.Random(seed).sample(sorted(pool["key"]), min(count, len(pool))))
        record_draw(self.out, self.schema.name, chosen, seed, above, len(pool))
        with self._lock:
            self._frame = None
        return chosen

    def _read_latest(self) -> pd.DataFrame:
        arrow = self.records.arrow()
        if arrow is None:
            columns = ["key", "doc_id", "work_key", "extracted_at", "lowest_confidence", "segment", "page_from",
                       "page_to", *_STATE_COLUMNS, FILE, ROW]
            return pd.DataFrame(columns=columns + [f"{f.name}_confidence" for f in self.schema.fields])
        frame = arrow.to_pandas()
        for name in [*_STATE_COLUMNS, "segment", "page_from", "page_to"]:  # records written before them: unknown
            if name not in frame:
                frame[name] = None
        frame[FILE] = frame[FILE].astype(str)
        # each document's latest reading: its record, or each segment a sorting cut it into
        latest = frame.loc[latest_reading(frame)].sort_values("extracted_at", kind="stable").reset_index(drop=True)
        latest["key"] = [record_key(d, s) for d, s in zip(latest["doc_id"], latest["segment"])]
        return latest

    def _read_names(self) -> pd.DataFrame:
        arrow = self.documents.arrow()
        if arrow is None:
            return pd.DataFrame(columns=["work_key", "name", "source_path", "pages"])
        named = [c for c in ("name",) if c in arrow.column_names]
        documents = arrow.select(["work_key", "source_path", "pages", "status", "finished_at", *named]).to_pandas()
        # a skipped duplicate shares its original's work key: name the record after the file read
        documents["read"] = documents["status"] != "skipped"
        documents = documents.sort_values(["read", "finished_at"], kind="stable").drop_duplicates("work_key", keep="last")
        # its path under the input folder (rows written before names were kept: the file's name)
        basename = documents["source_path"].map(lambda p: Path(p).name)
        documents["name"] = documents["name"].fillna(basename) if named else basename
        return documents[["work_key", "name", "source_path", "pages"]]

    def _read_state(self) -> pd.DataFrame:
        arrow = self.corrections.arrow()
        empty = pd.DataFrame({"reviewed": pd.Series(dtype=int), "done": pd.Series(dtype=bool)},
                             index=pd.Index([], dtype=str, name="doc_id"))
        if arrow is None:
            return empty
        columns = [c for c in ("doc_id", "schema", "field", "list_index", "item_field", "action", "accepted",
                               "created_at", "segment") if c in arrow.column_names]
        latest = latest_rows(arrow.select(columns).to_pandas(), self.schema.name)
        if latest.empty:
            return empty
        latest["key"] = [record_key(d, s) for d, s in zip(latest["doc_id"], latest["segment"])]
        values = latest[latest["action"].isin(REVIEWED)].groupby("key").size().rename("reviewed")
        done = latest[latest["action"] == str(ReviewAction.DONE)].groupby("key").size().gt(0).rename("done")
        return pd.concat([values, done], axis=1)  # indexed by record key
