"""Render + preprocess pages per second per CPU core: can the CPU side keep a GPU fed?

    python bench/render_rate.py [--pages 200] [--budget 280] [--workers 1,2]

Renders docpipe's samples (born-digital PDFs and scans) through the render worker pool, cycled to
--pages documents, then runs Gemma 4's processor (patchify + tokenize) on the rendered pages, as
the engine does before generate. Prints pages/s and pages/s per worker for each part.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200, help="documents to render (samples, cycled)")
    parser.add_argument("--budget", type=int, default=280)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args(argv)

    import torch

    from docpipe.engines.tiny_checkpoint import build_processor
    from docpipe.ingest.discover import discover
    from docpipe.ingest.limits import RenderOptions
    from docpipe.ingest.render_pool import RenderPool

    torch.set_num_threads(1)
    samples = [d for d in discover(ROOT / "samples") if d.kind != "unknown"]
    sources = list(itertools.islice(itertools.cycle(samples), args.pages))
    print(f"{len(sources)} documents from samples/ at budget {args.budget}")
    rendered = []
    for workers in (int(w) for w in args.workers.split(",")):
        pool = RenderPool(workers=workers, timeout=120)
        try:
            pool.render(sources[:workers], args.budget, RenderOptions())  # start the workers
            started = time.perf_counter()
            rendered = pool.render(sources, args.budget, RenderOptions())
            seconds = time.perf_counter() - started
        finally:
            pool.close()
        pages = sum(len(d.usable_pages) for d in rendered)
        print(f"render, {workers} worker(s): {pages / seconds:7.1f} pages/s  ({pages / seconds / workers:6.1f} per worker)")
    processor = build_processor()
    images = [p.image for d in rendered for p in d.usable_pages]
    text = "<|image|>Read this invoice."
    started = time.perf_counter()
    for start in range(0, len(images), 16):
        batch = images[start : start + 16]
        processor(text=[text] * len(batch), images=[[i] for i in batch], return_tensors="pt",
                  max_soft_tokens=args.budget, padding=True)
    seconds = time.perf_counter() - started
    print(f"preprocess (Gemma4Processor), 1 thread: {len(images) / seconds:7.1f} pages/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
