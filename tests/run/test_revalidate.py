"""`docpipe revalidate` rebuilds the records of a run from its stored answers, without a model."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.engines.inprocess.transformers_engine import TransformersEngine
from docpipe.flows.ingest import ingest
from docpipe.run.config import RunConfig

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

VOLATILE = {"run_id", "extracted_at"}


def _rows(path):
    rows = pq.read_table(path).to_pylist()
    return sorted(({k: v for k, v in r.items() if k not in VOLATILE} for r in rows), key=lambda r: (r["doc_id"], r["budget"]))


@pytest.mark.slow
def test_revalidate_reproduces_the_records_of_a_run(tiny_model, samples_copy, bounded_schemas, tmp_path):
    out = tmp_path / "out"
    config = RunConfig(input=samples_copy, out=out, schema_name="invoice", schema_dir=bounded_schemas, budget=70,
                       max_new_tokens=500, max_text_length=6, pages_per_request=1)
    ingest(config, engine=TransformersEngine(tiny_model, batch_size=8))
    (original,) = (out / "records" / "invoice").glob("*.parquet")
    result = CliRunner().invoke(app, ["revalidate", str(out)])
    assert result.exit_code == 0, result.output
    rebuilt = [p for p in (out / "records" / "invoice").glob("*.parquet") if p != original]
    assert len(rebuilt) == 1
    before, after = _rows(original), _rows(rebuilt[0])
    assert len(before) == 6
    # something to compare beyond nulls: typed values, confidences and pages
    assert any(r["lowest_confidence"] is not None for r in before)  # answers that ended and parsed
    assert any(r["invoice_date"] or r["total"] is not None for r in before)
    assert any(v is not None for r in before for k, v in r.items() if k.endswith("_confidence"))
    assert after == before


@pytest.mark.slow
def test_a_run_with_the_users_own_schema_file_can_be_revalidated(samples_copy, tmp_path):
    from tests.fakes import ConstantEngine

    schema = tmp_path / "my_order.yaml"
    schema.write_text("name: purchase_order\nversion: 1\nfields:\n  total: {kind: money}\n"
                      "  order_date: {kind: date}\n", encoding="utf-8")
    out = tmp_path / "out"
    answer = '{"total": "1.234,50 EUR", "order_date": "12/03/2026"}'
    ingest(RunConfig(input=samples_copy, out=out, schema_name=str(schema), budget=70, render_workers=0),
           engine=ConstantEngine(answer))
    (original,) = (out / "records" / "purchase_order").glob("*.parquet")

    # the folder keeps the schema it was read with: no path needed
    known = CliRunner().invoke(app, ["revalidate", str(out)])
    assert known.exit_code == 0, known.output
    (rebuilt,) = [p for p in (out / "records" / "purchase_order").glob("*.parquet") if p != original]
    before, after = _rows(original), _rows(rebuilt)
    assert len(before) == 6 and all(r["total"] == 1234.5 for r in before)
    assert after == before

    shutil.rmtree(out / "_schemas")  # a folder written before docpipe kept its schemas
    missing = CliRunner().invoke(app, ["revalidate", str(out)])
    message = " ".join(missing.output.split())
    assert missing.exit_code == 2 and "'purchase_order'" in message and "--schema" in message, message
    assert "Traceback" not in message
    result = CliRunner().invoke(app, ["revalidate", str(out), "--schema", str(schema)])
    assert result.exit_code == 0, result.output
