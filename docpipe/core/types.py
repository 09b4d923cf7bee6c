"""The frozen values that travel from one stage to the next (see docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL.Image import Image


@dataclass(frozen=True)
class SourceDocument:
    """One input file, identified by the sha256 of its bytes."""

    path: Path
    doc_id: str  # for an unreadable file: the sha256 of its path
    kind: str  # pdf | png | jpeg | tiff | unknown | empty | unreadable
    size_bytes: int
    error: str | None = None  # why an unreadable file could not be read


@dataclass(frozen=True)
class RenderedPage:
    """One page rendered at exactly the size Gemma 4's image processor uses for `budget`."""

    doc_id: str
    page_no: int  # 1-based
    width_pt: float  # page size as the file states it (points for PDF, pixels for images)
    height_pt: float
    rotation: int
    budget: int
    image: Image | None  # None when the page was not rendered (skipped or failed)
    text_layer: str | None
    status: str = "ok"  # ok | skipped | failed
    error: str | None = None

    @property
    def soft_tokens(self) -> int:
        """Visual tokens the processor will produce: one per 3x3 block of 16-pixel patches."""
        if self.image is None:
            return 0
        return (self.image.width // 48) * (self.image.height // 48)


@dataclass(frozen=True)
class RenderedDocument:
    """A document's pages, or the reason it has none."""

    source: SourceDocument
    pages: tuple[RenderedPage, ...] = ()
    page_count: int = 0  # pages in the file, including any beyond the page limit
    error_category: str | None = None
    error_message: str | None = None
    render_seconds: float = 0.0

    @property
    def usable_pages(self) -> tuple[RenderedPage, ...]:
        return tuple(p for p in self.pages if p.image is not None)


@dataclass(frozen=True)
class ModelRequest:
    """What the engine is asked: some page images and one prompt, at one visual budget.

    With `json_schema` (serialized) the answer is constrained to that schema's shape.
    """

    doc_id: str
    images: tuple[Image, ...]
    prompt: str
    budget: int
    max_new_tokens: int
    json_schema: str | None = None
    page_nos: tuple[int, ...] = ()  # the pages the images show, 1-based


@dataclass(frozen=True)
class RawGeneration:
    """What the engine answered for one request."""

    doc_id: str
    text: str
    prompt_tokens: int
    output_tokens: int
    finish_reason: str  # stop | length | error
    seconds: float
    error: str | None = None
    # log-probability of each output token under the distribution it was chosen from, and the
    # character offset in `text` where each token ends (empty when the engine cannot tell)
    token_logprobs: tuple[float, ...] = ()
    token_ends: tuple[int, ...] = ()
    constrained: bool = False
    page_nos: tuple[int, ...] = ()


@dataclass(frozen=True)
class ExtractedRecord:
    """Typed field values for one document, plus what went wrong while typing them."""

    doc_id: str
    values: dict[str, Any]
    valid: bool
    field_errors: dict[str, str] = field(default_factory=dict)
    error_category: str | None = None
    error_message: str | None = None
    # by path, e.g. ("total",) or ("line_items", 0, "amount"): see validate.py
    raw: dict[tuple, str] = field(default_factory=dict)  # printed text of typed values
    confidence: dict[tuple, float] = field(default_factory=dict)  # see confidence.py
    pages: dict[tuple, int] = field(default_factory=dict)  # source page of fields and list items
    page_nos: tuple[int, ...] = ()  # the pages the model saw

    @property
    def lowest_confidence(self) -> float | None:
        """The least certain top-level field (None when the engine gave no probabilities)."""
        tops = [v for path, v in self.confidence.items() if len(path) == 1]
        return min(tops) if tops else None
