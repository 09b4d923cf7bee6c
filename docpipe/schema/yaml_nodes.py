"""A schema file read strictly: the YAML's nodes, every scalar the text it was written as.

YAML 1.1 (PyYAML's default) turns `yes`, `no`, `on` and `off` into booleans and `01` into 1, so
`values: [yes, no, n/a]` became the enum ('True', 'False', 'n/a'). Here nothing is converted
behind the reader's back: a scalar is its text, and the schema reader (load.py) turns the keys it
knows into numbers and booleans, saying where a value does not fit. Every error names the file and
the line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

import yaml

from docpipe.core.errors import TerminalError


class SchemaFileError(TerminalError, ValueError):
    """A schema file that cannot be used, with its file and line."""


class Node:
    """A YAML node with where it was written."""

    def __init__(self, node: yaml.Node, path: Path):
        self.node, self.path = node, path

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    def error(self, problem: str) -> SchemaFileError:
        return SchemaFileError(f"{self.path}, line {self.line}: {problem}")

    def text(self, what: str) -> str:
        if not isinstance(self.node, yaml.ScalarNode):
            raise self.error(f"{what} must be a single value, not a {_kind(self.node)}")
        return self.node.value

    def items(self, what: str, known: Iterable[str]) -> dict[str, Node]:
        """A mapping's entries, each key known (else the nearest known key is named), none twice."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error(f"{what} must be a mapping of keys to values, not a {_kind(self.node)}")
        known = list(known)
        found: dict[str, Node] = {}
        for key_node, value_node in self.node.value:
            key = Node(key_node, self.path).text(f"a key of {what}")
            if key in found:
                raise Node(key_node, self.path).error(f"{key!r} is given twice in {what}")
            if known and key not in known:
                near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise Node(key_node, self.path).error(
                    f"unknown key {key!r} in {what}{hint}; the keys are {', '.join(known)}")
            found[key] = Node(value_node, self.path)
        return found

    def entries(self, what: str) -> list[tuple[str, Node, Node]]:
        """A mapping's (key, key node, value node), for mappings whose keys are names (fields)."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error(f"{what} must be a mapping, not a {_kind(self.node)}")
        out, seen = [], set()
        for key_node, value_node in self.node.value:
            key = Node(key_node, self.path).text(f"a name in {what}")
            if key in seen:
                raise Node(key_node, self.path).error(f"{key!r} is given twice in {what}")
            seen.add(key)
            out.append((key, Node(key_node, self.path), Node(value_node, self.path)))
        return out

    def nodes(self, what: str) -> list[Node]:
        """A list's items."""
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error(f"{what} must be a list, not a {_kind(self.node)}")
        return [Node(n, self.path) for n in self.node.value]

    def texts(self, what: str) -> list[str]:
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error(f"{what} must be a list, not a {_kind(self.node)}")
        return [Node(n, self.path).text(f"an item of {what}") for n in self.node.value]

    def integer(self, what: str, least: int | None = None) -> int:
        text = self.text(what)
        try:
            value = int(text, 10)
        except ValueError:
            raise self.error(f"{what} must be a whole number, not {text!r}") from None
        if least is not None and value < least:
            raise self.error(f"{what} must be at least {least}, not {value}")
        return value

    def number(self, what: str) -> float:
        text = self.text(what)
        try:
            return float(text)
        except ValueError:
            raise self.error(f"{what} must be a number, not {text!r}") from None

    def boolean(self, what: str) -> bool:
        text = self.text(what)
        if text in ("true", "True", "false", "False"):
            return text.lower() == "true"
        raise self.error(f"{what} must be true or false, not {text!r}")


def read_nodes(path: Path, text: str) -> Node:
    """The document's root node; SchemaFileError (file, line, problem) when it is not YAML."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise SchemaFileError(f"{path}{where}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SchemaFileError(f"{path}: not valid YAML: {exc}") from None
    if root is None:
        raise SchemaFileError(f"{path}: the file is empty; a schema needs name, version and fields")
    return Node(root, path)


def _kind(node: yaml.Node) -> str:
    return {yaml.ScalarNode: "single value", yaml.SequenceNode: "list", yaml.MappingNode: "mapping"}[type(node)]
