"""The tables a run over samples/ writes, compared with a golden copy: a refactoring that changes
a column, a type, a value, a status or a work key fails here.

The engine answers with samples/ground_truth.json and gives every character of the answer a
known probability, so typed values, confidences, source pages, statuses and error rows are all
deterministic. Columns that differ on every run (ids, times, durations, absolute paths) are left
out; everything else is compared. Regenerate the golden copy only for an intended change:
`DOCPIPE_WRITE_GOLDEN=1 .venv/bin/pytest tests/test_same_tables.py`.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from docpipe.flows.ingest import ingest
from docpipe.output import tables
from docpipe.run.config import RunConfig
from tests.fakes import ProbableTruthEngine

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

GOLDEN = Path(__file__).parent / "golden" / "samples_tables.json"
VOLATILE = {
    "run_id", "started_at", "finished_at", "created_at", "extracted_at", "render_seconds",
    "infer_seconds", "seconds", "pages_per_second",
}
RUNS = [  # (schema, budget, pages per request)
    ("invoice", None, 1),
    ("receipt", "auto", 4),
]


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _snapshot(out: Path, inputs: Path) -> dict:
    snap = {}
    names = ["documents", "pages", "generations", "errors", "runs"]
    names += sorted(p.name for p in (out / "records").iterdir())
    for name in names:
        folder = tables.table_dir(out, name)
        files = sorted(folder.glob("*.parquet"))
        schemas = {str(pq.read_schema(p).remove_metadata()) for p in files}
        frame = pd.read_parquet(folder)
        rows = []
        for record in frame.to_dict(orient="records"):
            row = {k: _plain(v) for k, v in record.items() if k not in VOLATILE}
            if "source_path" in row and row["source_path"]:
                row["source_path"] = str(Path(row["source_path"]).relative_to(inputs.resolve()))
            if "config_json" in row:
                config = json.loads(row["config_json"])
                config.pop("input"), config.pop("out")
                row["config_json"] = config
            row.pop("input_path", None)
            for column in ("token_logprobs", "token_ends", "words"):  # long lists: count them
                if column in row and row[column] is not None:
                    row[column] = len(row[column])
            rows.append(row)
        rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
        snap[name] = {"schemas": sorted(schemas), "rows": rows}
    return snap


def test_a_run_over_samples_writes_the_same_tables_as_the_golden_copy(samples_copy, tmp_path):
    out = tmp_path / "out"
    engine = ProbableTruthEngine(samples_copy)
    for schema, budget, per_request in RUNS:
        config = RunConfig(
            input=samples_copy, out=out, schema_name=schema, budget=budget,
            pages_per_request=per_request, render_workers=0,
        )
        ingest(config, engine=engine)
    snapshot = _snapshot(out, samples_copy)
    if os.environ.get("DOCPIPE_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert sorted(snapshot) == sorted(golden)
    for name in golden:
        assert snapshot[name]["schemas"] == golden[name]["schemas"], f"{name}: Arrow schema changed"
        assert len(snapshot[name]["rows"]) == len(golden[name]["rows"]), f"{name}: row count changed"
        for got, want in zip(snapshot[name]["rows"], golden[name]["rows"]):
            assert got == want, f"{name}: a row changed"
