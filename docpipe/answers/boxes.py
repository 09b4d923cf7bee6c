"""Where each value of a record is printed: a box on its page, from the page's text layer.

Born-digital pages carry their words with their positions (ingest/render.page_words). A value's
printed text (its `_raw`, or the value itself for text and enum fields) is looked for among
runs of consecutive words in reading order, so a value may span words and lines (an address);
both sides are compared casefolded, without commas, colons, brackets and quotes, by rapidfuzz's
ratio. The best run scoring at least MIN_SCORE gives the box: the union of its words' boxes.

The model's page for the value (answers/source_page.py) is searched first and wins when the value
is there, so a value printed on two pages takes the page the model read it from; otherwise the
document's other pages are searched. Within a list item, the values are placed near the item's
longest value (its row): a quantity "2" is the one on the line of its description. A value found nowhere gets a Box without page or
coordinates whose `source` says why: "not_found" (with the best score seen) or "no_text_layer".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from docpipe.answers.model_boxes import combine
from docpipe.core.types import Box, ExtractedRecord, Word
from docpipe.schema.spec import Schema

MIN_SCORE = 80.0
_DROP = re.compile(r"[,;:()\[\]\"'“”‘’]")


def _norm(text: str) -> str:
    return " ".join(_DROP.sub(" ", text.casefold()).split())


class _PageText:
    """A page's words, normalised once, and its runs of `count` consecutive words joined once per
    count: every value of a document is looked for in the same runs."""

    def __init__(self, words: Sequence[Word]):
        self.words = words
        self.normed = [_norm(w.text) for w in words]
        self._joined: dict[int, list[str]] = {}

    def runs_of(self, count: int) -> list[str]:
        if count not in self._joined:
            self._joined[count] = [" ".join(self.normed[start : start + count]).strip()
                                   for start in range(len(self.words) - count + 1)]
        return self._joined[count]


def _runs(target: str, page: _PageText) -> list[tuple[float, int, int]]:
    """(score, first word, word count) of every run of words scoring at least MIN_SCORE, best first
    (among equals, earliest first); the best run seen when none does."""
    size = max(1, len(target.split()))
    found, best = [], (0.0, 0, 0)
    for count in sorted({max(1, size - 1), size, size + 1}):
        choices = page.runs_of(count)
        if not choices:
            continue
        scores = cdist([target], choices, scorer=fuzz.ratio, dtype=np.float64)[0]  # all runs at once, in C
        found += [(float(scores[start]), int(start), count) for start in np.flatnonzero(scores >= MIN_SCORE)]
        top = int(scores.argmax())  # the first of the highest
        if scores[top] > best[0]:
            best = (float(scores[top]), top, count)
    found.sort(key=lambda run: (-run[0], run[1]))
    return found or [best]


def _box_of(page: int, run: Sequence[Word], score: float) -> Box:
    return Box(page, min(w.x0 for w in run), min(w.y0 for w in run), max(w.x1 for w in run),
               max(w.y1 for w in run), "text_layer", round(score, 1))


def _distance(box: Box, near: Box) -> float:
    """Rows first: how far apart two boxes' vertical centres are, then their left edges."""
    return abs((box.y0 + box.y1) - (near.y0 + near.y1)) / 2 + 0.01 * abs(box.x0 - near.x0)


def locate(text: str, page_order: Sequence[int], words_by_page: Mapping[int, Sequence[Word]],
           near: Box | None = None, _texts: dict[int, _PageText] | None = None) -> Box:
    """The box of `text` on the first page of `page_order` that prints it, or why there is none.
    `near`: a box of the same list item (its row): of the runs that match as well as the best (a
    short value such as "2" is printed in many places), the one closest to it. (`_texts`: the
    pages' normalised runs, kept across the values of one document by value_boxes.)"""
    texts = {} if _texts is None else _texts
    target = _norm(text)
    if not any(words_by_page.get(p) for p in page_order):
        return Box(None, None, None, None, None, "no_text_layer", None)
    best_seen = 0.0
    for page in page_order:
        words = words_by_page.get(page) or ()
        if not words or not target:
            continue
        if page not in texts:
            texts[page] = _PageText(words)
        runs = _runs(target, texts[page])
        best_seen = max(best_seen, runs[0][0])
        if runs[0][0] < MIN_SCORE:
            continue
        boxes = [_box_of(page, words[start : start + count], score) for score, start, count in runs
                 if score >= runs[0][0] - 5]
        if near is not None and near.page == page:
            return min(boxes, key=lambda box: _distance(box, near))
        return boxes[0]
    return Box(None, None, None, None, None, "not_found", round(best_seen, 1))


def value_boxes(schema: Schema, record: ExtractedRecord, words_by_page: Mapping[int, Sequence[Word]]) -> dict[tuple, Box]:
    """A box for every non-null value of `record` (scalar fields, and every field of every list
    item and object), by path: ("total",), ("line_items", 0, "amount"), ("supplier", "vat_id"). A
    list item's (an object's) longest value is placed first, and its other values on the runs
    nearest to it (the item's row)."""
    pages = sorted(words_by_page)
    boxes: dict[tuple, Box] = {}
    texts: dict[int, _PageText] = {}  # each page normalised once for all the document's values

    def place(path: tuple, value: Any, page: int | None, near: Box | None = None) -> Box | None:
        if value is None or isinstance(value, bool | list | dict):
            return None
        text = record.raw.get(path) or str(value)
        order = ([page] if page is not None else []) + [p for p in pages if p != page]
        boxes[path] = locate(text, order, words_by_page, near, texts)
        return boxes[path]

    for spec in schema.fields:
        value = record.values.get(spec.name)
        if value is None:
            continue
        if not spec.kind.is_group:
            place((spec.name,), value, record.pages.get((spec.name,)))
            continue
        for prefix, item in spec.members(value):  # a list's items, an object: each a row of values
            page = record.pages.get(prefix)
            printed = {sub.name: record.raw.get((*prefix, sub.name)) or str(item.get(sub.name))
                       for sub in spec.fields if item.get(sub.name) is not None}
            if not printed:
                continue
            anchor_name = max(printed, key=lambda name: len(printed[name]))
            anchor = place((*prefix, anchor_name), item.get(anchor_name), page)
            near = anchor if anchor is not None and anchor.page is not None else None
            for sub in spec.fields:
                if sub.name != anchor_name:
                    place((*prefix, sub.name), item.get(sub.name), page, near)
    return boxes


def record_boxes(schema: Schema, record: ExtractedRecord, words_by_page: Mapping[int, Sequence[Word]]) -> dict[tuple, Box]:
    """The record's boxes: the text layer's, met with the boxes the model drew itself (already in
    `record.boxes` with `--boxes model`; answers/model_boxes.combine says which wins)."""
    return combine(value_boxes(schema, record, words_by_page), record.boxes)
