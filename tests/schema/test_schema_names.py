"""A schema's name becomes the records table's folder: one that is a fixed table's name, or not an
identifier (a path), is refused when the schema is loaded, with one message naming the file."""

from __future__ import annotations

import pytest

from docpipe.output import tables
from docpipe.schema.load import RESERVED_NAMES, load_schema

FIELDS = "fields:\n  total: {kind: money}\n"


@pytest.mark.parametrize("name", ["documents", "transcripts", "runs", "../../x", "a/b", "my schema", "", "1st"])
def test_a_bad_schema_name_is_refused_naming_the_file(tmp_path, name):
    path = tmp_path / "mine.yaml"
    path.write_text(f"name: {name!r}\nversion: 1\n" + FIELDS, encoding="utf-8")
    with pytest.raises(ValueError, match=r"mine\.yaml, line 1: .*name") as caught:
        load_schema(path)
    assert repr(name) in str(caught.value)


def test_an_identifier_is_a_good_name(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: purchase_order_v2\nversion: 1\n" + FIELDS, encoding="utf-8")
    assert load_schema(path).name == "purchase_order_v2"


def test_every_fixed_table_name_is_reserved():
    assert set(tables.FIXED) <= RESERVED_NAMES
