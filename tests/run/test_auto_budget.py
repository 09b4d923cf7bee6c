"""The auto budget policy reads again, at the next budget up, exactly the documents that need it."""

from __future__ import annotations

import pandas as pd
import pytest

from docpipe.core.errors import Category, Failure, Stage
from docpipe.core.types import ExtractedRecord
from docpipe.engines.inprocess.transformers_engine import TransformersEngine
from docpipe.flows.ingest import ingest
from docpipe.ingest.discover import discover
from docpipe.run import pipeline
from docpipe.run.budget_policy import BudgetPolicy
from docpipe.run.config import RunConfig
from docpipe.schema.load import resolve_schema

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server


def test_policy_rules():
    policy = BudgetPolicy.auto(140, 560, 0.6)
    assert policy.budgets == (140, 280, 560) and policy.key == "auto:140-560@0.6"
    sure = ExtractedRecord("d", {}, True, confidence={("a",): 0.9, ("b",): 0.7})
    unsure = ExtractedRecord("d", {}, True, confidence={("a",): 0.9, ("b",): 0.5})
    invalid = ExtractedRecord("d", {}, False, failure=Failure(Stage.VALIDATE, Category.INVALID_OUTPUT, "bad"))
    crashed = ExtractedRecord("d", {}, False, failure=Failure(Stage.INFER, Category.MODEL_ERROR, "oom"))
    assert [policy.needs_more(r) for r in (sure, unsure, invalid, crashed, None)] == [False, True, True, False, False]
    assert not BudgetPolicy.fixed(280).needs_more(invalid)
    with pytest.raises(ValueError):
        BudgetPolicy.auto(560, 140)


@pytest.mark.slow
def test_auto_escalates_exactly_the_unsure_documents(tiny_model, samples_copy, bounded_schemas, tmp_path):
    engine = TransformersEngine(tiny_model, batch_size=8)
    settings = dict(input=samples_copy, schema_name="receipt", schema_dir=bounded_schemas, max_new_tokens=300,
                    max_text_length=6, batch_size=8)
    # what the first round (budget 140) makes of each document
    first = RunConfig(out=tmp_path / "probe", budget=140, **settings)
    run = pipeline.start_run(first, resolve_schema("receipt", bounded_schemas), engine.name)
    items = pipeline.plan(run, discover(samples_copy)).pending
    state = pipeline.process_chunk(run, engine, items)
    lowest = {  # a truncated answer has no confidence (it is invalid, and escalates as such)
        k: a[0].record.lowest_confidence for k, a in state.attempts.items()
        if a[0].record and a[0].record.lowest_confidence is not None
    }
    read = {k for k, a in state.attempts.items() if a[0].record}
    invalid = {k for k in read if not state.attempts[k][0].record.valid}
    threshold = sorted(lowest.values())[len(lowest) // 2]  # half of the documents fall below
    expected = {k for k, v in lowest.items() if v < threshold} | invalid
    assert 0 < len(expected) < len(read)

    out = tmp_path / "out"
    config = RunConfig(out=out, budget="auto", auto_start=140, auto_ceiling=280,
                       confidence_threshold=threshold, **settings)
    result = ingest(config, engine=engine)
    records = pd.read_parquet(out / "records" / "receipt")
    escalated_docs = set(records.loc[records["budget"] == 280, "doc_id"])
    by_key = {i.key: i.source.doc_id for i in items}
    assert escalated_docs == {by_key[k] for k in expected}
    assert set(records.loc[records["budget"] == 140, "doc_id"]) == set(by_key[k] for k in read)
    assert result.stats.escalations == len(expected)
    documents = pd.read_parquet(out / "documents").dropna(subset=["budget"])
    final = dict(zip(documents["doc_id"], documents["budget"]))
    assert {d for d, b in final.items() if b == 280} == escalated_docs
    pages = pd.read_parquet(out / "pages")
    assert set(pages.loc[pages["budget"] == 280, "doc_id"]) == escalated_docs
