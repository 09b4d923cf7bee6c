"""A renderer that hangs, crashes or eats memory fails its document alone; the pool goes on."""

from __future__ import annotations

import time

import pytest
from PIL import Image

from docpipe.core.budget import render_size
from docpipe.ingest.discover import discover
from docpipe.ingest.limits import RenderOptions
from docpipe.ingest.render_pool import RenderPool
from tests.ingest import render_faults


def _doc(tmp_path):
    Image.new("RGB", (400, 600), "white").save(tmp_path / "page.png")
    return discover(tmp_path / "page.png")[0]


@pytest.mark.slow
def test_hang_is_stopped_at_the_time_limit(tmp_path):
    source = _doc(tmp_path)
    pool = RenderPool(workers=1, timeout=2, render_fn=render_faults.hang)
    try:
        started = time.monotonic()
        (result,) = pool.render([source], 70, RenderOptions())
        assert time.monotonic() - started < 30
    finally:
        pool.close()
    assert result.failure.category == "timeout" and "longer than 2 s" in result.failure.message


def test_crash_and_memory_exhaustion_fail_alone_and_the_next_document_renders(tmp_path):
    source = _doc(tmp_path)
    for fault, category in ((render_faults.crash, "render_error"), (render_faults.hog, "too_large")):
        pool = RenderPool(workers=1, timeout=30, memory_mb=1024, render_fn=fault)
        try:
            (result,) = pool.render([source], 70, RenderOptions())
        finally:
            pool.close()
        assert result.failure.category == category, result.failure.message
    healthy = RenderPool(workers=1, timeout=30)
    try:
        (good,) = healthy.render([source], 70, RenderOptions())
    finally:
        healthy.close()
    height, width = render_size(600, 400, 70)
    assert good.failure is None and good.pages[0].image.size == (width, height)


def test_decompression_bomb_is_refused_unread(tmp_path):
    Image.new("1", (12000, 12000)).save(tmp_path / "bomb.png", optimize=True)  # small file, 144 Mpx
    (source,) = discover(tmp_path / "bomb.png")
    pool = RenderPool(workers=1, timeout=30)
    try:
        (result,) = pool.render([source], 70, RenderOptions(max_pixels=50_000_000))
    finally:
        pool.close()
    assert result.failure.category == "too_large" and "decompression bomb" in result.failure.message
