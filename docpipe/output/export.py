"""A schema's latest records as JSON Lines or CSV, for the systems that load the results.

JSON Lines: one object per record, its columns in the table's order; money (a Decimal) as its exact
text ("1545.80"), dates and timestamps in ISO 8601, list and object fields (line items, boxes)
nested, a missing value null.
CSV: one row per record under a header of the columns; a nested cell (line items, boxes, lists)
holds its JSON text as above, money its exact text, dates ISO 8601, booleans true/false, a missing
value nothing.

The records are those `read_table(out, schema, corrected=...)` gives, taken in Arrow rather than
through pandas: a column of whole numbers with gaps (a field's page) stays whole numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa

from docpipe.output import reading

FORMATS = ("jsonl", "csv")


def latest(out: str | Path, table: str, corrected: bool = False) -> pa.Table | None:
    """The latest record of each document of `table` (None: no records); with `corrected`, the
    reviewers' corrections applied, as read_table does (output/reading.py)."""
    return reading.latest_records(Path(out), table, corrected)


def plain(value: Any) -> Any:
    """A cell as JSON holds it: Decimal as exact text, dates and times ISO 8601, nested values
    nested, NaN null."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")  # never scientific notation: 1E+3 would read as another number
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def rows(arrow: pa.Table) -> Iterator[dict[str, Any]]:
    """Each record as {column: Python value}, a batch at a time."""
    for batch in arrow.to_batches():
        yield from batch.to_pylist()


def write(arrow: pa.Table, stream: TextIO, fmt: str) -> int:
    """Write the records of `arrow` to `stream` as `fmt` (jsonl | csv); the number written."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    count = 0
    if fmt == "jsonl":
        for row in rows(arrow):
            stream.write(json.dumps(plain(row), ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(arrow.column_names)
    for row in rows(arrow):
        writer.writerow([csv_cell(row[name]) for name in arrow.column_names])
        count += 1
    return count


def csv_cell(value: Any) -> str:
    """One CSV cell: nested values as JSON text, the rest as their exact text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(plain(value), ensure_ascii=False)
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(value)
    return str(plain(value))
