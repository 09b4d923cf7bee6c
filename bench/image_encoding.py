"""CPU cost per page of each image encoding the served engine can send (docpipe/core/page_image.py).

    python bench/image_encoding.py --budget 280 --repeat 20

Pages are docpipe's samples rendered at the budget's size (what the engine sends); for each
encoding: CPU milliseconds per page (encode + base64, time.process_time), the data URL's size,
and the largest pixel error after decoding (0 for the lossless ones).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sample_pages(budget: int) -> list:
    from docpipe.ingest.discover import discover
    from docpipe.ingest.limits import RenderOptions
    from docpipe.ingest.render import render_document

    images = []
    for source in discover(ROOT / "samples"):
        if source.kind != "unknown":
            images += [p.image for p in render_document(source, budget, RenderOptions()).usable_pages]
    return images


def max_error(original, encoded: bytes) -> int:
    import numpy as np
    from PIL import Image

    back = np.asarray(Image.open(io.BytesIO(encoded)).convert(original.mode), dtype=np.int16)
    return int(np.abs(back - np.asarray(original, dtype=np.int16)).max())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=280)
    parser.add_argument("--repeat", type=int, default=10, help="passes over the sample pages")
    args = parser.parse_args(argv)
    from docpipe.core.page_image import ENCODINGS

    pages = sample_pages(args.budget)
    sizes = sorted({f"{p.width}x{p.height}" for p in pages})
    print(f"budget={args.budget} pages={len(pages)} sizes={','.join(sizes)} repeat={args.repeat}")
    print("| encoding | CPU ms/page | data URL KB/page | max pixel error |")
    print("|---|---|---|---|")
    for name, enc in ENCODINGS.items():
        enc.data_url(pages[0])  # warm-up
        started = time.process_time()
        total = 0
        for _ in range(args.repeat):
            for page in pages:
                total += len(enc.data_url(page))
        count = args.repeat * len(pages)
        ms = 1000 * (time.process_time() - started) / count
        error = max(max_error(p, enc.encode(p)) for p in pages)
        print(f"| {name} ({dict(enc.save_options)}) | {ms:.2f} | {total / count / 1024:.0f} | {error} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
