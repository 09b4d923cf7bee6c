"""The review page's picture of a page is drawn by ingest's own code: a phone photo is turned as its
EXIF orientation says, as it was for the model, and a PDF page keeps its shape (rotation applied),
so the boxes (fractions of the page the model saw) fall where the values are."""

from __future__ import annotations

import io

import pymupdf
import pytest
from PIL import Image

from docpipe.core.errors import DocpipeError
from docpipe.ingest.discover import discover
from docpipe.ingest.limits import RenderOptions
from docpipe.ingest.render import display_page, render_document


def _red_corner(image: Image.Image) -> str:
    """Which corner of the picture holds the red mark."""
    w, h = image.size
    corners = {"top-left": (w * 0.1, h * 0.1), "top-right": (w * 0.9, h * 0.1),
               "bottom-left": (w * 0.1, h * 0.9), "bottom-right": (w * 0.9, h * 0.9)}
    return next(name for name, (x, y) in corners.items() if image.getpixel((int(x), int(y)))[0] > 200
                and image.getpixel((int(x), int(y)))[1] < 80)


def test_a_turned_photo_is_shown_as_the_model_saw_it(tmp_path):
    stored = Image.new("RGB", (400, 200), "white")
    stored.paste((255, 0, 0), (0, 0, 80, 40))  # a mark in the stored image's top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to show": what a phone held upright writes
    data = io.BytesIO()
    stored.save(data, "JPEG", exif=exif.tobytes(), quality=95)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data.getvalue())

    [source] = list(discover(tmp_path))
    seen = render_document(source, 280, RenderOptions()).pages[0].image
    shown = display_page(path, 1, 300)
    assert seen.height > seen.width and shown.height > shown.width  # portrait, both
    assert shown.size == (300, 600)
    assert _red_corner(seen) == _red_corner(shown) == "top-right"


@pytest.mark.parametrize("rotate", [0, 90])
def test_a_pdf_page_keeps_the_shape_the_model_saw(tmp_path, rotate):
    doc = pymupdf.open()
    page = doc.new_page(width=600, height=300)
    page.draw_rect(pymupdf.Rect(0, 0, 120, 60), color=(1, 0, 0), fill=(1, 0, 0))
    page.set_rotation(rotate)
    path = tmp_path / "page.pdf"
    doc.save(path)
    [source] = list(discover(tmp_path))
    seen = render_document(source, 560, RenderOptions()).pages[0].image
    shown = display_page(path, 1, 500)
    # the model's page snaps to Gemma 4's 48-pixel grid; the shown one keeps the page's own shape
    assert abs(seen.width / seen.height / (shown.width / shown.height) - 1) < 0.05
    assert _red_corner(seen) == _red_corner(shown)


def test_what_cannot_be_shown_says_why(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a document")
    with pytest.raises(DocpipeError, match="no pages"):
        display_page(text, 1, 100)
    image = tmp_path / "one.png"
    Image.new("RGB", (10, 10)).save(image)
    with pytest.raises(DocpipeError, match="no frame 2"):
        display_page(image, 2, 100)
