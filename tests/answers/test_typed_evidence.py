"""An answer's values are typed with what the rest of the answer says (decimal mark, currency,
day/month order); stored answers are retyped by revalidate with the same rules."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow.parquet as pq

from docpipe.answers.validate import answer_evidence, validate_generation
from docpipe.core.types import RawGeneration
from docpipe.output import tables
from docpipe.output import reading
from docpipe.run.revalidate import revalidate
from docpipe.schema.load import resolve_schema


def _gen(answer: dict, doc: str = "doc") -> RawGeneration:
    return RawGeneration(doc, json.dumps(answer, ensure_ascii=False), 10, 5, "stop", 0.1, page_nos=(1,))


def test_a_receipt_in_rupiah_is_typed_in_whole_rupiah():
    answer = {"date": "19 april 2014", "total": "Rp 221.000", "tax": "20.091",
              "items": [{"description": "Nasi", "quantity": "1", "amount": "129.900"},
                        {"description": "Teh", "quantity": "2", "amount": "1.727"}]}
    record = validate_generation(resolve_schema("receipt"), _gen(answer))
    assert record.valid, record.field_errors
    assert record.values["total"] == 221000.0 and record.values["tax"] == 20091.0
    assert [i["amount"] for i in record.values["items"]] == [129900.0, 1727.0]
    assert record.values["date"] == dt.date(2014, 4, 19)
    assert record.raw[("total",)] == "Rp 221.000"  # the printed text is kept


def test_an_amount_nothing_settles_is_null_with_an_error_and_the_rest_is_kept():
    record = validate_generation(resolve_schema("receipt"), _gen({"total": "1.727", "tax": "0.50"}))
    # '0.50' shows a decimal point: '1.727' is 1.727 here
    assert record.values["total"] == Decimal("1.727")
    alone = validate_generation(resolve_schema("receipt"), _gen({"total": "1.727", "date": "25/12/2018"}))
    assert alone.values["total"] is None and alone.values["date"] == dt.date(2018, 12, 25)
    assert "ambiguous" in alone.field_errors["total"] and not alone.valid
    assert alone.raw[("total",)] == "1.727"


def test_a_us_invoice_reads_its_dates_month_first_and_records_why():
    schema = resolve_schema("invoice")
    answer = {"invoice_date": "04/05/2026", "due_date": "06/04/2026", "currency": "USD", "total": "$1,234.50"}
    record = validate_generation(schema, _gen(answer))
    assert record.values["invoice_date"] == dt.date(2026, 4, 5)
    assert record.values["due_date"] == dt.date(2026, 6, 4)
    evidence = answer_evidence(schema, answer)
    assert (evidence.date_order, evidence.date_order_rule) == ("MDY", "currency: USD")
    # the run's setting wins over the evidence
    assert validate_generation(schema, _gen(answer), date_order="DMY").values["invoice_date"] == dt.date(2026, 5, 4)


def test_revalidate_retypes_stored_answers_with_the_new_rules(tmp_path):
    out = tmp_path / "out"
    schema = resolve_schema("receipt")
    generation = _gen({"date": "04/05/2026", "total": "Rp 221.000"}, doc="d1")
    now = dt.datetime.now(dt.UTC)
    row = {
        "doc_id": "d1", "work_key": "k1", "run_id": "r1", "schema": schema.name, "model": "tiny-random",
        "budget": 70, "prompt_version": "p", "instructions": "", "prompt": "", "page_nos": [1], "constrained": True,
        "text": generation.text, "prompt_tokens": 10, "output_tokens": 5, "finish_reason": "stop",
        "error": None, "token_logprobs": [], "token_ends": [], "seconds": 0.1, "created_at": now, "segment": None,
    }
    tables.write_rows(out, "generations", [row], tables.GENERATIONS, "r1")
    result = revalidate(out)
    assert result.records == {"receipt": 1} and result.valid == {"receipt": 1}
    (path,) = (out / "records" / "receipt").glob("*.parquet")
    (record,) = pq.read_table(path).to_pylist()
    assert record["total"] == 221000.0 and record["date"] == dt.date(2026, 5, 4)  # IDR: day first
    revalidate(out, date_order="MDY")
    latest = reading.read_table(out, "receipt")
    assert latest["total"].tolist() == [221000.0]
    assert latest["date"].tolist() == [dt.date(2026, 4, 5)]
