"""What a chunk keeps of a page once it was answered: its size, not its pixels."""

from __future__ import annotations

import dataclasses

from docpipe.core.page_image import size_only
from docpipe.core.types import ModelRequest, RenderedDocument


def sizes_only(thing: RenderedDocument | ModelRequest) -> RenderedDocument | ModelRequest:
    """A rendered document or a request without its pixels (or encoded bytes): a chunk waiting to
    be written holds no images."""
    if isinstance(thing, ModelRequest):
        return dataclasses.replace(thing, images=tuple(size_only(i) for i in thing.images))
    pages = tuple(dataclasses.replace(p, image=size_only(p.image)) for p in thing.pages)
    return dataclasses.replace(thing, pages=pages)
