"""The seam between the pipeline and whatever runs the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from docpipe.core.types import ModelRequest, RawGeneration
from docpipe.engines.checkpoints import ModelChoice


class Engine(Protocol):
    """Answers a batch of requests. Implementations load their model lazily, on first use.

    `generate` returns one RawGeneration per request, in order. A failure of one request is
    reported in its RawGeneration (finish_reason "error"), not raised, so a batch never takes
    the run down. Raised are only: a failure to load the model at all, and EngineUnreachable
    (core/errors.py) when some requests could reach no server (Prefect retries the chunk).
    """

    name: str
    choice: ModelChoice | None  # the model and why it was chosen (the CLI prints it)

    def queue_depth(self) -> int:
        """Requests to hand over per call to keep every decoding slot busy: the pipeline's
        chunks are this many documents unless --chunk-size says otherwise."""
        ...

    def generate(self, requests: Sequence[ModelRequest]) -> list[RawGeneration]: ...

    def holds_gpu(self) -> bool:
        """Whether this engine loads its model onto a GPU of this host: runs of one host then
        take the GPU's model slot in turn (flows/model_slot.py); a served engine's do not."""
        ...

    def close(self) -> None:
        """Give back what the engine holds (connections, page files); the model goes with it."""
        ...

    def notes(self) -> list[str]:
        """Lines for the end of a run's summary (e.g. the served engine's in-flight windows)."""
        ...
