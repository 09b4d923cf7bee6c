"""Find the JSON object in a model's answer."""

from __future__ import annotations

import json
from typing import Any

_DECODER = json.JSONDecoder()


def find_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text` (code fences and chatter around it are ignored).

    Tries every '{' in order and keeps the first position where a complete object decodes, so
    "Here you go: ```json {...} ```" and a bare object both work. None when there is none.
    """
    start = text.find("{")
    while start != -1:
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None
