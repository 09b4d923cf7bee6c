"""What render workers keep after large scans: the process tree's memory (PSS) while two render
workers draw a folder of small born-digital PDFs with large scanned pages among them, with each
worker giving back what a document held (MuPDF's store, the C heap: ingest/render_pool.py's
`release_memory`, the default) and without, side by side in one run.

    python bench/render_memory.py                    # 4 scans of ~25 MB among 60 small PDFs, budget 560
    python bench/render_memory.py --scans 8 --small 200

The scans are PDFs holding one noisy JPEG page each (about the size a 600-dpi colour scan has);
the small ones are copies of samples/invoice_acme.pdf. Prints the peak and the end PSS of the
workers (the fork server and its children: psutil's memory_full_info), and writes
bench/results/render_memory/<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_scans(folder: Path, scans: int, megapixels: float, prefix: str = "scan") -> list[Path]:
    """`scans` one-page PDFs, each holding one colour scan of `megapixels` (random noise: it
    compresses as badly as a real colour scan; 27 megapixels make a 25 MB JPEG)."""
    import numpy as np
    import pymupdf
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    width = int((megapixels * 1e6 * 0.707) ** 0.5)
    height = int(width / 0.707)
    paths = []
    for index in range(scans):
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        data = io.BytesIO()
        Image.fromarray(pixels).save(data, "JPEG", quality=92)
        doc = pymupdf.open()
        page = doc.new_page(width=595, height=842)
        page.insert_image(page.rect, stream=data.getvalue())
        path = folder / f"{prefix}_{index:02d}.pdf"
        doc.save(path)
        paths.append(path)
    return paths


def make_folder(folder: Path, scans: int, small: int, megapixels: float) -> list[Path]:
    paths = write_scans(folder, scans, megapixels)
    for index in range(small):
        path = folder / f"small_{index:04d}.pdf"
        shutil.copy(ROOT / "samples" / "invoice_acme.pdf", path)
        paths.append(path)
    every = max(1, len(paths) // max(1, scans))  # the scans spread among the small files
    ordered = [p for p in paths if p.name.startswith("small")]
    for n, scan in enumerate(p for p in paths if p.name.startswith("scan")):
        ordered.insert(min(len(ordered), n * every), scan)
    return ordered


def tree_pss() -> int:
    """PSS of this process's children and theirs (the fork server and the render workers)."""
    import psutil

    total = 0
    for child in psutil.Process().children(recursive=True):
        try:
            total += child.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measure(paths: list[Path], budget: int, release: bool, chunk: int) -> dict:
    from docpipe.ingest.discover import discover
    from docpipe.ingest.limits import RenderOptions
    from docpipe.ingest.render_pool import RenderPool

    sources = {d.path: d for d in discover(paths[0].parent)}
    ordered = [sources[p] for p in paths if p in sources]
    pool = RenderPool(2, 300, 4096, release=release, recycle_after=None)
    peak, stop = [0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], tree_pss())
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        for at in range(0, len(ordered), chunk):
            for doc in pool.render(ordered[at: at + chunk], budget, RenderOptions()):
                assert doc.failure is None, doc.failure
        seconds = time.perf_counter() - started
        time.sleep(0.5)
        end = tree_pss()
    finally:
        stop.set()
        sampler.join()
        pool.close()
    return {"release": release, "documents": len(ordered), "seconds": round(seconds, 1),
            "peak_mib": round(peak[0] / 2**20), "end_mib": round(end / 2**20)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=4)
    parser.add_argument("--small", type=int, default=60)
    parser.add_argument("--megapixels", type=float, default=30.0, help="pixels of each scan's page image")
    parser.add_argument("--budget", type=int, default=560)
    parser.add_argument("--chunk", type=int, default=8, help="documents handed to the pool at once")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="docpipe-render-memory-") as work:
        paths = make_folder(Path(work), args.scans, args.small, args.megapixels)
        sizes = [p.stat().st_size for p in paths if p.name.startswith("scan")]
        print(f"{len(paths)} documents: {args.scans} scans of {sum(sizes) / max(1, len(sizes)) / 2**20:.1f} MB, "
              f"{args.small} small PDFs; budget {args.budget}, 2 render workers")
        runs = [measure(paths, args.budget, release, args.chunk) for release in (False, True, False, True)]
    print("| workers give back after each document | seconds | peak PSS MiB | PSS at the end MiB |")
    print("|---|---|---|---|")
    for run in runs:
        print(f"| {'yes' if run['release'] else 'no'} | {run['seconds']} | {run['peak_mib']} | {run['end_mib']} |")
    out = ROOT / "bench" / "results" / "render_memory" / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-cpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "scan_bytes": sizes, "runs": runs}, indent=1) + "\n")
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
