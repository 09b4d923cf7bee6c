"""Extraction schemas: one YAML definition yields the prompt, the validator, the JSON schema
(for constrained decoding) and the Arrow schema (for the records table).

Field kinds and what each becomes: one table, schema/kinds.py.

Every value may be null: a field that is not on the document is null, not invented.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any

import pyarrow as pa
from pydantic import BaseModel, BeforeValidator, ConfigDict, create_model

from docpipe.normalize.evidence import DocumentEvidence
from docpipe.schema.box_fields import box_properties
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
    fields: tuple[FieldSpec, ...] = ()  # list of objects
    max_length: int = DEFAULT_MAX_LENGTH  # text: bounds the answer (and a runaway generation)
    max_items: int | None = None  # list

    def definition(self) -> dict[str, Any]:
        """What the field says, as plain data (Schema.definition)."""
        return {"name": self.name, "kind": str(self.kind), "description": self.description,
                "values": list(self.values), "fields": [f.definition() for f in self.fields],
                "max_length": self.max_length, "max_items": self.max_items}

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
        if self.kind == Kind.LIST:
            raise TypeError("lists are parsed item by item by validate.py")
        return RULES[self.kind].parse(value, evidence)

    def arrow_type(self) -> pa.DataType:
        if self.kind == Kind.LIST:
            return pa.list_(pa.struct([pa.field(f.name, f.arrow_type()) for f in self.fields]))
        return RULES[self.kind].arrow

    def annotation(self) -> Any:
        """The pydantic type: the typed value or None, parsed by `parse` before validation."""
        if self.kind == Kind.LIST:
            return list[_model(self.name, self.fields)] | None  # type: ignore[misc]
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
        elif pattern is not None:  # typed kinds are strings as printed, in a pattern the parsers always type
            schema = {"type": ["string", "null"], "pattern": pattern()}
            if defs is not None:
                defs.setdefault(str(self.kind), schema)
                schema = {"$ref": f"#/$defs/{self.kind}"}
        else:  # text
            schema = {"type": ["string", "null"], "maxLength": min(self.max_length, text_cap or self.max_length)}
        if self.description:
            schema["description"] = self.description
        return schema


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
        if boxes and f.kind != Kind.LIST:
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
    source: str = field(default="", compare=False, repr=False)  # the YAML text it was read from

    def definition(self) -> dict[str, Any]:
        """What the schema says, as plain data (its file's comments and layout left out)."""
        return {"name": self.name, "version": self.version, "title": self.title, "description": self.description,
                "budget": self.budget, "fields": [f.definition() for f in self.fields]}

    @property
    def fingerprint(self) -> str:
        """A hash of the definition: two files that define the same schema have the same one."""
        text = json.dumps(self.definition(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

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
