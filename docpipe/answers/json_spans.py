"""Find the JSON object in a model's answer, and where each of its values is written."""

from __future__ import annotations

import json
import re
from json.decoder import scanstring
from typing import Any

_DECODER = json.JSONDecoder()
_LITERAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null")
_SPACE = re.compile(r"[ \t\n\r]*")

Path = tuple[Any, ...]


def find_json_object(text: str, keys: frozenset[str] | None = None) -> tuple[dict[str, Any], int] | None:
    """The first JSON object in `text` and its offset (chatter and code fences are skipped).

    With `keys`, only an object that has at least one of them counts (or an empty object, when
    nothing before it failed to parse): when an answer is cut off, an object nested inside it (a
    line item) must not pass for the answer.
    """
    start, failed = text.find("{"), False
    while start != -1:
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            start, failed = text.find("{", start + 1), True
            continue
        if isinstance(value, dict) and (keys is None or keys & value.keys() or (not value and not failed)):
            return value, start
        start = text.find("{", start + 1)
    return None


def leaf_spans(text: str, start: int) -> dict[Path, tuple[int, int]]:
    """Character span of every scalar value of the (valid) JSON object at `start`, by path:
    ("total",), ("line_items", 0, "amount"). Strings span their quotes."""
    spans: dict[Path, tuple[int, int]] = {}

    def skip(i: int) -> int:
        return _SPACE.match(text, i).end()

    def value(i: int, path: Path) -> int:
        i = skip(i)
        char = text[i]
        if char == "{":
            i = skip(i + 1)
            if text[i] == "}":
                spans[path] = (i - 1, i + 1)
                return i + 1
            while True:
                key, i = scanstring(text, skip(i) + 1)
                i = value(skip(i) + 1, (*path, key))  # past the ':'
                i = skip(i)
                if text[i] == "}":
                    return i + 1
                i += 1  # ','
        if char == "[":
            i, index = skip(i + 1), 0
            if text[i] == "]":
                spans[path] = (i - 1, i + 1)
                return i + 1
            while True:
                i = skip(value(i, (*path, index)))
                index += 1
                if text[i] == "]":
                    return i + 1
                i += 1
        if char == '"':
            _, end = scanstring(text, i + 1)
            spans[path] = (i, end)
            return end
        match = _LITERAL.match(text, i)
        spans[path] = (i, match.end())
        return match.end()

    value(start, ())
    return spans
