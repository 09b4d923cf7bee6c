"""`docpipe run`'s options, generated from RunConfig's fields (run/config.py).

A field made with `config.option(...)` becomes `--<field-name>` (or its `flag`) with the field's
default and help text; values are checked by RunConfig itself, so a default, a range or a help
text is written once. Types that a command line cannot spell (`280 | auto`) are read as text and
parsed by RunConfig's validators.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from docpipe.run.config import RunConfig

_PLAIN = (bool, int, float, str, Path)


def flag_of(name: str, field: FieldInfo) -> str | None:
    """The option name of a RunConfig field, or None when the CLI does not offer it."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    cli = extra.get("cli")
    if not cli:
        return None
    return "--" + (cli if isinstance(cli, str) else name).replace("_", "-")


def _cli_type(annotation: Any) -> Any:
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    members = typing.get_args(annotation) if union else (annotation,)
    present = [m for m in members if m is not type(None)]
    kind = present[0] if len(present) == 1 and present[0] in _PLAIN else str
    return kind | None if len(present) < len(members) else kind


def _parameter(name: str, field: FieldInfo, flag: str, default: Any) -> inspect.Parameter:
    kind = _cli_type(field.annotation)
    if typing.get_origin(field.annotation) is tuple:  # a repeatable option, e.g. --base-url
        kind, default = list[str] | None, None
    if kind in (str, str | None) and default is not None and not isinstance(default, str):
        default = str(default)  # e.g. batch size 8, shown and parsed as text ("8" or "auto")
    decls = [f"{flag}/--no-{flag[2:]}"] if kind is bool else [flag]
    option = typer.Option(*decls, help=field.description, metavar=metavar(name, field, kind))
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[kind, option])


# what to give, named for people (not the Python type): a flag takes nothing
_METAVARS = {"include": "GLOB", "exclude": "GLOB", "retry_failed": "CATEGORY", "base_urls": "URL", "adapter": "FOLDER",
             "schemas": "NAME|FILE|all", "model": "MODEL", "budget": "70|140|280|560|1120|auto",
             "batch_size": "N|auto", "task": "extract|transcribe"}


def metavar(name: str, field: FieldInfo, kind: Any) -> str:
    if kind is bool:
        return ""
    if name in _METAVARS:
        return _METAVARS[name]
    choices = [a for m in typing.get_args(field.annotation) or (field.annotation,)
               for a in (typing.get_args(m) if typing.get_origin(m) is typing.Literal else ())]
    if typing.get_origin(field.annotation) is typing.Literal:
        choices = list(typing.get_args(field.annotation))
    if choices:
        return "|".join(map(str, choices))
    if kind in (int, int | None):
        return "N"
    if kind in (float, float | None):
        return "SECONDS" if "timeout" in name or "seconds" in name else "NUMBER"
    if kind in (Path, Path | None):
        return "FOLDER" if name in ("out", "media_dir", "schema_dir") else "PATH"
    return "TEXT"


def run_options(defaults: dict[str, Any] | None = None) -> list[inspect.Parameter]:
    defaults = defaults or {}
    return [
        _parameter(name, field, flag, defaults.get(name, field.default))
        for name, field in RunConfig.model_fields.items()
        if (flag := flag_of(name, field)) is not None
    ]


def with_run_options(command: Callable[..., Any], defaults: dict[str, Any] | None = None) -> Callable[..., Any]:
    """Give `command` (which takes **settings) one option per RunConfig setting; `defaults`: this
    command's own defaults for some of them (shown in its --help, and a value given on the command
    line always wins, 0 included)."""
    signature = inspect.signature(command, eval_str=True)
    own = [  # typer passes every value by name
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    required = [p for p in own if p.default is inspect.Parameter.empty]  # arguments lead
    rest = [p for p in own if p.default is not inspect.Parameter.empty]
    command.__signature__ = signature.replace(parameters=[*required, *run_options(defaults), *rest])  # type: ignore[attr-defined]
    return command


def explain(error: ValidationError) -> str:
    """A ValidationError of RunConfig as one line per bad option, named as the user typed it."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        field = RunConfig.model_fields.get(name)
        flag = (flag_of(name, field) if field else None) or name
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{flag}: {message}")
    return "; ".join(lines)
