"""Schemas from YAML: the built-in ones (the project's schemas/ folder, shipped inside the package)
or a user's own file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from docpipe.core.budget import check_budget
from docpipe.schema.kinds import Kind
from docpipe.schema.spec import DEFAULT_MAX_LENGTH, FieldSpec, Schema

# the output folder's own tables (output/rows.py; tests/schema/test_schema_names.py keeps the two
# in step): a schema of one of these names would write its records into that table
RESERVED_NAMES = frozenset({"documents", "pages", "generations", "errors", "runs", "transcripts", "corrections"})


def _check_name(path: Path, name: str) -> str:
    """A schema's name is its records table's folder: an identifier, and not a fixed table's."""
    if not name.isidentifier():
        raise ValueError(f"{path}: the schema name {name!r} must be an identifier (letters, digits, _), "
                         "as it names the records table's folder")
    if name in RESERVED_NAMES:
        raise ValueError(f"{path}: the schema name {name!r} is the name of one of docpipe's own tables "
                         f"({', '.join(sorted(RESERVED_NAMES))}): choose another")
    return name


def _field(name: str, spec: dict[str, Any]) -> FieldSpec:
    if spec.get("kind") not in set(Kind):
        raise ValueError(f"field {name!r}: kind must be one of {', '.join(Kind)}, got {spec.get('kind')!r}")
    kind = Kind(spec["kind"])
    children = tuple(_field(n, s) for n, s in (spec.get("fields") or {}).items())
    if kind == Kind.LIST and not children:
        raise ValueError(f"field {name!r}: a list needs `fields`")
    if kind == Kind.ENUM and not spec.get("values"):
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
        name=_check_name(path, str(data.get("name", path.stem))),
        version=int(data.get("version", 1)),
        title=str(data.get("title", data.get("name", path.stem))),
        description=str(data.get("description", "")),
        fields=tuple(_field(n, s) for n, s in data["fields"].items()),
        budget=check_budget(int(data["budget"])) if data.get("budget") is not None else None,
    )


def default_schema_dir() -> Path:
    """The built-in schemas: the project's schemas/ folder, shipped as package data
    (docpipe/schema/builtin is a link to it in the source tree, a copy in a wheel)."""
    return Path(str(resources.files("docpipe.schema") / "builtin"))


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
