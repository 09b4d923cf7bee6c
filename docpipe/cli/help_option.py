"""docpipe's command classes: typer's, with `--help` shown as the flag it is.

typer writes a type for every option that has no metavar, `--help <bool>` included; docpipe's own
flags set `metavar=""`, and these classes do the same for the help option, of each command and of
each group (`docpipe --help`, `docpipe schemas --help`).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand, TyperGroup


def _flag(option: Any) -> Any:
    if option is not None:
        option.metavar = ""
    return option


class Command(TyperCommand):
    def get_help_option(self, ctx: Any) -> Any:
        return _flag(super().get_help_option(ctx))


class Group(TyperGroup):
    def get_help_option(self, ctx: Any) -> Any:
        return _flag(super().get_help_option(ctx))
