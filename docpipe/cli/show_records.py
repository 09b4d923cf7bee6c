"""`docpipe show OUT SCHEMA`: a schema's records as a person reads them.

At a glance: one line per document, named by its file, with whether its record is valid and its
least certain field, then as many of its values as the terminal fits, each whole or wrapped
(never cut); the fields left out are named, with the command that shows them. `--doc NAME` shows
one document vertically: field, value, as printed, confidence, page and box, list items by index.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from docpipe.output.record_columns import STATES, cell_confidence, field_names, item_fields, record_state
from docpipe.output.names import pages_label

NAME_WIDTH = 40  # a file name longer than this wraps (it is never cut)
VALUE_WIDTH = 18  # each value column at least this wide (wider values wrap)
_FIXED_COLUMNS = 2  # document (its record's problem under it), least certain


def text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):  # a number (money is a Decimal): a count of 2 reads 2, not 2.00
        return f"{int(value):,}" if value.is_integer() else f"{value:,}"
    if isinstance(value, Decimal):  # an amount: two decimals, more only where it has them (1.7270 -> 1.727)
        return f"{value:,.2f}" if value == round(value, 2) else f"{value.normalize():,f}"
    return " ".join(str(value).split())


def _is_list(frame: pd.DataFrame, field: str) -> bool:
    return any(isinstance(v, list | tuple) or hasattr(v, "__array__") for v in frame[field].dropna().head(5))


def _least_certain(fields: list[str], row: pd.Series) -> str:
    scores = {name: row.get(f"{name}_confidence") for name in fields}
    known = {k: v for k, v in scores.items() if v is not None and not (isinstance(v, float) and math.isnan(v))}
    if not known:
        return ""
    name = min(known, key=known.get)
    return f"{name} {known[name]:.2f}"


SHORT = {"not parsed": "unparsed", "incomplete": "missing", "inconsistent": "checks", "ok": "ok"}
WHY = {"not parsed": "a value did not fit its field", "incomplete": "a required value is missing",
       "inconsistent": "a check of the schema failed (--doc FILE says which)"}


def print_overview(console: Console, schema: str, frame: pd.DataFrame, names: dict[str, str], limit: int) -> None:
    """One line per document, records with a problem first (not parsed, incomplete, inconsistent:
    said under the file's name), then least certain first: its file, least certain field, then the
    values that fit."""
    every = field_names(frame.columns)
    lists = [f for f in every if _is_list(frame, f) or frame[f].map(lambda v: isinstance(v, dict)).any()]
    states = frame.apply(record_state, axis=1)
    order = states.map(STATES.index)
    frame = frame.assign(_state=states, _order=order).sort_values(
        ["_order", "lowest_confidence"], na_position="first", kind="stable").head(limit)
    shown_names = [names.get(d, str(d)[:12]) + pages_of(frame, row) for row, d in zip(frame.itertuples(), frame["doc_id"])]
    name_width = min(NAME_WIDTH, max([len("document"), *map(len, shown_names)]))
    fixed = name_width + len("least certain 0.00") + 3 * _FIXED_COLUMNS + 1
    room = console.width - fixed
    fields = [f for f in every if f not in lists]
    fits = []
    for field in fields:
        width = max(VALUE_WIDTH, min(len(field), 24)) + 3  # the column and its border and padding
        if width > room:
            break
        fits.append(field)
        room -= width
    table = Table(title=f"{schema} ({len(frame)} documents)", title_justify="left")
    table.add_column("document", no_wrap=False, overflow="fold", min_width=name_width, max_width=NAME_WIDTH)
    table.add_column("least certain", no_wrap=True)
    for field in fits:
        table.add_column(field, overflow="fold", min_width=VALUE_WIDTH)
    for name, (_, row) in zip(shown_names, frame.iterrows()):
        state = "" if row["_state"] == "ok" else f"\n({SHORT[row['_state']]})"  # a problem: under its name
        table.add_row(name + state, _least_certain(every, row),
                      *(text(row.get(f)) for f in fits))
    console.print(table)
    shown_states = set(frame["_state"])
    if shown_states - {"ok"}:
        console.print("record: " + "; ".join(f"{SHORT[s]}: {WHY[s]}" for s in STATES if s in shown_states and s != "ok"))
    left = [f for f in every if f not in fits]
    if left:
        console.print(f"not shown here: {', '.join(left)}; one document whole: "
                      f"docpipe show OUT {schema} --doc FILE_NAME")


def pages_of(frame: pd.DataFrame, row: Any) -> str:
    """' (pages 3-4)' for a record of one of the documents a sorted file holds (several records of
    its doc_id); '' for a whole file's."""
    if "page_from" not in frame.columns or pd.isna(getattr(row, "page_from", None)):
        return ""
    if (frame["doc_id"] == row.doc_id).sum() < 2:
        return ""
    return pages_label(int(row.page_from), int(row.page_to))


def _page(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(int(value))


def _box(box: Any) -> str:
    if not isinstance(box, dict):
        return ""
    if box.get("page") is None:
        return str(box.get("source") or "")
    text = f"p{int(box['page'])} {box['x0']:.3f},{box['y0']:.3f} {box['x1']:.3f},{box['y1']:.3f} {box['source']}"
    if _present(box.get("score")):
        text += f" {box['score']:.0f}"
    if _present(box.get("model_iou")):  # --boxes model: how far the model's own box agrees
        text += f" (model's box overlaps {box['model_iou']:.2f})"
    return text


def _confidence(value: Any) -> str:
    """A confidence in the four characters its column has: "0.95", "1.00"."""
    return f"{float(value):.2f}" if _present(value) else ""


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def print_document(console: Console, schema: str, frame: pd.DataFrame, row: pd.Series, name: str) -> None:
    """One document vertically: a line per value (a list's items under it, by index), long values
    wrapped, never cut."""
    table = Table(title=f"{name} ({schema}; {record_state(row)})", title_justify="left")
    rows: list[tuple[str, ...]] = []
    for field in field_names(frame.columns):
        value = row.get(field)
        if isinstance(value, dict) and "confidence" in value:  # an object field: its values one by one
            rows.append((field, "", "", _confidence(row.get(f"{field}_confidence")), _page(row.get(f"{field}_page")), ""))
            for sub in item_fields(value):
                rows.append((f"  .{sub}", text(value.get(sub)), text(value.get(f"{sub}_raw")),
                             _confidence(cell_confidence(value, sub)), _page(value.get("page")), _box(value.get(f"{sub}_box"))))
            continue
        if not _is_list(frame, field):
            rows.append((field, text(value), text(row.get(f"{field}_raw")), _confidence(row.get(f"{field}_confidence")),
                         _page(row.get(f"{field}_page")), _box(row.get(f"{field}_box"))))
            continue
        count = 0 if value is None else len(value)
        rows.append((field, f"{count} item{'s' if count != 1 else ''}", "", "", "", ""))
        for index, item in enumerate(value if count else ()):
            for sub in item_fields(item):
                rows.append((f"  [{index}].{sub}", text(item.get(sub)), text(item.get(f"{sub}_raw")),
                             _confidence(cell_confidence(item, sub)), _page(item.get("page")), _box(item.get(f"{sub}_box"))))
    # a field's name is never broken; the other columns wrap their values, never cut them
    table.add_column("field", no_wrap=True, min_width=max(len(r[0]) for r in rows) if rows else 5)
    table.add_column("value", overflow="fold", ratio=3, min_width=12)
    table.add_column("as printed", overflow="fold", ratio=2, min_width=7)
    table.add_column("conf", no_wrap=True, width=4)
    table.add_column("page", no_wrap=True, width=4)
    table.add_column("box", overflow="fold", ratio=2)
    for row_cells in rows:
        table.add_row(*row_cells)
    console.print(table)
    for label, values in (("missing (required)", row.get("missing")), ("not on its page", row.get("not_on_page"))):
        if values is not None and len(values):
            console.print(f"{label}: {', '.join(map(str, values))}", highlight=False)
    for failed in row.get("checks_failed") if row.get("checks_failed") is not None else ():
        console.print(f"check failed: {failed['check']}: {failed['detail']}", highlight=False)


