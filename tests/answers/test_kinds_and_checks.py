"""The kinds people need (boolean, object, a text pattern, required values) and checks that mean
something (sums, products, dates), from the schema file to the record's columns."""

from __future__ import annotations

import datetime as dt
import json
import math

import jsonschema
import pytest

from docpipe.answers.assess import assess
from docpipe.answers.validate import validate_generation
from docpipe.cli.schema_check import grammar_problem
from docpipe.core.types import Box, RawGeneration
from docpipe.eval.score import score_record
from docpipe.output.outcome import record_row
from docpipe.output.tables import records_schema, write_rows
from docpipe.output.reading import read_table
from docpipe.schema.load import load_schema

SCHEMA = """name: supplier_invoice
version: 1
fields:
  po_number: {kind: text, required: true, pattern: "PO-[0-9]{4,6}", description: The purchase order}
  paid: {kind: boolean, description: Whether it is marked paid}
  supplier:
    kind: object
    description: Who sends the invoice
    fields:
      name: {kind: text, required: true}
      vat_id: {kind: text, pattern: "[A-Z]{2}[0-9A-Z]{8,12}"}
  issued: {kind: date}
  due: {kind: date}
  total: {kind: money, required: true}
  lines:
    kind: list
    fields:
      quantity: {kind: number}
      price: {kind: money}
      amount: {kind: money, required: true}
checks:
  - sum: [lines.amount]
    equals: total
  - each: lines
    product: [quantity, price]
    equals: amount
  - date: due
    on_or_after: issued
"""


@pytest.fixture
def schema(tmp_path):
    path = tmp_path / "supplier_invoice.yaml"
    path.write_text(SCHEMA, encoding="utf-8")
    return load_schema(path)


def _answer(**changes):
    answer = {"po_number": "PO-12345", "paid": True, "supplier": {"name": "Acme GmbH", "vat_id": "DE123456789"},
              "issued": "01.03.2026", "due": "31.03.2026", "total": "30,00 €",
              "lines": [{"quantity": "2", "price": "10,00 €", "amount": "20,00 €"},
                        {"quantity": "1", "price": "10,00 €", "amount": "10,00 €"}]}
    return answer | changes


def _record(schema, answer):
    text = json.dumps(answer, ensure_ascii=False)
    generation = RawGeneration("doc", text, 10, len(text), "stop", 0.0, token_logprobs=tuple([-0.01] * len(text)),
                               token_ends=tuple(range(1, len(text) + 1)), constrained=True, page_nos=(1,))
    return assess(schema, validate_generation(schema, generation))


def test_the_answer_grammar_holds_objects_booleans_and_patterns(schema):
    json_schema = schema.json_schema()
    assert grammar_problem(schema) is None  # llguidance builds it
    validator = jsonschema.Draft202012Validator(json_schema)
    validator.validate(_answer())
    validator.validate(_answer(supplier=None, paid=None))  # an object may be null as a whole
    for bad in (_answer(po_number="PO-12"), _answer(paid="yes"), _answer(supplier={"name": "A"}),
                _answer(supplier={"name": "A", "vat_id": "de1", })):
        assert not validator.is_valid(bad), bad


def test_a_good_record_is_parsed_complete_and_consistent(schema):
    record = _record(schema, _answer())
    assert record.valid and record.complete and record.consistent, (record.field_errors, record.missing,
                                                                    record.failed_checks)
    assert record.values["supplier"] == {"name": "Acme GmbH", "vat_id": "DE123456789"}
    assert record.values["paid"] is True and record.values["issued"] == dt.date(2026, 3, 1)
    assert 0 < record.confidence[("supplier", "vat_id")] <= 1 and ("supplier",) in record.confidence


def test_what_is_missing_and_what_disagrees_is_named_with_by_how_much(schema):
    record = _record(schema, _answer(total="31,50 €", due="28.02.2026", supplier={"name": None, "vat_id": None},
                                     lines=[{"quantity": "2", "price": "10,00 €", "amount": "21,50 €"},
                                            {"quantity": "1", "price": "10,00 €", "amount": None}]))
    assert record.valid and not record.complete and not record.consistent
    assert record.missing == ("supplier.name", "lines[1].amount")
    failed = {f.check: f for f in record.failed_checks}
    assert set(failed) == {"lines: quantity x price = amount", "due on or after issued"}  # the sum has a gap: not judged
    assert failed["lines: quantity x price = amount"].difference == pytest.approx(-1.5)
    assert "lines[0]" in failed["lines: quantity x price = amount"].detail
    assert failed["due on or after issued"].difference == -1.0
    off = _record(schema, _answer(total="31,00 €"))
    assert [f.difference for f in off.failed_checks] == [pytest.approx(-1.0)]


def test_a_value_against_its_pattern_is_not_parsed(schema):
    record = _record(schema, _answer(po_number="PO-1"))  # what an unconstrained answer could say
    assert not record.valid and "po_number" in record.field_errors and record.values["po_number"] is None
    assert "po_number" in record.missing  # required, and nothing kept


def test_a_printed_value_its_page_lacks_is_flagged(schema):
    import dataclasses

    record = _record(schema, _answer())
    boxes = {("total",): Box(None, None, None, None, None, "not_found", 40.0),
             ("supplier", "name"): Box(None, None, None, None, None, "not_found", 30.0),  # text: not judged
             ("issued",): Box(1, 0.1, 0.1, 0.2, 0.2, "text_layer", 100.0),
             ("due",): Box(None, None, None, None, None, "no_text_layer", None)}  # a scan: nothing to say
    assert assess(schema, dataclasses.replace(record, boxes=boxes)).not_on_page == ("total",)


def test_the_records_table_holds_the_object_and_the_verdicts(schema, tmp_path):
    record = _record(schema, _answer(total="31,00 €"))
    row = record_row(schema, record, "wk", "run", "m", 280, dt.datetime.now(dt.UTC))
    write_rows(tmp_path, schema.name, [row], records_schema(schema), "r1")
    read = read_table(tmp_path, schema.name, python_cells=True).iloc[0]
    assert read["supplier"]["vat_id"] == "DE123456789" and 0 < read["supplier"]["vat_id_confidence"] <= 1
    assert read["paid"] is True or read["paid"] == True  # noqa: E712 - numpy's bool
    assert read["parsed"] and read["complete"] and not read["consistent"]
    assert [f["check"] for f in read["checks_failed"]] == ["lines.amount = total"]
    assert math.isclose(read["checks_failed"][0]["difference"], -1.0)


def test_eval_scores_an_object_field_by_field(schema):
    record = _record(schema, _answer())
    truth = {"supplier": {"name": "ACME GmbH", "vat_id": "DE123456789"}, "paid": True}
    scored = {f.field: f for f in score_record(schema, truth, record.values).fields}
    assert scored["supplier"].exact and scored["paid"].exact
    wrong = score_record(schema, {"supplier": {"vat_id": "DE999999999"}}, record.values)
    assert not wrong.fields[0].exact and wrong.fields[0].outcome == "mismatch"
