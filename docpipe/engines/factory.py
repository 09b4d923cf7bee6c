"""The one place an engine is built from a run's settings (the CLI and the flow both call it)."""

from __future__ import annotations

from typing import Literal

from docpipe.engines.checkpoints import resolve_model
from docpipe.engines.transformers_engine import AUTO, TransformersEngine


def build_engine(model: str | None, batch_size: int | Literal["auto"]) -> TransformersEngine:
    """The in-process transformers engine for `--model` (resolved now, so a model that cannot be
    had fails here with ModelNotAvailable, before any work); the weights load on first use."""
    return TransformersEngine(resolve_model(model), AUTO if batch_size == "auto" else int(batch_size))
