"""Multi-page documents: one request up to the page limit (source page from text layers), then
per-page requests merged by records.merge_records."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

from docpipe import read_table
from docpipe.answers.merge import merge_records
from docpipe.answers.validate import validate_generation
from docpipe.core.types import RawGeneration
from docpipe.flows.ingest import ingest
from docpipe.ingest.discover import sha256_file
from docpipe.run.config import RunConfig
from docpipe.schema.load import resolve_schema
from tests.fakes import GroundTruthEngine

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

INVOICE = resolve_schema("invoice")


def _answer(page, body):
    return validate_generation(INVOICE, RawGeneration("d", json.dumps(body), 1, 1, "stop", 0.0, page_nos=(page,)))


def test_merge_takes_single_values_by_confidence_and_concatenates_lists():
    first = _answer(1, {"invoice_number": "A-1", "total": "5.00", "line_items": [{"description": "x", "amount": "1.00"}]})
    second = _answer(2, {"total": "9.00", "line_items": [{"description": "y", "amount": "2.00"}]})
    first.confidence[("total",)], second.confidence[("total",)] = 0.4, 0.9
    merged = merge_records(INVOICE, [first, second])
    assert merged.valid
    assert merged.values["invoice_number"] == "A-1" and merged.pages[("invoice_number",)] == 1
    assert merged.values["total"] == 9.0 and merged.pages[("total",)] == 2
    assert merged.raw[("total",)] == "9.00" and merged.confidence[("total",)] == 0.9
    assert [i["description"] for i in merged.values["line_items"]] == ["x", "y"]
    assert merged.pages[("line_items", 0)] == 1 and merged.pages[("line_items", 1)] == 2
    assert merged.raw[("line_items", 1, "amount")] == "2.00"


def test_merge_keeps_errors_with_their_page():
    good = _answer(1, {"invoice_number": "A-1"})
    bad = _answer(2, {"total": "lots"})
    merged = merge_records(INVOICE, [good, bad])
    assert not merged.valid and merged.values["invoice_number"] == "A-1"
    assert any(key.startswith("page 2: total") for key in merged.field_errors)


def _by_name(samples, out, schema="invoice"):
    records = read_table(out, schema).set_index("doc_id")
    return lambda name: records.loc[sha256_file(samples / name)]


def test_pages_of_a_two_page_pdf_read_together_get_their_page_from_the_text_layer(samples_copy, tmp_path):
    out = tmp_path / "out"
    ingest(RunConfig(input=samples_copy, out=out, schema_name="invoice", pages_per_request=4),
           engine=GroundTruthEngine(samples_copy))
    globex = _by_name(samples_copy, out)("invoice_globex_2p.pdf")
    assert globex["seller_name_page"] == 1
    pages = [item["page"] for item in globex["line_items"]]
    assert pages == [1] * 8 + [2] * 4  # the table continues on page 2
    generations = pd.read_parquet(out / "generations")
    assert sorted(len(p) for p in generations["page_nos"]) == [1, 1, 1, 1, 2, 2]


def test_documents_over_the_page_limit_are_read_page_by_page_and_merged(samples_copy, tmp_path):
    out = tmp_path / "out"
    ingest(RunConfig(input=samples_copy, out=out, schema_name="invoice", pages_per_request=1),
           engine=GroundTruthEngine(samples_copy))
    generations = pd.read_parquet(out / "generations")
    assert sorted(len(p) for p in generations["page_nos"]) == [1] * 8  # 8 pages, 8 requests
    globex = _by_name(samples_copy, out)("invoice_globex_2p.pdf")
    # the fake engine answers the whole invoice for each page: lists concatenate, values agree
    assert len(globex["line_items"]) == 24
    assert [item["page"] for item in globex["line_items"]] == [1] * 12 + [2] * 12
    assert globex["total"] == Decimal("8878.42") and globex["total_page"] == 1
