"""The frozen values that travel from one stage to the next (see docs/architecture.md).

    SourceDocument -> RenderedDocument(RenderedPage...) -> ModelRequest -> RawGeneration
    -> ExtractedRecord; an Attempt is one reading of a document at one budget (all of the above).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL.Image import Image

from docpipe.core.budget import soft_tokens
from docpipe.core.errors import Failure
from docpipe.core.page_image import PageImage
from docpipe.core.vocab import DocumentKind, FinishReason, PageStatus


@dataclass(frozen=True)
class Lineage:
    """Where a document inside a container came from (ingest/unpack.py)."""

    parent: str | None  # the container's doc_id (None: the container itself, an e-mail)
    inner_path: str | None  # its path inside the container
    email: tuple[str | None, str | None, str | None, str | None] | None = None  # from, subject, date, message id


@dataclass(frozen=True)
class SourceDocument:
    """One input file, identified by the sha256 of its bytes."""

    path: Path
    doc_id: str  # for an unreadable file: the sha256 of its path
    kind: DocumentKind
    size_bytes: int
    failure: Failure | None = None  # why an unreadable file could not be read
    name: str = ""  # its path relative to the input folder ('/'-separated): how people name it
    lineage: Lineage | None = None  # inside a container: which, where, and the e-mail it came with

    @property
    def shown_name(self) -> str:
        return self.name or self.path.name


@dataclass(frozen=True)
class Word:
    """A word of a page's text layer, its box normalised to the page as shown (0-1, origin top-left,
    rotation applied): the same frame as the rendered image."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Box:
    """Where a value is printed: a page and a box normalised to it (0-1, origin top-left), or,
    with no page and no box, why there is none (`source`)."""

    page: int | None
    x0: float | None
    y0: float | None
    x1: float | None
    y1: float | None
    # "text_layer": the page's own words; "model": the model's own box_2d (`--boxes model`), used
    # where the text layer has none; "not_found": the text layer was searched and nothing matched
    # well enough; "no_text_layer": the pages have no text layer (scans)
    source: str
    # text_layer: how well the printed words match the value (0-100, rapidfuzz ratio); model: the
    # confidence of the tokens that wrote the box (0-100)
    score: float | None
    # with `--boxes model`, when the model drew a box where the text layer found the value: how much
    # the two overlap (intersection over union, 0-1; 0 when on different pages). The text layer's
    # box is kept; a low figure is the disagreement, for a reviewer to look at
    model_iou: float | None = None


@dataclass(frozen=True)
class RenderedPage:
    """One page rendered at exactly the size Gemma 4's image processor uses for `budget`."""

    doc_id: str
    page_no: int  # 1-based
    # the page's size as the file states it: points for a PDF page, pixels for an image
    source_width: float
    source_height: float
    rotation: int
    budget: int
    # None when the page was not rendered (skipped or failed); a PageImage when kept as encoded
    # bytes, or as its size alone once answered (core/page_image.py)
    image: Image | PageImage | None
    text_layer: str | None
    status: PageStatus = PageStatus.OK
    failure: Failure | None = None
    words: tuple[Word, ...] = ()  # the text layer's words with their boxes (born-digital pages)

    @property
    def soft_tokens(self) -> int:
        """Visual tokens the processor will produce for the rendered image (0 when none)."""
        return 0 if self.image is None else soft_tokens(self.image.height, self.image.width)


@dataclass(frozen=True)
class RenderedDocument:
    """A document's pages, or the failure that left it without any."""

    source: SourceDocument
    pages: tuple[RenderedPage, ...] = ()
    page_count: int = 0  # pages in the file, including any beyond the page limit
    failure: Failure | None = None
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
    images: tuple[Image | PageImage, ...]
    prompt: str
    budget: int
    max_new_tokens: int
    json_schema: str | None = None
    page_nos: tuple[int, ...] = ()  # the pages the images show, 1-based
    # the system turn, before the images: the task's instructions, the same for every page of a
    # schema, so a server's prefix cache shares them (`prompt` is then the user turn's short ask)
    instructions: str = ""


@dataclass(frozen=True)
class RawGeneration:
    """What the engine answered for one request."""

    doc_id: str
    text: str
    prompt_tokens: int
    output_tokens: int
    finish_reason: FinishReason
    seconds: float
    error: str | None = None  # the engine's message when finish_reason is ERROR
    # log-probability of each output token under the distribution it was chosen from, and the
    # character offset in `text` where each token ends (empty when the engine cannot tell)
    token_logprobs: tuple[float, ...] = ()
    token_ends: tuple[int, ...] = ()
    constrained: bool = False
    page_nos: tuple[int, ...] = ()


@dataclass(frozen=True)
class CheckFailure:
    """A check of the schema that a record fails (schema/checks.py)."""

    check: str  # the check's name
    detail: str  # what disagrees, in words, with the numbers
    difference: float | None  # how far apart (amounts), or days (dates)


@dataclass(frozen=True)
class ExtractedRecord:
    """Typed field values for one document, plus what went wrong while typing them."""

    doc_id: str
    values: dict[str, Any]
    valid: bool
    field_errors: dict[str, str] = field(default_factory=dict)
    failure: Failure | None = None  # the record's failure: what documents.error_* will say
    # by path, e.g. ("total",) or ("line_items", 0, "amount"): see answers/validate.py
    raw: dict[tuple, str] = field(default_factory=dict)  # printed text of typed values
    confidence: dict[tuple, float] = field(default_factory=dict)  # see answers/confidence.py
    pages: dict[tuple, int] = field(default_factory=dict)  # source page of fields and list items
    boxes: dict[tuple, Box] = field(default_factory=dict)  # where each value is printed (answers/boxes.py)
    page_nos: tuple[int, ...] = ()  # the pages the model saw
    # how printed values were typed: the date order and decimal mark decided for the document,
    # each with the rule that decided it (normalize/evidence.py), and the currency it prints
    typing: dict[str, str | None] = field(default_factory=dict)
    # answers/assess.py: required values it lacks, checks it fails, values its pages' text lacks
    missing: tuple[str, ...] = ()
    failed_checks: tuple[CheckFailure, ...] = ()
    not_on_page: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def consistent(self) -> bool:
        return not self.failed_checks

    @property
    def lowest_confidence(self) -> float | None:
        """The least certain top-level field (None when the engine gave no probabilities)."""
        tops = [v for path, v in self.confidence.items() if len(path) == 1]
        return min(tops) if tops else None


@dataclass(frozen=True)
class Transcript:
    """One page's text as the model read it, with its quality signals."""

    doc_id: str
    page_no: int
    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    output_tokens: int
    lowest_token_prob: float | None = None
    mean_token_prob: float | None = None
    text_layer_cer: float | None = None  # character error rate against the page's text layer
    seconds: float = 0.0
    error: str | None = None  # the engine's message when the page could not be read


@dataclass(frozen=True)
class PageClass:
    """What the model said of one page (or of a document's first pages) when sorting: its class,
    and with --split whether it starts a new document. Confidences mean what a field's does."""

    page_no: int
    label: str | None  # a schema's name or "other"; None when the answer could not be read
    confidence: float | None = None
    starts: bool | None = None  # --split: the first page of a document (None: not asked, or unread)
    starts_confidence: float | None = None
    problem: str | None = None  # why the answer could not be read


@dataclass(frozen=True)
class Segment:
    """Consecutive pages of one file that make one document of one class (a whole file when not
    split), and the rule that decided its class."""

    number: int  # 1-based, in page order
    page_from: int
    page_to: int
    label: str  # a schema's name, or "other"
    confidence: float | None
    rule: str  # what decided: "model", "only class", "below --class-threshold ...", "unreadable answer", ...
    schema: str | None  # the schema it is extracted with; None: recorded, not extracted

    @property
    def pages(self) -> tuple[int, ...]:
        return tuple(range(self.page_from, self.page_to + 1))


@dataclass(frozen=True)
class Attempt:
    """One reading of a document at one budget: what was rendered, asked, answered and typed."""

    budget: int
    rendered: RenderedDocument
    requests: tuple[ModelRequest, ...] = ()
    generations: tuple[RawGeneration, ...] = ()
    record: ExtractedRecord | None = None  # extraction
    transcripts: tuple[Transcript, ...] = ()  # transcription: one per page read
    # sorting: the pages' classes, the segments they make, and each extracted segment's attempts
    classes: tuple[PageClass, ...] = ()
    segments: tuple[Segment, ...] = ()
    extractions: tuple[tuple[Segment, tuple[Attempt, ...]], ...] = ()
