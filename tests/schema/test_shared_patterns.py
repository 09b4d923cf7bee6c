"""Each typed kind's pattern is written once in a schema's JSON schema (`$defs`, referred to by
`$ref`), not once per field; the language is the one the inlined schema accepts: answers made of
strings each pattern matches, of near misses and of junk get the same verdict from both."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docpipe.normalize.patterns import DATE, INTEGER, MONEY, NUMBER
from docpipe.schema.load import available_schemas, resolve_schema
from tests.conftest import examples

KIND_VALUES = {
    "money": st.from_regex(MONEY, fullmatch=True),
    "date": st.from_regex(DATE, fullmatch=True),
    "number": st.from_regex(NUMBER, fullmatch=True),
    "integer": st.from_regex(INTEGER, fullmatch=True),
}
JUNK = st.one_of(st.none(), st.text(max_size=12), st.integers(), st.sampled_from(["1.234,56 €", "31/02/2026", "12", "-", ""]))


def _value(field):
    if field.kind == "list":
        return st.one_of(st.none(), st.lists(st.fixed_dictionaries({f.name: _value(f) for f in field.fields}), max_size=2))
    if field.kind in KIND_VALUES:
        near = KIND_VALUES[field.kind].map(lambda s: s + "x") | KIND_VALUES[field.kind].map(lambda s: s[1:])
        return st.one_of(KIND_VALUES[field.kind], near, JUNK)
    if field.kind == "enum":
        return st.one_of(st.sampled_from([*field.values, None]), JUNK)
    return JUNK


@pytest.mark.parametrize("name", available_schemas())
def test_each_pattern_is_written_once(name):
    schema = resolve_schema(name)
    shared, inlined = json.dumps(schema.json_schema()), json.dumps(schema.json_schema(shared=False))
    kinds = {f.kind for f in schema.fields} | {s.kind for f in schema.fields for s in f.fields}
    assert shared.count('"pattern"') == len(kinds & set(KIND_VALUES))
    assert len(shared) <= len(inlined)
    if name in ("invoice", "receipt"):  # money in several fields
        assert len(shared) < len(inlined) / 1.7


@pytest.mark.parametrize("name", available_schemas())
def test_both_schemas_accept_the_same_answers(name):
    schema = resolve_schema(name)
    shared = jsonschema.Draft202012Validator(schema.json_schema())
    inlined = jsonschema.Draft202012Validator(schema.json_schema(shared=False))
    answers = st.fixed_dictionaries({f.name: _value(f) for f in schema.fields})
    accepted = []

    # answers drawn from the kinds' regular expressions are slow to make (seconds each on a loaded
    # host): the health check about generation speed is not what this test checks
    @settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(answers)
    def same_verdict(answer):
        verdict = shared.is_valid(answer)
        assert verdict == inlined.is_valid(answer), answer
        accepted.append(verdict)

    same_verdict()
    assert any(accepted) and not all(accepted)  # both kinds of verdict were tried
