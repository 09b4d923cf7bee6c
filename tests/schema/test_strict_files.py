"""Schema files are read strictly: a misspelt or unknown key is refused with the file, the line
and the nearest known key; values stay the text written; a YAML error names the file;
`docpipe schemas check FILE` shows what docpipe makes of a file, without a model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.schema.load import load_schema
from docpipe.schema.yaml_nodes import SchemaFileError

HEAD = "name: supplier_invoice\nversion: 1\nfields:\n"


def _file(tmp_path, body: str, head: str = HEAD):
    path = tmp_path / "supplier_invoice.yaml"
    path.write_text(head + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "said"), [
    ("  po: {kind: text, max_lenght: 5}\n", r"line 4: unknown key 'max_lenght' in field 'po' \(did you mean 'max_length'\?\)"),
    ("  po: {kind: text, requird: true}\n", r"line 4: unknown key 'requird' .*did you mean 'required'"),
    ("  po: {kind: text, required: yes}\n", r"line 4: required of field 'po' must be true or false, not 'yes'"),
    ("  po: {kind: money, pattern: '[0-9]+'}\n", r"'pattern' applies to text fields"),
    ("  po: {kind: text, pattern: '(?<=a)b'}\n", r"not one the constrained decoder reads"),
    ("  po: {kind: text, pattern: '[a-'}\n", r"not a regular expression"),
    ("  po:\n    kind: object\n    fields:\n      inner: {kind: object, fields: {a: {kind: text}}}\n",
     r"line 7: field 'inner' \(object\) cannot be inside a list or an object"),
    ("  po: {kind: txt}\n", r"line 4: field 'po': kind must be one of .*not 'txt'"),
    ("  po: {kind: money, max_length: 5}\n", r"line 4: 'max_length' applies to text fields, not to field 'po' \(money\)"),
    ("  po: {kind: text, max_length: five}\n", r"line 4: max_length of field 'po' must be a whole number, not 'five'"),
    ("  po: {kind: enum}\n", r"line 4: field 'po' is an enum: it needs `values`"),
    ("  po: {kind: enum, values: [a, a]}\n", r"distinct"),
    ("  po: {kind: list}\n", r"field 'po' is a list: it needs `fields`"),
    ("  po:\n    kind: list\n    fields:\n      inner: {kind: list, fields: {a: {kind: text}}}\n",
     r"line 7: field 'inner' \(list\) cannot be inside a list or an object"),
    ("  po: {kind: text}\n  po: {kind: money}\n", r"line 5: 'po' is given twice"),
    ("  po: {description: x}\n", r"line 4: field 'po' needs a kind"),
    ("  po-number: {kind: text}\n", r"line 4: a field's name must be an identifier"),
])
def test_a_mistake_is_refused_with_the_file_the_line_and_what_to_write(tmp_path, body, said):
    path = _file(tmp_path, body)
    with pytest.raises(SchemaFileError, match=said) as refused:
        load_schema(path)
    assert str(refused.value).startswith(str(path))


@pytest.mark.parametrize(("head", "said"), [
    ("name: supplier_invoice\nversoin: 1\nfields:\n", r"line 2: unknown key 'versoin' in the schema \(did you mean 'version'\?\)"),
    ("name: supplier_invoice\nversion: 1.5\nfields:\n", r"line 2: version must be a whole number, not '1.5'"),
    ("name: supplier_invoice\nversion: 1\nbudget: 500\nfields:\n", r"line 3: budget must be one of 70, 140, 280"),
    ("name: documents\nversion: 1\nfields:\n", r"line 1: the schema name 'documents' is the name of one of docpipe's own"),
    ("version: 1\nfields:\n", r"`name` is missing"),
])
def test_the_schemas_own_keys_are_checked_too(tmp_path, head, said):
    with pytest.raises(SchemaFileError, match=said):
        load_schema(_file(tmp_path, "  po: {kind: text}\n", head))


def test_values_stay_the_text_written(tmp_path):
    schema = load_schema(_file(tmp_path, "  paid: {kind: enum, values: [yes, no, n/a, 01, on, 1.50]}\n"
                                         "  po: {kind: text, description: no}\n"))
    assert schema.fields[0].values == ("yes", "no", "n/a", "01", "on", "1.50")  # not True, False, 1, 1.5
    assert schema.fields[1].description == "no"


def test_a_yaml_error_names_the_file_and_line(tmp_path):
    path = _file(tmp_path, "  po: {kind: text\n  total: {kind: money}\n")
    with pytest.raises(SchemaFileError, match=r"supplier_invoice\.yaml, line 5, column \d+: not valid YAML"):
        load_schema(path)
    assert "<unicode string>" not in str(pytest.raises(SchemaFileError, load_schema, path).value)


def test_schemas_check_prints_the_prompt_the_json_schema_and_the_columns(tmp_path):
    path = _file(tmp_path, "  po_number: {kind: text, max_length: 20, description: The purchase order number}\n"
                           "  total: {kind: money}\n")
    result = CliRunner().invoke(app, ["schemas", "check", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "po_number (text): The purchase order number" in result.output  # the instructions
    start = result.output.index("{", result.output.index("the JSON schema"))
    end = result.output.index("the columns of records/supplier_invoice")
    shown = json.loads(result.output[start:result.output.rindex("}", 0, end) + 1])
    assert shown["properties"]["po_number"]["maxLength"] == 20
    money = json.dumps(shown)  # docpipe's own money pattern named, not 35,000 characters of regex
    assert "docpipe's money pattern" in money and len(money) < 2000, money[:300]
    assert "total_raw: string" in result.output and "supplier_invoice@1 is a valid schema" in result.output
    bad = CliRunner().invoke(app, ["schemas", "check", str(_file(tmp_path, "  po: {kind: text, maxlength: 3}\n"))])
    assert bad.exit_code == 2 and "did you mean 'max_length'" in " ".join(bad.output.split())


def test_the_list_of_schemas_still_answers_without_a_subcommand():
    result = CliRunner().invoke(app, ["schemas"])
    assert result.exit_code == 0 and "invoice@" in result.output and "receipt@" in result.output
