"""Schemas from YAML: the built-in ones (the project's schemas/ folder, shipped inside the package)
or a user's own file, read strictly.

Every key is known or refused (with the file, the line and the nearest known key: `max_lenght`
says "did you mean 'max_length'?"); values stay the text written (`yes` is "yes", not a boolean);
a key given to a kind it does not apply to is refused (`max_length` on a money field). The keys:

    name, version, title, description, hint, budget, fields, checks   (the schema)
    kind, description, required, values, max_length, pattern, max_items, fields   (a field)

Kinds: text, integer, number, money, date, enum, boolean; list (items of fields) and object (one
group of fields), whose fields are of the other kinds.
"""

from __future__ import annotations

import re
from decimal import Decimal
from importlib import resources
from pathlib import Path

from docpipe.core.budget import BUDGETS
from docpipe.schema.checks import DEFAULT_TOLERANCE, NUMERIC, Check
from docpipe.schema.kinds import Kind
from docpipe.schema.spec import DEFAULT_MAX_LENGTH, FieldSpec, Schema
from docpipe.schema.yaml_nodes import Node, SchemaFileError, read_nodes

# the output folder's own tables (output/rows.py; tests/schema/test_schema_names.py keeps the two
# in step): a schema of one of these names would write its records into that table
RESERVED_NAMES = frozenset({"documents", "pages", "generations", "errors", "runs", "transcripts", "corrections",
                            "segments", "other"})

SCHEMA_KEYS = ("name", "version", "title", "description", "hint", "budget", "fields", "checks")
CHECK_KEYS = ("name", "sum", "each", "product", "equals", "date", "on_or_after", "tolerance")
FIELD_KEYS = ("kind", "description", "required", "values", "max_length", "pattern", "max_items", "fields")
# the keys that apply to some kinds only (the others apply to every kind)
ONLY_FOR = {"values": {Kind.ENUM}, "max_length": {Kind.TEXT}, "pattern": {Kind.TEXT}, "max_items": {Kind.LIST},
            "fields": {Kind.LIST, Kind.OBJECT}}


def _check_name(node: Node, name: str) -> str:
    """A schema's name is its records table's folder: an identifier, and not a fixed table's."""
    if not name.isidentifier():
        raise node.error(f"the schema name {name!r} must be an identifier (letters, digits, _), "
                         "as it names the records table's folder")
    if name in RESERVED_NAMES:
        raise node.error(f"the schema name {name!r} is the name of one of docpipe's own tables "
                         f"({', '.join(sorted(RESERVED_NAMES))}): choose another")
    return name


def _field(name: str, name_node: Node, node: Node, inside: Kind | None = None) -> FieldSpec:
    where = f"field {name!r}"
    if not name.isidentifier():
        raise name_node.error(f"a field's name must be an identifier (letters, digits, _), not {name!r}")
    keys = node.items(where, FIELD_KEYS)
    if "kind" not in keys:
        raise node.error(f"{where} needs a kind: one of {', '.join(Kind)}")
    text = keys["kind"].text(f"the kind of {where}")
    if text not in set(Kind):
        raise keys["kind"].error(f"{where}: kind must be one of {', '.join(Kind)}, not {text!r}")
    kind = Kind(text)
    for key, kinds in ONLY_FOR.items():
        if key in keys and kind not in kinds:
            raise keys[key].error(f"{key!r} applies to {' and '.join(sorted(kinds))} fields, not to {where} ({kind})")
    if kind.is_group and inside is not None:
        raise name_node.error(f"{where} ({kind}) cannot be inside a list or an object: their fields are single "
                              "values (text, numbers, money, dates, enums, booleans)")
    children: tuple[FieldSpec, ...] = ()
    if kind.is_group:
        if "fields" not in keys:
            raise node.error(f"{where} is a {kind}: it needs `fields`")
        children = tuple(_field(n, nn, v, kind) for n, nn, v in keys["fields"].entries(f"the fields of {where}"))
        if not children:
            raise keys["fields"].error(f"{where} needs at least one field")
    values: tuple[str, ...] = ()
    if kind == Kind.ENUM:
        if "values" not in keys:
            raise node.error(f"{where} is an enum: it needs `values`")
        values = tuple(keys["values"].texts(f"the values of {where}"))
        if not values or len(set(values)) != len(values):
            raise keys["values"].error(f"the values of {where} must be a list of distinct values")
    pattern = _pattern(keys["pattern"], where) if "pattern" in keys else None
    return FieldSpec(
        name=name, kind=kind,
        description=keys["description"].text(f"the description of {where}") if "description" in keys else "",
        values=values, fields=children,
        max_length=keys["max_length"].integer(f"max_length of {where}", 1) if "max_length" in keys else DEFAULT_MAX_LENGTH,
        max_items=keys["max_items"].integer(f"max_items of {where}", 1) if "max_items" in keys else None,
        required=keys["required"].boolean(f"required of {where}") if "required" in keys else False,
        pattern=pattern,
    )


def _pattern(node: Node, where: str) -> str:
    """A text field's pattern: a regular expression both Python's `re` (the validator) and the
    constrained decoder's (llguidance: Rust's regex, no look-around, no backreferences) read."""
    import llguidance

    pattern = node.text(f"the pattern of {where}")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise node.error(f"the pattern of {where} is not a regular expression: {exc}") from None
    failed, said = llguidance.LLMatcher.validate_grammar_with_warnings(llguidance.LLMatcher.grammar_from_regex(pattern))
    if failed:
        problem = said[0].splitlines()[0] if said else "not supported"
        raise node.error(f"the pattern of {where} is not one the constrained decoder reads ({problem}): "
                         "use Rust-regex syntax without look-around or backreferences")
    return pattern


def parse_schema(path: Path, text: str) -> Schema:
    """The schema a YAML text defines (`path` names it in errors); SchemaFileError saying where."""
    root = read_nodes(path, text)
    keys = root.items("the schema", SCHEMA_KEYS)
    for needed in ("name", "version", "fields"):
        if needed not in keys:
            raise root.error(f"a schema needs `name`, `version` and `fields`: `{needed}` is missing")
    name = _check_name(keys["name"], keys["name"].text("the schema's name"))
    budget = None
    if "budget" in keys:
        budget = keys["budget"].integer("budget")
        if budget not in BUDGETS:
            raise keys["budget"].error(f"budget must be one of {', '.join(map(str, BUDGETS))}, not {budget}")
    fields = tuple(_field(n, nn, v) for n, nn, v in keys["fields"].entries("the schema's fields"))
    if not fields:
        raise keys["fields"].error("a schema needs at least one field")
    checks = tuple(_check(node, fields) for node in keys["checks"].nodes("checks")) if "checks" in keys else ()
    return Schema(
        name=name, version=keys["version"].integer("version", 1),
        title=keys["title"].text("title") if "title" in keys else name,
        description=keys["description"].text("description") if "description" in keys else "",
        fields=fields, budget=budget, checks=checks, source=text,
        hint=keys["hint"].text("hint") if "hint" in keys else "",
    )


def _check(node: Node, fields: tuple[FieldSpec, ...]) -> Check:
    """One entry of `checks` (schema/checks.py says what each means)."""
    keys = node.items("a check", CHECK_KEYS)
    specs = {f.name: f for f in fields}
    tolerance = DEFAULT_TOLERANCE
    if "tolerance" in keys:
        try:
            tolerance = Decimal(keys["tolerance"].text("tolerance"))
        except ArithmeticError:
            raise keys["tolerance"].error("tolerance must be a number (an absolute difference: 0.01)") from None

    def numeric(where: Node, name: str, within: FieldSpec | None = None) -> str:
        scope = {f.name: f for f in within.fields} if within is not None else specs
        spec = scope.get(name)
        owner = f"{within.name}'s items" if within is not None else "the schema"
        if spec is None:
            raise where.error(f"a check names {name!r}, which is not a field of {owner}")
        if spec.kind not in NUMERIC:
            raise where.error(f"a check adds or multiplies {name!r}, a {spec.kind} field: it takes money, number "
                              "or integer fields")
        return name

    def term(where: Node, text: str) -> str:
        if "." not in text:
            return numeric(where, text)
        name, sub = text.split(".", 1)
        if name not in specs or specs[name].kind != Kind.LIST:
            raise where.error(f"{text!r}: {name!r} is not a list field (a term `list.field` sums a list's field)")
        numeric(where, sub, specs[name])
        return text

    if "sum" in keys:
        if "equals" not in keys:
            raise node.error("a `sum` check needs `equals`: the field the sum must equal")
        terms = tuple(term(keys["sum"], t) for t in keys["sum"].texts("sum"))
        equals = numeric(keys["equals"], keys["equals"].text("equals"))
        name = keys["name"].text("name") if "name" in keys else f"{' + '.join(terms)} = {equals}"
        return Check(name, "sum", terms, equals, tolerance=tolerance)
    if "product" in keys:
        if "each" not in keys or "equals" not in keys:
            raise node.error("a `product` check needs `each` (a list field) and `equals` (its items' field)")
        each = keys["each"].text("each")
        if each not in specs or specs[each].kind != Kind.LIST:
            raise keys["each"].error(f"`each` must name a list field, not {each!r}")
        terms = tuple(numeric(keys["product"], t, specs[each]) for t in keys["product"].texts("product"))
        equals = numeric(keys["equals"], keys["equals"].text("equals"), specs[each])
        name = keys["name"].text("name") if "name" in keys else f"{each}: {' x '.join(terms)} = {equals}"
        return Check(name, "product", terms, equals, each=each, tolerance=tolerance)
    if "date" in keys:
        if "on_or_after" not in keys:
            raise node.error("a `date` check needs `on_or_after`: the date it may not come before")
        first, second = keys["date"].text("date"), keys["on_or_after"].text("on_or_after")
        for where, name in ((keys["date"], first), (keys["on_or_after"], second)):
            if name not in specs or specs[name].kind != Kind.DATE:
                raise where.error(f"a date check compares date fields: {name!r} is not one")
        name = keys["name"].text("name") if "name" in keys else f"{first} on or after {second}"
        return Check(name, "date", (first,), on_or_after=second)
    raise node.error("a check is a `sum` (with equals), a `product` (with each and equals) or a `date` (with "
                     "on_or_after)")


def schema_yaml(schema: Schema) -> str:
    """A schema written as a schema file (for one built in code; parse_schema reads it back)."""
    import yaml

    def field(spec: FieldSpec) -> dict:
        out: dict = {"kind": str(spec.kind)}
        if spec.description:
            out["description"] = spec.description
        if spec.kind == Kind.ENUM:
            out["values"] = list(spec.values)
        if spec.kind == Kind.TEXT and spec.max_length != DEFAULT_MAX_LENGTH:
            out["max_length"] = str(spec.max_length)
        if spec.kind == Kind.LIST and spec.max_items is not None:
            out["max_items"] = str(spec.max_items)
        if spec.required:
            out["required"] = "true"
        if spec.pattern is not None:
            out["pattern"] = spec.pattern
        if spec.kind.is_group:
            out["fields"] = {f.name: field(f) for f in spec.fields}
        return out

    data: dict = {"name": schema.name, "version": str(schema.version), "title": schema.title,
                  "description": schema.description}
    if schema.hint:
        data["hint"] = schema.hint
    if schema.budget is not None:
        data["budget"] = str(schema.budget)
    data["fields"] = {f.name: field(f) for f in schema.fields}
    if schema.checks:
        data["checks"] = [_check_yaml(c) for c in schema.checks]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _check_yaml(check: Check) -> dict:
    out: dict = {"name": check.name}
    if check.kind == "sum":
        out |= {"sum": list(check.terms), "equals": check.equals, "tolerance": str(check.tolerance)}
    elif check.kind == "product":
        out |= {"each": check.each, "product": list(check.terms), "equals": check.equals,
                "tolerance": str(check.tolerance)}
    else:
        out |= {"date": check.terms[0], "on_or_after": check.on_or_after}
    return out


def load_schema(path: Path) -> Schema:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaFileError(f"{path}: cannot read the schema file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SchemaFileError(f"{path}: a schema file must be UTF-8 text") from None
    return parse_schema(path, text)


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
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_file():
            raise SchemaFileError(f"{candidate}: no such schema file")
        return load_schema(candidate)
    folder = schema_dir or default_schema_dir()
    path = folder / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(available_schemas(folder)) or "none"
        raise ValueError(f"unknown schema {name_or_path!r}: known schemas are {known} (in {folder}), "
                         "or give the path of your own schema file")
    return load_schema(path)
