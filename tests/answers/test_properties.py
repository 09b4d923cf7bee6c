"""Property-based tests: arbitrary model text, arbitrary strings and arbitrary cell values never
crash parsing, validation, normalization or the Parquet writers."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docpipe.answers.json_spans import find_json_object, leaf_spans
from docpipe.answers.validate import validate_generation
from docpipe.core.errors import Category
from docpipe.core.types import RawGeneration
from docpipe.normalize import parse_date, parse_integer, parse_money, parse_number
from docpipe.output import tables
from docpipe.output.outcome import record_row
from docpipe.schema.load import resolve_schema
from tests.conftest import examples

INVOICE = resolve_schema("invoice")
CATEGORIES = {str(c) for c in Category}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
fieldish = st.fixed_dictionaries({}, optional={f.name: json_values for f in INVOICE.fields})


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400), st.sampled_from(["stop", "length"]))
def test_any_text_gives_a_record_never_an_exception(text, finish):
    record = validate_generation(INVOICE, RawGeneration("d", text, 1, 1, finish, 0.0))
    assert isinstance(record.valid, bool)
    assert record.valid or record.failure.category in CATEGORIES


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])
@given(fieldish, st.text(max_size=20), st.text(max_size=20))
def test_any_json_answer_types_field_by_field(answer, before, after):
    text = before.replace("{", "") + json.dumps(answer) + after
    record = validate_generation(INVOICE, RawGeneration("d", text, 1, 1, "stop", 0.0, page_nos=(1,)))
    assert set(record.values) == {f.name for f in INVOICE.fields}
    assert record.valid == (not record.field_errors)
    row = record_row(INVOICE, record, "k", "r", "m", 280, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    tables.records_schema(INVOICE).empty_table()  # schema builds
    import pyarrow as pa

    pa.Table.from_pylist([row], schema=tables.records_schema(INVOICE))  # every row fits its Arrow type


@settings(max_examples=examples(200))
@given(json_values)
def test_leaf_spans_point_at_each_value(value):
    text = json.dumps({"v": value})
    found = find_json_object(text)
    assert found is not None
    for path, (start, end) in leaf_spans(text, found[1]).items():
        target = {"v": value}
        for part in path:
            target = target[part]
        if target in ([], {}):
            continue
        assert json.loads(text[start:end]) == target


@settings(max_examples=examples(500))
@given(st.text(max_size=40))
def test_normalizers_type_or_say_why(text):
    for parse in (parse_money, parse_number, parse_integer, parse_date):
        try:
            value = parse(text)
        except ValueError:
            continue
        assert value is None or isinstance(value, int | float | Decimal | dt.date)
        if isinstance(value, float | Decimal):
            assert not math.isnan(value) and math.isfinite(value)


# very long strings: a short random text repeated up to 50,000 times
long_text = st.builds(lambda t, n: t * n, st.text(min_size=1, max_size=8), st.integers(1_000, 50_000))
cells = st.one_of(st.none(), st.text(max_size=50), long_text)
floats = st.one_of(st.none(), st.floats())  # NaN and infinities included


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(cells, cells, floats), min_size=1, max_size=5))
def test_parquet_writers_round_trip_arbitrary_values(tmp_path_factory, values):
    out = tmp_path_factory.mktemp("w")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [{"doc_id": a, "work_key": "k", "run_id": "r", "source_path": b, "size_bytes": 1, "kind": "pdf",
             "pages": 1, "schema": "invoice", "status": "ok", "budget": 280, "error_category": None,
             "error_message": a, "render_seconds": f, "infer_seconds": f, "finished_at": now, "name": b,
             "model": a, "budget_policy": "280", "prompt_version": b, "task_key": "invoice@1", "failed_with": a,
             "parent_doc_id": a, "path_in_parent": b, "email_from": b, "email_subject": b, "email_date": a,
             "email_message_id": b}
            for a, b, f in values]
    tables.write_rows(out, "documents", rows, tables.DOCUMENTS, "t")
    back = tables.read_arrow(out, "documents").to_pylist()
    for wrote, read in zip(rows, back):
        for key, value in wrote.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(read[key])
            else:
                assert read[key] == value
