"""The boxes a model drew itself (`--boxes model`), and how they meet the text layer's.

Gemma 4's box_2d is [y1, x1, y2, x2] on a 0-1000 grid over the image it looked at; a Box is
[x0, y0, x1, y1] in 0-1 of the page, so the two differ by an axis swap and a scale. Which page:
the request's only page, or the image the answer's `<field>_box_page` names.

When both exist for a value (a born-digital page), the text layer's box is kept, since it is where
the printed words are; the model's is compared with it (intersection over union, `model_iou`),
so a disagreement is recorded rather than hidden, and nothing is lowered silently. Where the text
layer has no box (a scan, or a value it could not find), the model's box is the value's box.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from docpipe.core.types import Box
from docpipe.schema.box_fields import BOX_SUFFIX, GRID, PAGE_SUFFIX
from docpipe.schema.spec import Schema


def model_box(holder: Mapping[str, Any], name: str, page_nos: Sequence[int], score: float | None) -> Box | None:
    """The box the answer gives beside field `name` of `holder` (the answer, or a list item), or
    None when there is none or it is not four numbers on the grid (an unconstrained answer)."""
    coords = holder.get(name + BOX_SUFFIX)
    if not isinstance(coords, list) or len(coords) != 4:
        return None
    if not all(isinstance(c, int | float) and not isinstance(c, bool) and 0 <= c <= GRID for c in coords):
        return None
    image = holder.get(name + PAGE_SUFFIX, 1) if len(page_nos) > 1 else 1
    if not isinstance(image, int) or isinstance(image, bool) or not 1 <= image <= len(page_nos):
        return None
    y1, x1, y2, x2 = (c / GRID for c in coords)
    return Box(page_nos[image - 1], min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2), "model",
               None if score is None else round(100 * score, 1))


def answer_boxes(schema: Schema, answer: Mapping[str, Any], items_kept: Mapping[tuple, list[int]],
                 page_nos: Sequence[int], confidence: Mapping[tuple, float]) -> dict[tuple, Box]:
    """Every model box of an answer, by typed path (list items renumbered as `items_kept` says:
    the JSON index of each item that was kept); `confidence`: by JSON path, for the box's score."""
    boxes: dict[tuple, Box] = {}
    for spec in schema.fields:
        if spec.kind == "object":
            item = answer.get(spec.name)
            for sub in spec.fields if isinstance(item, dict) else ():
                box = model_box(item, sub.name, page_nos, confidence.get((spec.name, sub.name + BOX_SUFFIX)))
                if box is not None and item.get(sub.name) is not None:
                    boxes[(spec.name, sub.name)] = box
            continue
        if spec.kind != "list":
            box = model_box(answer, spec.name, page_nos, confidence.get((spec.name + BOX_SUFFIX,)))
            if box is not None and answer.get(spec.name) is not None:
                boxes[(spec.name,)] = box
            continue
        items = answer.get(spec.name)
        for kept_index, json_index in enumerate(items_kept.get((spec.name,), [])):
            item = items[json_index]
            for sub in spec.fields:
                score = confidence.get((spec.name, json_index, sub.name + BOX_SUFFIX))
                box = model_box(item, sub.name, page_nos, score)
                if box is not None and item.get(sub.name) is not None:
                    boxes[(spec.name, kept_index, sub.name)] = box
    return boxes


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes on the same page (0 on different pages)."""
    if a.page != b.page or None in (a.x0, b.x0):
        return 0.0
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter
    return inter / union if union > 0 else 0.0


def combine(text_boxes: Mapping[tuple, Box], model_boxes: Mapping[tuple, Box]) -> dict[tuple, Box]:
    """One box per value: the text layer's where it found the value (with the model's overlap
    recorded), the model's where it did not."""
    out = dict(text_boxes)
    for path, drawn in model_boxes.items():
        found = text_boxes.get(path)
        if found is not None and found.source == "text_layer":
            out[path] = dataclasses.replace(found, model_iou=round(iou(found, drawn), 3))
        else:
            out[path] = drawn
    return out
