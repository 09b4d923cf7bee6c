"""Where each value of a record is printed: a box on its page, from the page's text layer.

Born-digital pages carry their words with their positions (ingest/render.page_words). A value's
printed text (its `_raw`, or the value itself for text and enum fields) is looked for among
runs of consecutive words in reading order, so a value may span words and lines (an address);
both sides are compared casefolded, without commas, colons, brackets and quotes, by rapidfuzz's
ratio. The best run scoring at least MIN_SCORE gives the box: the union of its words' boxes.

The model's page for the value (answers/source_page.py) is searched first and wins when the value
is there, so a value printed on two pages takes the page the model read it from; otherwise the
document's other pages are searched. A value found nowhere gets a Box without page or
coordinates whose `source` says why: "not_found" (with the best score seen) or "no_text_layer".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rapidfuzz import fuzz

from docpipe.core.types import Box, ExtractedRecord, Word
from docpipe.schema.spec import Schema

MIN_SCORE = 80.0
_DROP = re.compile(r"[,;:()\[\]\"'“”‘’]")


def _norm(text: str) -> str:
    return " ".join(_DROP.sub(" ", text.casefold()).split())


def _best_run(target: str, words: Sequence[Word]) -> tuple[float, int, int]:
    """(score, first word, word count) of the run of words closest to `target`."""
    size = max(1, len(target.split()))
    normed = [_norm(w.text) for w in words]
    best = (0.0, 0, 0)
    for count in {max(1, size - 1), size, size + 1}:
        for start in range(len(words) - count + 1):
            score = fuzz.ratio(" ".join(normed[start : start + count]).strip(), target)
            if score > best[0]:
                best = (score, start, count)
    return best


def locate(text: str, page_order: Sequence[int], words_by_page: Mapping[int, Sequence[Word]]) -> Box:
    """The box of `text` on the first page of `page_order` that prints it, or why there is none."""
    target = _norm(text)
    if not any(words_by_page.get(p) for p in page_order):
        return Box(None, None, None, None, None, "no_text_layer", None)
    best_seen = 0.0
    for page in page_order:
        words = words_by_page.get(page) or ()
        if not words or not target:
            continue
        score, start, count = _best_run(target, words)
        best_seen = max(best_seen, score)
        if score >= MIN_SCORE:
            run = words[start : start + count]
            return Box(page, min(w.x0 for w in run), min(w.y0 for w in run), max(w.x1 for w in run),
                       max(w.y1 for w in run), "text_layer", round(score, 1))
    return Box(None, None, None, None, None, "not_found", round(best_seen, 1))


def value_boxes(schema: Schema, record: ExtractedRecord, words_by_page: Mapping[int, Sequence[Word]]) -> dict[tuple, Box]:
    """A box for every non-null value of `record` (scalar fields, and every field of every list
    item), by path: ("total",), ("line_items", 0, "amount")."""
    pages = sorted(words_by_page)
    boxes: dict[tuple, Box] = {}

    def place(path: tuple, value: Any, page: int | None) -> None:
        if value is None or isinstance(value, bool | list | dict):
            return
        text = record.raw.get(path) or str(value)
        order = ([page] if page is not None else []) + [p for p in pages if p != page]
        boxes[path] = locate(text, order, words_by_page)

    for spec in schema.fields:
        value = record.values.get(spec.name)
        if value is None:
            continue
        if spec.kind == "list":
            for index, item in enumerate(value):
                page = record.pages.get((spec.name, index))
                for sub in spec.fields:
                    place((spec.name, index, sub.name), (item or {}).get(sub.name), page)
        else:
            place((spec.name,), value, record.pages.get((spec.name,)))
    return boxes
