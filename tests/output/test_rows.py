"""Rows are tied to their tables' Arrow schemas: a misspelt column fails where it is written."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

from docpipe.output import tables
from docpipe.output.rows import ROW_CLASSES, ErrorRow, arrow_schema
from docpipe.schema.load import resolve_schema


def test_each_fixed_table_schema_is_its_row_class():
    for name, row_class in ROW_CLASSES.items():
        assert tables.FIXED[name] == arrow_schema(row_class)
        assert [f.name for f in dataclasses.fields(row_class)] == tables.FIXED[name].names


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
