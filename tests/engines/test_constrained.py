"""Constrained decoding: the tiny random Gemma 4 writes noise, yet every answer has the schema's
shape, parses, validates and types; confidences are probabilities."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import jsonschema
import pytest
from PIL import Image, ImageDraw

from docpipe.answers.validate import validate_generation
from docpipe.core.errors import Category
from docpipe.core.types import ModelRequest
from docpipe.engines.inprocess.transformers_engine import TransformersEngine
from docpipe.schema.load import available_schemas, load_schema, resolve_schema
from docpipe.schema.prompt import build_prompt

TEXT_CAP = 6  # short text values, so a random model closes its strings within the token limit


def _pages():
    shapes = [(672, 912), (336, 1776), (912, 672)]
    pages = []
    for index, (width, height) in enumerate(shapes):
        page = Image.new("RGB", (width, height), "white")
        ImageDraw.Draw(page).text((20, 20), f"TOTAL {index}.50", fill="black")
        pages.append(page)
    return pages


@pytest.mark.parametrize("name", available_schemas())
def test_every_constrained_answer_parses_and_validates(tiny_model, bounded_schemas, name):
    _answers_parse_and_validate(tiny_model, resolve_schema(name, bounded_schemas))


def test_objects_booleans_and_patterns_hold_under_the_grammar(tiny_model, tmp_path):
    from tests.answers.test_kinds_and_checks import SCHEMA

    path = tmp_path / "kinds.yaml"
    path.write_text(SCHEMA.replace("    kind: list\n", "    kind: list\n    max_items: 1\n"), encoding="utf-8")
    schema = load_schema(path)
    assert schema.fields[-1].max_items == 1
    records = _answers_parse_and_validate(tiny_model, schema)
    for record in records:  # whatever the noise, the pattern and the object's shape held
        number, supplier = record.values["po_number"], record.values["supplier"]
        assert number is None or re.fullmatch(r"PO-[0-9]{4,6}", number)
        assert supplier is None or set(supplier) == {"name", "vat_id"}
        assert record.values["paid"] in (True, False, None)


def _answers_parse_and_validate(tiny_model, schema):
    """The tiny model's constrained answers about three pages: each parses, validates and types;
    without the constraint, none does. The finished answers' records."""
    json_schema = schema.json_schema(TEXT_CAP)
    requests = [
        ModelRequest(f"doc{i}", (page,), f"{build_prompt(schema)} #{i}", 70, 500, json.dumps(json_schema), (1,))
        for i, page in enumerate(_pages())
    ]
    engine = TransformersEngine(tiny_model, batch_size=3)
    generations = engine.generate(requests)
    finished = [g for g in generations if g.finish_reason == "stop"]
    assert finished, "every answer hit the token limit: the test would prove nothing"
    for generation in generations:
        record = validate_generation(schema, generation)
        if generation.finish_reason != "stop":
            assert record.failure.category == Category.TRUNCATED
            continue
        assert generation.constrained and generation.error is None
        jsonschema.Draft202012Validator(json_schema).validate(json.loads(generation.text))
        # every value the grammar let through is typed, or reported as ambiguous ('1.727' alone:
        # the grammar allows it on purpose, and typing it needs evidence): never another error
        assert all(why.startswith("ambiguous:") for why in record.field_errors.values()), record.field_errors
        assert len(generation.token_logprobs) == len(generation.token_ends) > 0
        for field in schema.fields:
            confidence = record.confidence[(field.name,)]
            assert 0.0 <= confidence <= 1.0
        assert 0.0 <= record.lowest_confidence <= 1.0

    # the same model without the constraint: noise that never validates
    free = engine.generate([replace(r, json_schema=None, max_new_tokens=60) for r in requests])
    assert not any(validate_generation(schema, g).valid for g in free)
    return [validate_generation(schema, g) for g in finished]


def test_the_tiny_model_writes_a_box_on_the_grid_beside_every_value(tiny_model, bounded_schemas):
    """`--boxes model` through the real grammar: whatever the random model writes, each box is four
    integers from 0 to 1000 (or null), and typed into a model box on the request's page."""
    schema = resolve_schema("receipt", bounded_schemas)
    json_schema = schema.json_schema(TEXT_CAP, boxes=1)
    for name, prop in json_schema["properties"].items():  # a box is required: else a random model may null them all
        if name.endswith("_box_2d"):
            prop["type"] = "array"
    requests = [
        ModelRequest(f"doc{i}", (page,), f"{build_prompt(schema, 1)} #{i}", 70, 700, json.dumps(json_schema), (5,))
        for i, page in enumerate(_pages())
    ]
    generations = TransformersEngine(tiny_model, batch_size=3).generate(requests)
    finished = [g for g in generations if g.finish_reason == "stop"]
    assert finished, "every answer hit the token limit: the test would prove nothing"
    drawn = 0
    for generation in finished:
        answer = json.loads(generation.text)
        jsonschema.Draft202012Validator(json_schema).validate(answer)
        record = validate_generation(schema, generation)
        for field in (f for f in schema.fields if f.kind != "list"):
            box = answer[f"{field.name}_box_2d"]
            assert len(box) == 4 and all(isinstance(c, int) and 0 <= c <= 1000 for c in box)
            drawn += 1
            if record.values[field.name] is not None:
                assert record.boxes[(field.name,)].source == "model" and record.boxes[(field.name,)].page == 5
            else:
                assert (field.name,) not in record.boxes  # a null value has no box
    assert drawn, "no box was written: the test would prove nothing"
