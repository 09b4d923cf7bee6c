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
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, create_model

from docpipe import normalize, patterns
from docpipe.budget import check_budget

KINDS = ("text", "integer", "number", "money", "date", "enum", "list")


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
_JSON = {
    "text": {"type": ["string", "null"]},
    "integer": {"type": ["string", "null"], "pattern": patterns.INTEGER},
    "number": {"type": ["string", "null"], "pattern": patterns.NUMBER},
    "money": {"type": ["string", "null"], "pattern": patterns.MONEY},
    "date": {"type": ["string", "null"], "pattern": patterns.DATE},
}
DEFAULT_MAX_LENGTH = 200  # characters of a text value, unless the schema says otherwise

_PYTHON = {
    "text": str,
    "integer": int,
    "number": float,
    "money": float,
    "date": dt.date,
    "enum": str,
}

_PROMPT_KIND = {
    "text": "text",
    "integer": "whole number as printed",
    "number": "number as printed",
    "money": "amount exactly as printed, with its currency sign or code if any",
    "date": "date exactly as printed",
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
            schema = dict(_JSON[self.kind])
            if self.kind == "text":
                schema["maxLength"] = min(self.max_length, text_cap or self.max_length)
        if self.description:
            schema["description"] = self.description
        return schema

    def prompt_line(self, indent: str = "") -> str:
        if self.kind == "enum":
            kind = "one of " + ", ".join(self.values)
        elif self.kind == "list":
            kind = "list of objects, each with: " + ", ".join(f.name for f in self.fields)
        else:
            kind = _PROMPT_KIND[self.kind]
        line = f"{indent}- {self.name} ({kind}): {self.description}".rstrip(": ")
        children = [f.prompt_line(indent + "  ") for f in self.fields]
        return "\n".join([line, *children])


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

    def arrow_fields(self) -> list[pa.Field]:
        return [pa.field(f.name, f.arrow_type()) for f in self.fields]

    @cached_property
    def skeleton(self) -> str:
        """An example of the answer's shape, with null in every value."""
        def shape(fields: tuple[FieldSpec, ...]) -> dict[str, Any]:
            return {f.name: [shape(f.fields)] if f.kind == "list" else None for f in fields}
        return json.dumps(shape(self.fields))

    def prompt(self) -> str:
        lines = "\n".join(f.prompt_line() for f in self.fields)
        return (
            f"Read this {self.title} ({self.description}) and extract the fields below.\n"
            f"{lines}\n"
            "Answer with one JSON object and nothing else, with exactly these keys. "
            "Use null for a value that is not on the document; never guess.\n"
            f"Shape: {self.skeleton}"
        )


def _field(name: str, spec: dict[str, Any]) -> FieldSpec:
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"field {name!r}: kind must be one of {KINDS}, got {kind!r}")
    children = tuple(_field(n, s) for n, s in (spec.get("fields") or {}).items())
    if kind == "list" and not children:
        raise ValueError(f"field {name!r}: a list needs `fields`")
    if kind == "enum" and not spec.get("values"):
        raise ValueError(f"field {name!r}: an enum needs `values`")
    return FieldSpec(
        name=name, kind=kind, description=str(spec.get("description", "")),
        values=tuple(str(v) for v in spec.get("values") or ()), fields=children,
        max_length=int(spec.get("max_length", DEFAULT_MAX_LENGTH)),
        max_items=int(spec["max_items"]) if spec.get("max_items") is not None else None,
    )


def load_schema(path: Path) -> Schema:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "fields" not in data:
        raise ValueError(f"{path}: a schema needs `name`, `version` and `fields`")
    return Schema(
        name=str(data.get("name", path.stem)),
        version=int(data.get("version", 1)),
        title=str(data.get("title", data.get("name", path.stem))),
        description=str(data.get("description", "")),
        fields=tuple(_field(n, s) for n, s in data["fields"].items()),
        budget=check_budget(int(data["budget"])) if data.get("budget") is not None else None,
    )


def default_schema_dir() -> Path:
    """The schemas/ folder next to the docpipe package (the project's own schemas)."""
    return Path(__file__).resolve().parent.parent / "schemas"


def available_schemas(schema_dir: Path | None = None) -> list[str]:
    folder = schema_dir or default_schema_dir()
    return sorted(p.stem for p in folder.glob("*.yaml"))


def resolve_schema(name_or_path: str, schema_dir: Path | None = None) -> Schema:
    """A schema by name (looked up in `schema_dir`) or by the path of a YAML file."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return load_schema(candidate)
    folder = schema_dir or default_schema_dir()
    path = folder / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(available_schemas(folder)) or "none"
        raise ValueError(f"unknown schema {name_or_path!r}: known schemas are {known} (in {folder})")
    return load_schema(path)
