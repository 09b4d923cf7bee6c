"""Pages are rendered at exactly the size Gemma 4's own image processor uses, for every budget."""

from __future__ import annotations

import pymupdf
import pytest
import torch
from PIL import Image
from transformers import Gemma4ImageProcessor
from transformers.models.gemma4.image_processing_gemma4 import (
    get_aspect_ratio_preserving_size,
)

from docpipe.core.budget import BUDGETS, processor_size, render_size
from docpipe.ingest.discover import discover
from docpipe.ingest.limits import RenderOptions
from docpipe.ingest.render import render_document

# (width, height) in points: US Letter portrait, A4 landscape, an 80 mm receipt, a long strip
PAGE_SHAPES = {"portrait": (612, 792), "landscape": (842, 595), "receipt": (227, 1134), "strip": (100, 2000)}


def _transformers_size(height, width, budget):
    return get_aspect_ratio_preserving_size(height, width, 16, budget * 9, 3)


@pytest.mark.parametrize("budget", BUDGETS)
def test_processor_size_matches_transformers(budget):
    for height, width in [(792, 612), (595, 842), (1134, 227), (2000, 100), (3000, 600), (1, 1), (48, 4800)]:
        assert processor_size(height, width, budget) == _transformers_size(height, width, budget)


def _pdf(tmp_path, width, height, rotate=0):
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    page.insert_text((20, 40), "Invoice INV-7 total 12.50", fontsize=11)
    page.draw_rect(pymupdf.Rect(10, 10, width - 10, height - 10))
    if rotate:
        page.set_rotation(rotate)
    path = tmp_path / f"page-{width}x{height}-r{rotate}.pdf"
    doc.save(path)
    return path


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("shape", sorted(PAGE_SHAPES))
def test_pdf_render_is_what_the_processor_keeps(tmp_path, shape, budget):
    width, height = PAGE_SHAPES[shape]
    (source,) = discover(_pdf(tmp_path, width, height))
    rendered = render_document(source, budget, RenderOptions(max_pages=4))
    assert rendered.failure is None
    (page,) = rendered.pages
    image = page.image
    # the processor would leave this size as it is: no second resize
    assert _transformers_size(image.height, image.width, budget) == (image.height, image.width)
    # and it is the size the processor gives the page at any resolution we could have rendered
    assert (image.height, image.width) == render_size(height, width, budget)
    assert image.width % 48 == 0 and image.height % 48 == 0
    # aspect ratio kept to within one 48-pixel step of the shorter side
    error = abs((image.width / image.height) / (width / height) - 1)
    assert error <= 48 / min(image.width, image.height)
    out = Gemma4ImageProcessor()(images=[image], max_soft_tokens=budget, return_tensors="pt")
    assert out["num_soft_tokens_per_image"].tolist() == [page.soft_tokens]
    assert page.soft_tokens <= budget
    real_patches = int((out["image_position_ids"][0, :, 0] >= 0).sum())
    assert real_patches == (image.width // 16) * (image.height // 16)


def test_processor_on_our_render_equals_processor_on_a_high_resolution_scan(tmp_path):
    """Feeding the processor our render or a big image of the same page gives the same patch grid."""
    (source,) = discover(_pdf(tmp_path, 612, 792))
    page = render_document(source, 280, RenderOptions(max_pages=1)).pages[0]
    big = Image.new("RGB", (2550, 3300), "white")  # the same page at 300 dpi
    processor = Gemma4ImageProcessor()
    ours = processor(images=[page.image], max_soft_tokens=280, return_tensors="pt")
    theirs = processor(images=[big], max_soft_tokens=280, return_tensors="pt")
    assert ours["num_soft_tokens_per_image"].tolist() == theirs["num_soft_tokens_per_image"].tolist()
    assert torch.equal(ours["image_position_ids"], theirs["image_position_ids"])


def test_rotation_is_honoured_and_text_layer_kept(tmp_path):
    (source,) = discover(_pdf(tmp_path, 612, 792, rotate=90))
    page = render_document(source, 280, RenderOptions(max_pages=1)).pages[0]
    assert page.rotation == 90
    assert page.image.width > page.image.height  # a portrait page turned on its side
    assert "INV-7" in page.text_layer


@pytest.mark.parametrize("budget", [70, 1120])
def test_raster_pages_and_tiff_frames(tmp_path, budget):
    frames = [Image.new("RGB", (600, 3000), "white"), Image.new("RGB", (1700, 1100), "white")]
    path = tmp_path / "scan.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    (source,) = discover(path)
    rendered = render_document(source, budget, RenderOptions(max_pages=8))
    assert source.kind == "tiff" and rendered.page_count == 2
    for page, frame in zip(rendered.pages, frames):
        assert page.image.size[::-1] == render_size(frame.height, frame.width, budget)
        size = (page.image.height, page.image.width)
        assert _transformers_size(*size, budget) == size


def test_pages_beyond_the_limit_are_recorded_as_skipped(tmp_path):
    doc = pymupdf.open()
    for _ in range(3):
        doc.new_page()
    path = tmp_path / "three.pdf"
    doc.save(path)
    (source,) = discover(path)
    rendered = render_document(source, 70, RenderOptions(max_pages=2))
    assert rendered.page_count == 3
    assert [p.status for p in rendered.pages] == ["ok", "ok", "skipped"]
    assert "page limit" in rendered.pages[2].failure.message
