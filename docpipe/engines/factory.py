"""The one place an engine is built from a run's settings (the CLI and the flow both call it)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from docpipe.engines.base import Engine
from docpipe.engines.checkpoints import resolve_model
from docpipe.engines.inprocess.transformers_engine import AUTO, TransformersEngine


def build_engine(model: str | None, batch_size: int | Literal["auto"], engine: str = "transformers",
                 base_urls: tuple[str, ...] = (), max_in_flight: int | None = None,
                 request_timeout: float = 600.0, image_encoding: str = "jpeg",
                 media_dir: Path | None = None, adapter: Path | None = None) -> Engine:
    """`--engine transformers`: the in-process engine for `--model` (resolved now, so a model that
    cannot be had fails here with ModelNotAvailable, before any work); the weights load on first use.
    `--engine openai`: the served engine; every `--base-url` must answer and serve `--model` now
    (ModelNotAvailable otherwise), and with `media_dir` read page files from it. `adapter`: a
    LoRA adapter folder for the in-process engine."""
    if engine == "openai":
        if adapter is not None:
            raise ValueError("--adapter is for the in-process engine; a served model loads it: "
                             "docpipe serve-model MODEL --lora NAME=DIR, then run --engine openai --model NAME")
        from docpipe.engines.served.openai_engine import OpenAIEngine
        from docpipe.engines.served.openai_server import Retry, check_servers

        servers = check_servers(tuple(base_urls), model, max_in_flight, media_dir)
        return OpenAIEngine(servers, Retry(timeout=request_timeout), image_encoding, media_dir=media_dir)
    if engine != "transformers":
        raise ValueError(f"--engine must be transformers or openai, got {engine!r}")
    return TransformersEngine(resolve_model(model), AUTO if batch_size == "auto" else int(batch_size), adapter=adapter)
