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


def shown_json_schema(schema: Schema) -> dict:
    """The JSON schema as `schemas check` prints it: each typed kind's pattern (tens of thousands
    of characters of CLDR currency forms and month names) named, not written out; a schema's own
    pattern whole."""
    from docpipe.schema.kinds import RULES

    builtin = {rules.pattern(): kind.value for kind, rules in RULES.items() if rules.pattern}  # as spec.py writes them

    def shown(node: object) -> object:
        if isinstance(node, dict):
            return {key: (f"<docpipe's {builtin[value]} pattern: {len(value):,} characters, "
                          "docpipe/normalize/patterns.py>" if key == "pattern" and value in builtin else shown(value))
                    for key, value in node.items()}
        if isinstance(node, list):
            return [shown(item) for item in node]
        return node

    return shown(schema.json_schema())  # type: ignore[return-value]
