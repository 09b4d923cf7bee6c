"""Documents drawn at random for review (`docpipe review --sample N`), kept in OUT/_review/samples.json
(one entry per drawn document: schema, doc_id, when, seed, the threshold and the pool drawn from),
so that the queue offers them and calibration knows which reviewed values are a random sample."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SAMPLES = Path("_review") / "samples.json"


def drawn(out: Path, schema: str | None = None) -> list[dict[str, Any]]:
    path = Path(out) / SAMPLES
    if not path.is_file():
        return []
    entries = json.loads(path.read_text(encoding="utf-8"))
    return [d for d in entries if schema is None or d["schema"] == schema]


def record_draw(out: Path, schema: str, doc_ids: Sequence[str], seed: int, above: float, population: int) -> None:
    """Add drawn documents (the file rewritten whole: temporary file, then renamed into place)."""
    path = Path(out) / SAMPLES
    entries = drawn(out)
    now = dt.datetime.now(dt.UTC).isoformat()
    entries += [{"schema": schema, "doc_id": d, "drawn_at": now, "seed": seed, "above": above,
                 "population": population} for d in doc_ids]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    os.replace(temporary, path)
