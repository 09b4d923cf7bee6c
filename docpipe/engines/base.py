"""The seam between the pipeline and whatever runs the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from docpipe.core.types import ModelRequest, RawGeneration


class Engine(Protocol):
    """Answers a batch of requests. Implementations load their model lazily, on first use.

    `generate` returns one RawGeneration per request, in order. A failure of one request is
    reported in its RawGeneration (finish_reason "error"), not raised, so a batch never takes
    the run down; only a failure to load the model at all raises.
    """

    name: str

    def queue_depth(self) -> int:
        """Requests to hand over per call to keep every decoding slot busy: the pipeline's
        chunks are this many documents unless --chunk-size says otherwise."""
        ...

    def generate(self, requests: Sequence[ModelRequest]) -> list[RawGeneration]: ...
