"""`docpipe schemas check`: whether the grammar that constrains a schema's answers can be built."""

from __future__ import annotations

import json

from docpipe.schema.spec import Schema


def grammar_problem(schema: Schema) -> str | None:
    """What llguidance (the constrained decoder) says is wrong with the schema's JSON schema, or
    None: checked without a model or tokenizer, as the engines will compile it."""
    import llguidance

    try:
        grammar = llguidance.LLMatcher.grammar_from_json_schema(json.loads(json.dumps(schema.json_schema())),
                                                               defaults={"whitespace_flexible": False})
    except ValueError as exc:
        return str(exc)
    failed, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)  # (is it an error, what)
    return "; ".join(messages) if failed else None
