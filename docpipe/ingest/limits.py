"""Rendering's limits and secrets, and the render pool's defaults: plain values, so run settings
can name their defaults without loading PyMuPDF."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WORKERS = 2
DEFAULT_TIMEOUT = 120.0  # seconds per document
DEFAULT_MEMORY_MB = 4096  # address space of one worker


@dataclass(frozen=True)
class RenderOptions:
    """Limits and secrets for rendering."""

    max_pages: int = 16  # pages beyond are recorded as skipped
    max_pixels: int = 100_000_000  # a raster page larger than this is refused before decoding
    passwords: tuple[str, ...] = ()  # tried in order on encrypted PDFs (after the empty one)
    # png | webp | jpeg: each page is encoded into this format as soon as it is rendered, and kept
    # as those bytes (core/page_image.py: what a served request carries); None keeps the pixels
    encoding: str | None = None
    # Office and HTML files (ingest/convert.py): where converted PDFs are kept (OUT/_converted; None:
    # a temporary folder), and how long one conversion may take (below the render timeout, so
    # LibreOffice is stopped by its own limit, whole process group and all)
    converted: str | None = None
    convert_timeout: float = 90.0
