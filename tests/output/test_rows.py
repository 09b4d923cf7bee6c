"""Rows are tied to their tables' Arrow schemas: a misspelt column fails where it is written."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

from docpipe.output import tables
from docpipe.output.rows import ROW_CLASSES, ErrorRow
from docpipe.schema.load import resolve_schema

S, I32, I64, F64, B = pa.string(), pa.int32(), pa.int64(), pa.float64(), pa.bool_()
F32 = pa.float32()
WORDS = pa.list_(pa.struct([("text", S), ("x0", F32), ("y0", F32), ("x1", F32), ("y1", F32)]))
TS = pa.timestamp("us", tz="UTC")

# The table contract users query (README: the table list), written out by hand: a column renamed,
# dropped, added or retyped in the code fails here until this list, and the README, say so too.
CONTRACT = {
    "documents": [
        ("doc_id", S), ("work_key", S), ("run_id", S), ("source_path", S), ("name", S), ("size_bytes", I64),
        ("kind", S), ("pages", I32), ("schema", S), ("status", S), ("budget", I32), ("error_category", S),
        ("error_message", S), ("render_seconds", F64), ("infer_seconds", F64), ("finished_at", TS),
        ("model", S), ("budget_policy", S), ("prompt_version", S), ("task_key", S), ("failed_with", S),
        ("parent_doc_id", S), ("path_in_parent", S), ("email_from", S), ("email_subject", S), ("email_date", S),
        ("email_message_id", S),
    ],
    "pages": [
        ("doc_id", S), ("run_id", S), ("page_no", I32), ("width_pt", F64), ("height_pt", F64), ("rotation", I32),
        ("render_width", I32), ("render_height", I32), ("budget", I32), ("soft_tokens", I32), ("text_layer", S),
        ("words", WORDS),
        ("status", S), ("error_message", S),
    ],
    "generations": [
        ("doc_id", S), ("work_key", S), ("run_id", S), ("schema", S), ("model", S), ("budget", I32),
        ("prompt_version", S), ("instructions", S), ("prompt", S), ("page_nos", pa.list_(I32)), ("constrained", B), ("text", S),
        ("prompt_tokens", I32), ("output_tokens", I32), ("finish_reason", S), ("error", S),
        ("token_logprobs", pa.list_(pa.float32())), ("token_ends", pa.list_(I32)), ("seconds", F64),
        ("created_at", TS), ("segment", I32),
    ],
    "errors": [
        ("run_id", S), ("doc_id", S), ("source_path", S), ("page_no", I32), ("stage", S), ("category", S),
        ("message", S), ("created_at", TS),
    ],
    "runs": [
        ("run_id", S), ("started_at", TS), ("finished_at", TS), ("status", S), ("input_path", S), ("schema", S),
        ("task_key", S),
        ("model", S), ("budget_policy", S), ("config_json", S), ("documents_found", I64),
        ("documents_already_done", I64), ("documents_processed", I64), ("documents_ok", I64),
        ("documents_failed", I64), ("pages", I64), ("records", I64), ("records_valid", I64), ("escalations", I64),
        ("seconds", F64), ("pages_per_second", F64), ("docpipe_version", S),
    ],
    "transcripts": [
        ("doc_id", S), ("work_key", S), ("run_id", S), ("page_no", I32), ("text", S), ("model", S), ("budget", I32),
        ("prompt_version", S), ("prompt_tokens", I32), ("output_tokens", I32), ("finish_reason", S),
        ("truncated", B), ("lowest_token_prob", F64), ("mean_token_prob", F64), ("text_layer_cer", F64),
        ("seconds", F64), ("created_at", TS),
    ],
    "corrections": [
        ("doc_id", S), ("work_key", S), ("schema", S), ("field", S), ("list_index", I32), ("item_field", S),
        ("old_value", S), ("new_value", S), ("accepted", B), ("reviewer", S), ("created_at", TS),
        ("action", S), ("typed_value", S), ("model_confidence", F64), ("model_right", B), ("segment", I32),
    ],
    "segments": [
        ("doc_id", S), ("work_key", S), ("run_id", S), ("name", S), ("segment", I32), ("page_from", I32),
        ("page_to", I32), ("doc_class", S), ("class_confidence", F64), ("class_rule", S), ("schema", S),
        ("record_status", S), ("classify_budget", I32), ("sorting", S), ("model", S), ("created_at", TS),
    ],
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_each_fixed_table_has_exactly_the_contracted_columns(name):
    expected = pa.schema(CONTRACT[name])
    assert tables.FIXED[name] == expected, f"{name}: {tables.FIXED[name]} != {expected}"
    assert [f.name for f in dataclasses.fields(ROW_CLASSES[name])] == expected.names


def test_the_fixed_tables_are_the_contracted_ones():
    assert sorted(tables.FIXED) == sorted(ROW_CLASSES) == sorted(CONTRACT)


def test_a_misspelt_field_of_a_row_class_fails_at_once():
    with pytest.raises(TypeError):
        ErrorRow(run_id="r", doc_id="d", source_path="p", page_no=None, stage="render",
                 categroy="corrupt", message="m", created_at=None)


def test_a_dict_row_with_a_misspelt_or_missing_key_is_refused(tmp_path):
    schema = tables.records_schema(resolve_schema("receipt"))
    row = {name: None for name in schema.names}
    tables.write_rows(tmp_path, "receipt", [row], schema, "ok")  # exactly the columns: written
    typo = dict(row)
    typo["totl"] = typo.pop("total")
    with pytest.raises(ValueError, match=r"unknown \['totl'\], missing \['total'\]"):
        tables.write_rows(tmp_path, "receipt", [typo], schema, "typo")
    with pytest.raises(ValueError, match="missing"):
        tables.write_rows(tmp_path, "errors", [{"run_id": "r"}], tables.ERRORS, "short")
    assert len(list((tmp_path / "records" / "receipt").glob("*.parquet"))) == 1


def test_enum_values_are_written_as_plain_strings(tmp_path):
    from docpipe.core.errors import Category, Stage

    row = ErrorRow(run_id="r", doc_id="d", source_path="p", page_no=None, stage=Stage.RENDER,
                   category=Category.CORRUPT, message="m", created_at=None)
    tables.write_rows(tmp_path, "errors", [row], tables.ERRORS, "t")
    written = tables.read_arrow(tmp_path, "errors")
    assert written.schema.field("stage").type == pa.string()
    assert written.to_pylist()[0]["category"] == "corrupt"
