"""The schemas an output folder's records were read with, kept in the folder.

    OUT/_schemas/<name>/<version>.yaml     the schema file as it was written (comments and all)
    OUT/_schemas/<name>/<version>.sha256   the hash of its definition (Schema.fingerprint)

A run stores its schema's version the first time it reads with it (`remember`), and refuses a
schema whose version is stored with another definition: an edited schema must take a new version,
or the folder would hold two meanings under one name. Its rules on records (required values,
checks) may change within a version: the stored file is then replaced by the newest. The stored versions give:

- `table_schema`: the records table's columns across versions: the newest version's columns, then
  every column only older versions have (never dropped), a field whose kind changed keeping its
  printed text in `<field>_raw`;
- `resolve`: one way to name a schema everywhere: the path of a file, a name this folder knows
  (its newest stored version: what its records were read with), or a shipped name.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from docpipe.core.errors import TerminalError
from docpipe.output.record_columns import record_fields
from docpipe.output.tables import RECORD_META
from docpipe.schema.load import load_schema, resolve_schema, schema_yaml
from docpipe.schema.spec import FieldSpec, Schema

STORE = "_schemas"


class SchemaEdited(TerminalError, ValueError):
    """A schema whose version this folder already holds with another definition."""


def stored_versions(out: Path, name: str) -> list[Schema]:
    """Every version of schema `name` stored in `out`, oldest first."""
    folder = Path(out) / STORE / name
    if not folder.is_dir():
        return []
    found = [load_schema(p) for p in folder.glob("*.yaml") if p.stem.isdigit()]
    return sorted(found, key=lambda s: s.version)


def known_names(out: Path) -> list[str]:
    folder = Path(out) / STORE
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def remember(out: Path, schema: Schema) -> bool:
    """Store `schema`'s version in `out` unless it is there (True when stored now). SchemaEdited
    when that version is stored with another definition, or when a field turns into or out of a
    list between versions (its values could not be read as one column)."""
    check(out, schema)
    folder = Path(out) / STORE / schema.name
    path = folder / f"{schema.version}.yaml"
    if path.is_file() and load_schema(path).rules_fingerprint == schema.rules_fingerprint:
        return False
    new = not path.is_file()  # else: its required values or checks changed: the newest file is kept
    folder.mkdir(parents=True, exist_ok=True)
    for target, text in ((path, schema.source or schema_yaml(schema)), (path.with_suffix(".sha256"), schema.fingerprint)):
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    return new


def check(out: Path, schema: Schema) -> None:
    """SchemaEdited when `schema` contradicts what `out` holds (remember's checks, storing nothing)."""
    stored = {s.version: s for s in stored_versions(out, schema.name)}
    same = stored.get(schema.version)
    if same is not None and same.fingerprint != schema.fingerprint:
        changes = "; ".join(differences(same, schema))
        raise SchemaEdited(
            f"schema {schema.key} is not the {schema.key} that {out} was read with ({changes}). Give the "
            f"edited schema a new version (version: {max(stored) + 1}); the stored one is "
            f"{Path(out) / STORE / schema.name / f'{schema.version}.yaml'}")
    for other in stored.values():
        olds = {f.name: f for f in other.fields}
        for spec in schema.fields:
            old = olds.get(spec.name)
            if old is not None and old.kind != spec.kind and (old.kind.is_group or spec.kind.is_group):
                raise SchemaEdited(
                    f"field {spec.name!r} is a {old.kind} in {other.key} and a {spec.kind} in {schema.key}: a field "
                    "cannot turn into or out of a list or an object (its values would not fit one column); give it a "
                    "new name")


def differences(old: Schema, new: Schema) -> list[str]:
    """What differs between two definitions, field by field, in words."""
    said = [f"{key}: {getattr(old, key)!r} -> {getattr(new, key)!r}"
            for key in ("title", "description", "budget") if getattr(old, key) != getattr(new, key)]
    said += _field_differences(old.fields, new.fields, "")
    return said or ["the same fields, defined differently"]


def _field_differences(old: tuple[FieldSpec, ...], new: tuple[FieldSpec, ...], prefix: str) -> list[str]:
    olds, news = {f.name: f for f in old}, {f.name: f for f in new}
    said = [f"field {prefix}{n} added" for n in news if n not in olds]
    said += [f"field {prefix}{n} removed" for n in olds if n not in news]
    for name in (n for n in news if n in olds):
        a, b = olds[name].definition(), news[name].definition()
        for key in a:
            if key != "fields" and a[key] != b[key]:
                said.append(f"field {prefix}{name}: {key} {a[key]!r} -> {b[key]!r}")
        said += _field_differences(olds[name].fields, news[name].fields, f"{prefix}{name}.")
    return said


def table_schema(out: Path, schema: Schema) -> pa.Schema:
    """The columns of records/<name> with `schema` the newest version: its own (tables'
    RECORD_META, then record_columns'), then each column only older stored versions have, with
    the type of the newest version that has it; list items' fields are kept the same way. A field
    whose kind changed across versions keeps `<field>_raw` (the value as printed)."""
    fields = [pa.field(n, t) for n, t in RECORD_META] + record_fields(schema)
    older = [s for s in reversed(stored_versions(out, schema.name)) if s.version != schema.version]
    changed = _changed_kinds(schema, older)
    merged = {f.name: f for f in fields}
    order = [f.name for f in fields]
    for name in changed:
        raw = f"{name}_raw"
        if raw not in merged:
            merged[raw] = pa.field(raw, pa.string())
            order.insert(order.index(name) + 1, raw)
    for other in older:
        for f in record_fields(other):
            if f.name not in merged:
                merged[f.name] = f
                order.append(f.name)
            else:
                merged[f.name] = pa.field(f.name, merged_type(merged[f.name].type, f.type))
    return pa.schema([merged[name] for name in order])


def _changed_kinds(schema: Schema, older: list[Schema]) -> list[str]:
    """Scalar fields of `schema` whose kind some older version gave otherwise."""
    changed = []
    for spec in schema.fields:
        if spec.kind.is_group:
            continue
        if any(o.kind != spec.kind for other in older for o in other.fields if o.name == spec.name):
            changed.append(spec.name)
    return changed


def merged_type(new: pa.DataType, old: pa.DataType) -> pa.DataType:
    """`new`, with the struct fields only `old` has added (inside lists too)."""
    if pa.types.is_list(new) and pa.types.is_list(old):
        return pa.list_(merged_type(new.value_type, old.value_type))
    if pa.types.is_struct(new) and pa.types.is_struct(old):
        names = {f.name for f in new}
        kept = {f.name: f for f in old}
        fields = [pa.field(f.name, merged_type(f.type, kept[f.name].type) if f.name in kept else f.type) for f in new]
        return pa.struct(fields + [f for f in old if f.name not in names])
    return new


def resolve(name_or_path: str, out: Path | None = None, reading: bool = True,
            schema_dir: Path | None = None) -> Schema:
    """A schema by the one way docpipe names schemas: the path of a YAML file; a name `out` knows
    (its newest stored version); or a shipped name (looked up in `schema_dir`). `reading` (show,
    review, eval, revalidate): the folder's own definition comes first, as its records were read
    with it; for a run, a shipped schema comes first (the folder's is used for names only it knows)."""
    if Path(name_or_path).suffix in (".yaml", ".yml"):
        return resolve_schema(name_or_path, schema_dir)
    stored = stored_versions(out, name_or_path) if out is not None else []
    if stored and reading:
        return stored[-1]
    try:
        return resolve_schema(name_or_path, schema_dir)
    except ValueError:
        if stored:
            return stored[-1]
        known = known_names(out) if out is not None else []
        if known:
            raise ValueError(f"unknown schema {name_or_path!r}: {out} knows {', '.join(known)}; the shipped ones are "
                             f"named by `docpipe schemas`; or give the path of your own schema file") from None
        raise
