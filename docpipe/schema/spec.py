"""Extraction schemas: one YAML definition yields the prompt, the validator, the JSON schema
(for constrained decoding) and the Arrow schema (for the records table).

Field kinds and what each becomes: one table, schema/kinds.py.

Every value may be null: a field that is not on the document is null, not invented.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any

import pyarrow as pa
from pydantic import BaseModel, BeforeValidator, ConfigDict, create_model

from docpipe.normalize.evidence import DocumentEvidence
from docpipe.schema.box_fields import box_properties
from docpipe.schema.checks import Check
from docpipe.schema.kinds import RULES, Kind, parse_text

KINDS = tuple(Kind)
RAW_KINDS = frozenset(k for k in Kind if RULES[k].printed)  # typed kinds whose printed text is kept
DEFAULT_MAX_LENGTH = 200  # characters of a text value, unless the schema says otherwise


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind
    description: str = ""
    values: tuple[str, ...] = ()  # enum
    fields: tuple[FieldSpec, ...] = ()  # a list's items, an object's fields
    max_length: int = DEFAULT_MAX_LENGTH  # text: bounds the answer (and a runaway generation)
    max_items: int | None = None  # list
    required: bool = False  # a record without this value is incomplete
    pattern: str | None = None  # text: the value must match it whole (the grammar and the validator enforce it)

    def definition(self) -> dict[str, Any]:
        """What the field asks of the model and how its value is typed, as plain data
        (Schema.definition; `required` is a rule on records: Schema.rules)."""
        return {"name": self.name, "kind": str(self.kind), "description": self.description,
                "values": list(self.values), "fields": [f.definition() for f in self.fields],
                "max_length": self.max_length, "max_items": self.max_items, "pattern": self.pattern}

    def members(self, value: Any) -> list[tuple[tuple, dict[str, Any]]]:
        """The groups of fields a value of this field holds, each with its path: a list's items
        ((name, index), item), an object's one ((name,), value); none for other kinds."""
        if self.kind == Kind.LIST:
            return [((self.name, i), item) for i, item in enumerate(value or []) if isinstance(item, dict)]
        if self.kind == Kind.OBJECT and isinstance(value, dict):
            return [((self.name,), value)]
        return []

    def parse(self, value: object, evidence: DocumentEvidence | None = None) -> Any:
        """The typed value, or ValueError saying why the model's value does not fit; `evidence`:
        what the rest of the document says about how it prints values."""
        if self.kind == Kind.ENUM:
            text = parse_text(value)
            if text is None:
                return None
            match = next((v for v in self.values if v.lower() == text.lower()), None)
            if match is None:
                raise ValueError(f"{text!r} is not one of {list(self.values)}")
            return match
        if self.kind.is_group:
            raise TypeError("lists and objects are parsed field by field by validate.py")
        typed = RULES[self.kind].parse(value, evidence)
        if self.pattern is not None and typed is not None and not re.fullmatch(self.pattern, typed):
            raise ValueError(f"{typed!r} does not match the pattern {self.pattern!r}")
        return typed

    def arrow_type(self) -> pa.DataType:
        if self.kind.is_group:
            struct = pa.struct([pa.field(f.name, f.arrow_type()) for f in self.fields])
            return pa.list_(struct) if self.kind == Kind.LIST else struct
        return RULES[self.kind].arrow

    def annotation(self) -> Any:
        """The pydantic type: the typed value or None, parsed by `parse` before validation."""
        if self.kind == Kind.LIST:
            return list[_model(self.name, self.fields)] | None  # type: ignore[misc]
        if self.kind == Kind.OBJECT:
            return _model(self.name, self.fields) | None  # type: ignore[operator]
        return Annotated[RULES[self.kind].python | None, BeforeValidator(self.parse)]

    def json_schema(self, text_cap: int | None = None, boxes: int = 0,
                    defs: dict[str, Any] | None = None) -> dict[str, Any]:
        """This field's JSON schema; with `defs`, a typed kind's pattern is written there once
        and referred to (`$ref`), not inlined in every field of its kind."""
        pattern = RULES[self.kind].pattern
        if self.kind == Kind.ENUM:
            schema: dict[str, Any] = {"enum": [*self.values, None]}
        elif self.kind == Kind.LIST:
            schema = {"type": ["array", "null"], "items": _object_schema(self.fields, text_cap, boxes, defs)}
            if self.max_items is not None:
                schema["maxItems"] = self.max_items
        elif self.kind == Kind.OBJECT:
            schema = _object_schema(self.fields, text_cap, boxes, defs) | {"type": ["object", "null"]}
        elif self.kind == Kind.BOOLEAN:
            schema = {"type": ["boolean", "null"]}
        elif pattern is not None:  # typed kinds are strings as printed, in a pattern the parsers always type
            schema = {"type": ["string", "null"], "pattern": pattern()}
            if defs is not None:
                defs.setdefault(str(self.kind), schema)
                schema = {"$ref": f"#/$defs/{self.kind}"}
        else:  # text
            schema = {"type": ["string", "null"], "maxLength": min(self.max_length, text_cap or self.max_length)}
            if self.pattern is not None:
                schema["pattern"] = f"^(?:{self.pattern})$"
        if self.description:
            schema["description"] = self.description
        return schema


def _hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _required(fields: tuple[FieldSpec, ...], prefix: str = "") -> list[str]:
    out = []
    for f in fields:
        if f.required:
            out.append(prefix + f.name)
        out += _required(f.fields, f"{prefix}{f.name}.")
    return out


def _model(name: str, fields: tuple[FieldSpec, ...]) -> type[BaseModel]:
    """A pydantic model whose fields all default to None and ignore unknown keys."""
    definitions: dict[str, Any] = {f.name: (f.annotation(), None) for f in fields}
    return create_model(  # type: ignore[call-overload]
        name.title().replace("_", ""), __config__=ConfigDict(extra="ignore"), **definitions
    )


def _object_schema(fields: tuple[FieldSpec, ...], text_cap: int | None = None, boxes: int = 0,
                   defs: dict[str, Any] | None = None) -> dict[str, Any]:
    """`boxes`: the number of page images when each value is to be followed by its box
    (schema/box_fields.py), 0 for none."""
    properties: dict[str, Any] = {}
    for f in fields:
        properties[f.name] = f.json_schema(text_cap, boxes, defs)
        if boxes and not f.kind.is_group:
            properties |= box_properties(f.name, boxes)
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class Schema:
    name: str
    version: int
    title: str
    description: str
    fields: tuple[FieldSpec, ...]
    budget: int | None = None  # default visual budget for this kind of document
    checks: tuple[Check, ...] = ()  # how the record's values must agree (schema/checks.py)
    source: str = field(default="", compare=False, repr=False)  # the YAML text it was read from
    # how to tell this kind of document from the others, for sorting a mixed folder (docpipe/classify):
    # not part of the definition (extraction does not read it); the sorting's own key holds it
    hint: str = field(default="", compare=False)

    def definition(self) -> dict[str, Any]:
        """What the schema asks of the model and how values are typed, as plain data (its file's
        comments and layout left out; the rules on records apart: `rules`)."""
        return {"name": self.name, "version": self.version, "title": self.title, "description": self.description,
                "budget": self.budget, "fields": [f.definition() for f in self.fields]}

    def rules(self) -> dict[str, Any]:
        """What a record must satisfy: its required values and its checks. They may change
        without a new version (`docpipe revalidate` applies them)."""
        return {"required": _required(self.fields), "checks": [c.definition() for c in self.checks]}

    @property
    def fingerprint(self) -> str:
        """A hash of the definition: two files that define the same schema have the same one."""
        return _hash(self.definition())

    @property
    def rules_fingerprint(self) -> str:
        return _hash(self.rules())

    @property
    def key(self) -> str:
        """Name and version, part of the idempotency key: a new version reprocesses."""
        return f"{self.name}@{self.version}"

    def json_schema(self, text_cap: int | None = None, boxes: int = 0, shared: bool = True) -> dict[str, Any]:
        """The JSON schema of an answer; `text_cap` lowers every text field's maxLength; `boxes`:
        the number of page images in the request when every value comes with its box. `shared`:
        each typed kind's pattern written once under `$defs` and referred to by its fields (a
        request carries, and a server compiles, each pattern once); else inlined in every field."""
        uses = Counter(f.kind for top in self.fields for f in (top, *top.fields) if RULES[f.kind].pattern)
        repeated = any(count > 1 for count in uses.values())  # each kind used once: inlined is smaller
        defs: dict[str, Any] | None = {} if shared and repeated else None
        schema = _object_schema(self.fields, text_cap, boxes, defs)
        if defs:
            schema["$defs"] = defs
        schema["title"] = self.name
        return schema

    @cached_property
    def model(self) -> type[BaseModel]:
        """The pydantic validator: strings become typed values, anything that does not fit fails."""
        return _model(self.name, self.fields)
