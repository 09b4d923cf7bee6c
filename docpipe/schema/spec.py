"""Extraction schemas: one YAML definition yields the prompt, the validator, the JSON schema
(for constrained decoding) and the Arrow schema (for the records table).

Field kinds and what each becomes:

    kind    JSON schema                    Arrow              Python
    text    string                         string             str
    integer integer                        int64              int
    number  number                         float64            float
    money   number                         float64            float (amount, currency apart)
    date    string, format date            date32             datetime.date
    enum    one of `values`                string             str
    list    array of objects (`fields`)    list<struct<...>>  list[dict]

Every value may be null: a field that is not on the document is null, not invented.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

import pyarrow as pa
from pydantic import BaseModel, BeforeValidator, ConfigDict, create_model

from docpipe import normalize
from docpipe.normalize import patterns

KINDS = ("text", "integer", "number", "money", "date", "enum", "list")
RAW_KINDS = frozenset({"money", "date", "number", "integer"})  # typed kinds whose printed text is kept


def _parse_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool | dict | list):
        raise ValueError(f"expected text, got {type(value).__name__}")
    text = str(value).strip()
    return text or None


_PARSERS: dict[str, Callable[[object], Any]] = {
    "text": _parse_text,
    "integer": normalize.parse_integer,
    "number": normalize.parse_number,
    "money": normalize.parse_money,
    "date": normalize.parse_date,
}

_ARROW = {
    "text": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "money": pa.float64(),
    "date": pa.date32(),
    "enum": pa.string(),
}

# Typed kinds are strings as printed, with a pattern that normalize.py always types (patterns.py)
def _json_of(kind: str) -> dict[str, Any]:
    """A scalar kind's JSON schema; the money and date patterns are built from CLDR tables on
    first use, not when this module is imported."""
    if kind == "text":
        return {"type": ["string", "null"]}
    pattern = {"integer": patterns.INTEGER, "number": patterns.NUMBER, "money": patterns.MONEY,
               "date": patterns.DATE}[kind]
    return {"type": ["string", "null"], "pattern": pattern}
DEFAULT_MAX_LENGTH = 200  # characters of a text value, unless the schema says otherwise

_PYTHON = {
    "text": str,
    "integer": int,
    "number": float,
    "money": float,
    "date": dt.date,
    "enum": str,
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    description: str = ""
    values: tuple[str, ...] = ()  # enum
    fields: tuple[FieldSpec, ...] = ()  # list of objects
    max_length: int = DEFAULT_MAX_LENGTH  # text: bounds the answer (and a runaway generation)
    max_items: int | None = None  # list
    def parse(self, value: object) -> Any:
        """The typed value, or ValueError saying why the model's value does not fit."""
        if self.kind == "enum":
            text = _parse_text(value)
            if text is None:
                return None
            match = next((v for v in self.values if v.lower() == text.lower()), None)
            if match is None:
                raise ValueError(f"{text!r} is not one of {list(self.values)}")
            return match
        if self.kind == "list":
            raise TypeError("lists are parsed item by item by validate.py")
        return _PARSERS[self.kind](value)

    def arrow_type(self) -> pa.DataType:
        if self.kind == "list":
            return pa.list_(pa.struct([pa.field(f.name, f.arrow_type()) for f in self.fields]))
        return _ARROW[self.kind]

    def annotation(self) -> Any:
        """The pydantic type: the typed value or None, parsed by `parse` before validation."""
        if self.kind == "list":
            return list[_model(self.name, self.fields)] | None  # type: ignore[misc]
        return Annotated[_PYTHON[self.kind] | None, BeforeValidator(self.parse)]

    def json_schema(self, text_cap: int | None = None) -> dict[str, Any]:
        if self.kind == "enum":
            schema: dict[str, Any] = {"enum": [*self.values, None]}
        elif self.kind == "list":
            schema = {"type": ["array", "null"], "items": _object_schema(self.fields, text_cap)}
            if self.max_items is not None:
                schema["maxItems"] = self.max_items
        else:
            schema = _json_of(self.kind)
            if self.kind == "text":
                schema["maxLength"] = min(self.max_length, text_cap or self.max_length)
        if self.description:
            schema["description"] = self.description
        return schema


def _model(name: str, fields: tuple[FieldSpec, ...]) -> type[BaseModel]:
    """A pydantic model whose fields all default to None and ignore unknown keys."""
    definitions: dict[str, Any] = {f.name: (f.annotation(), None) for f in fields}
    return create_model(  # type: ignore[call-overload]
        name.title().replace("_", ""), __config__=ConfigDict(extra="ignore"), **definitions
    )


def _object_schema(fields: tuple[FieldSpec, ...], text_cap: int | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f.name: f.json_schema(text_cap) for f in fields},
        "required": [f.name for f in fields],
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

    @property
    def key(self) -> str:
        """Name and version, part of the idempotency key: a new version reprocesses."""
        return f"{self.name}@{self.version}"

    def json_schema(self, text_cap: int | None = None) -> dict[str, Any]:
        """The JSON schema of an answer; `text_cap` lowers every text field's maxLength."""
        schema = _object_schema(self.fields, text_cap)
        schema["title"] = self.name
        return schema

    @cached_property
    def model(self) -> type[BaseModel]:
        """The pydantic validator: strings become typed values, anything that does not fit fails."""
        return _model(self.name, self.fields)
