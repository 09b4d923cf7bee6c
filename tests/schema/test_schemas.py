"""Each schema's JSON schema, pydantic validator and Arrow schema describe the same record."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import jsonschema
import pyarrow as pa
import pytest

from docpipe.answers.validate import validate_generation
from docpipe.core.types import RawGeneration
from docpipe.normalize import patterns
from docpipe.output.outcome import record_row
from docpipe.output.tables import records_schema
from docpipe.schema.load import available_schemas, resolve_schema
from docpipe.schema.prompt import build_prompt
from docpipe.schema.spec import RAW_KINDS, FieldSpec

SCHEMAS = available_schemas()

# kind -> (JSON types allowed besides null, Arrow type, an example value as printed, its typed
# value, the pattern the grammar enforces). Typed kinds are transcribed as printed.
EXPECTED = {
    "text": ({"string"}, pa.string(), "ACME-1", "ACME-1", None),
    "integer": ({"string"}, pa.int64(), "1,200", 1200, patterns.INTEGER),
    "number": ({"string"}, pa.float64(), "2,5", 2.5, patterns.NUMBER),
    "money": ({"string"}, pa.decimal128(38, 4), "1.234,56 €", Decimal("1234.56"), patterns.MONEY),
    "date": ({"string"}, pa.date32(), "4 March 2026", dt.date(2026, 3, 4), patterns.DATE),
}


def test_the_three_schemas_ship():
    assert {"invoice", "receipt", "form"} <= set(SCHEMAS)


def _example(fields: tuple[FieldSpec, ...]) -> tuple[dict, dict]:
    """A JSON answer using every field, and the typed record it must become."""
    answer, typed = {}, {}
    for f in fields:
        if f.kind == "list":
            item, typed_item = _example(f.fields)
            answer[f.name], typed[f.name] = [item, item], [typed_item, typed_item]
        elif f.kind == "enum":
            answer[f.name] = typed[f.name] = f.values[-1]
        else:
            answer[f.name], typed[f.name] = EXPECTED[f.kind][2:4]
    return answer, typed


def _check_agreement(fields, json_props, arrow_struct_fields, defs=None):
    assert list(json_props) == [f.name for f in fields] == [a.name for a in arrow_struct_fields]
    for f, arrow_field in zip(fields, arrow_struct_fields):
        prop = json_props[f.name]
        if "$ref" in prop:  # a pattern written once, under $defs
            prop = {**defs[prop["$ref"].removeprefix("#/$defs/")], **{k: v for k, v in prop.items() if k != "$ref"}}
        if f.kind == "list":
            assert prop["type"] == ["array", "null"]
            assert pa.types.is_list(arrow_field.type)
            struct = arrow_field.type.value_type
            _check_agreement(f.fields, prop["items"]["properties"], list(struct), defs)
        elif f.kind == "enum":
            assert prop["enum"] == [*f.values, None]
            assert arrow_field.type == pa.string()
        else:
            json_types, arrow_type, _, _, pattern = EXPECTED[f.kind]
            assert set(prop["type"]) == json_types | {"null"}
            assert arrow_field.type == arrow_type
            assert prop.get("pattern") == pattern
            if f.kind == "text":
                assert prop["maxLength"] == f.max_length


@pytest.mark.parametrize("name", SCHEMAS)
def test_json_schema_and_arrow_schema_agree(name):
    schema = resolve_schema(name)
    json_schema = schema.json_schema()
    jsonschema.Draft202012Validator.check_schema(json_schema)
    assert json_schema["required"] == [f.name for f in schema.fields]
    assert json_schema["additionalProperties"] is False
    _check_agreement(schema.fields, json_schema["properties"], [pa.field(f.name, f.arrow_type()) for f in schema.fields],
                     json_schema.get("$defs"))


@pytest.mark.parametrize("name", SCHEMAS)
def test_an_answer_valid_for_the_json_schema_types_into_the_arrow_schema(name):
    schema = resolve_schema(name)
    answer, typed = _example(schema.fields)
    jsonschema.Draft202012Validator(
        schema.json_schema(), format_checker=jsonschema.FormatChecker()
    ).validate(answer)
    assert schema.model.model_validate(answer).model_dump() == typed  # the pydantic validator
    generation = RawGeneration("d", json.dumps(answer), 10, 10, "stop", 0.1, page_nos=(1,))
    record = validate_generation(schema, generation)
    assert record.valid and record.values == typed
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    row = record_row(schema, record, "k", "r", "m", 280, now)
    stored = pa.Table.from_pylist([row], schema=records_schema(schema)).to_pylist()[0]
    for field in schema.fields:
        if field.kind == "list":
            for item, expected in zip(stored[field.name], typed[field.name]):
                assert {k: item[k] for k in expected} == expected
                assert item["page"] == 1
                for sub in field.fields:
                    if sub.kind in RAW_KINDS:
                        assert item[f"{sub.name}_raw"] == EXPECTED[sub.kind][2]
        else:
            assert stored[field.name] == typed[field.name]
            assert stored[f"{field.name}_page"] == 1
            if field.kind in RAW_KINDS:
                assert stored[f"{field.name}_raw"] == EXPECTED[field.kind][2]


@pytest.mark.parametrize("name", SCHEMAS)
def test_all_null_answer_is_valid_everywhere(name):
    schema = resolve_schema(name)
    answer = {f.name: None for f in schema.fields}
    jsonschema.Draft202012Validator(schema.json_schema()).validate(answer)
    assert schema.model.model_validate(answer).model_dump() == answer


@pytest.mark.parametrize("name", SCHEMAS)
def test_prompt_names_every_field(name):
    schema = resolve_schema(name)
    prompt = build_prompt(schema)
    def names(fields):
        for f in fields:
            yield f.name
            yield from names(f.fields)
    for field_name in names(schema.fields):
        assert field_name in prompt
    assert "JSON" in prompt


def test_unknown_schema_names_the_known_ones():
    with pytest.raises(ValueError, match="known schemas are .*invoice"):
        resolve_schema("no-such-schema")


def test_bad_schema_definition_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nversion: 1\nfields:\n  amount: {kind: currency}\n")
    with pytest.raises(ValueError, match="kind must be one of"):
        resolve_schema(str(bad))
