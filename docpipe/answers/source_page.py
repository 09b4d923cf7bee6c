"""Which page a value came from.

One page in the request: that page. Several pages in one request: the first page whose text layer
contains the value as printed (case and spacing ignored); None when no page's text has it (scans
have no text layer). Per-page extraction (documents beyond the per-request page limit) knows the
page of every value exactly; see records.merge_records.
"""

from __future__ import annotations

import re
from typing import Any

from docpipe.answers.json_spans import Path
from docpipe.schema.spec import Schema


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def find_page(needle: Any, page_texts: dict[int, str]) -> int | None:
    text = _squash(str(needle)) if needle is not None else ""
    if len(text) < 2:
        return None
    for page_no in sorted(page_texts):
        if text in _squash(page_texts[page_no] or ""):
            return page_no
    return None


def assign_pages(schema: Schema, values: dict[str, Any], raw: dict[Path, str],
                 page_nos: tuple[int, ...], page_texts: dict[int, str]) -> dict[Path, int]:
    """Page of every non-null field, list item and object."""
    pages: dict[Path, int] = {}
    texts = {p: page_texts[p] for p in page_nos if p in page_texts}
    for spec in schema.fields:
        value = values.get(spec.name)
        if value is None:
            continue
        if spec.kind == "list":
            for index, item in enumerate(value):
                path = (spec.name, index)
                if len(page_nos) == 1:
                    pages[path] = page_nos[0]
                    continue
                for sub in spec.fields:
                    page = find_page(raw.get((*path, sub.name), item.get(sub.name)), texts)
                    if page is not None:
                        pages[path] = page
                        break
            item_pages = [pages[(spec.name, i)] for i in range(len(value)) if (spec.name, i) in pages]
            if item_pages:
                pages[(spec.name,)] = min(item_pages)
        elif len(page_nos) == 1:
            pages[(spec.name,)] = page_nos[0]
        elif spec.kind == "object":  # the page of the first of its values found
            found = (find_page(raw.get((spec.name, s.name), value.get(s.name)), texts) for s in spec.fields
                     if value.get(s.name) is not None)
            page = next((p for p in found if p is not None), None)
            if page is not None:
                pages[(spec.name,)] = page
        else:
            page = find_page(raw.get((spec.name,), value), texts)
            if page is not None:
                pages[(spec.name,)] = page
    return pages
