"""Rendered pages kept as encoded bytes, and page images as `data:` URLs for an OpenAI-compatible
server.

A page rendered at budget 560 is ~1.3 M pixels, 3.9 MB as raw RGB: a chunk of 512 such pages
held from render to write is 2 GB. When the run's engine is served, the render workers encode
each page once into the format the request carries (`PageImage`: ~10-20x smaller), the engine
sends those bytes as they are, and once a chunk is answered only each page's size is kept.

Pages are already rendered at the size Gemma 4's processor keeps (core/budget.render_size), so
the server's processor only decodes them: the encoding must not change what the model sees, and
its CPU cost is paid by the client for every page. bench/image_encoding.py measures PNG, WebP
lossless and JPEG at high quality per page (docs/benchmarks.md, "Served engine"); JPEG at quality
95 (4:2:0 chroma, JPEG's usual) is the default: about a tenth of the lossless formats' time
(~30 ms a page for PNG at its fastest level and for lossless WebP at 280 visual tokens), with a
largest pixel error of 10/255 on the sample pages, within the rendering's own anti-aliasing.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL.Image import Image


@dataclass(frozen=True)
class ImageEncoding:
    name: str  # png | webp | jpeg
    mime: str
    save_options: tuple[tuple[str, object], ...]

    def encode(self, image: Image) -> bytes:
        buffer = io.BytesIO()
        picture = image if image.mode in ("RGB", "L") else image.convert("RGB")
        picture.save(buffer, format=self.name.upper(), **dict(self.save_options))
        return buffer.getvalue()

    def data_url(self, image: Image) -> str:
        return self.url_of(self.encode(image))

    def url_of(self, data: bytes) -> str:
        """A data: URL of bytes already in this format."""
        return f"data:{self.mime};base64,{base64.b64encode(data).decode('ascii')}"


ENCODINGS = {
    "png": ImageEncoding("png", "image/png", (("compress_level", 1),)),
    "webp": ImageEncoding("webp", "image/webp", (("lossless", True), ("method", 0), ("quality", 0))),
    "jpeg": ImageEncoding("jpeg", "image/jpeg", (("quality", 95), ("subsampling", 2))),
}
DEFAULT_ENCODING = "jpeg"


def encoding(name: str) -> ImageEncoding:
    try:
        return ENCODINGS[name]
    except KeyError:
        raise ValueError(f"image encoding must be one of {sorted(ENCODINGS)}, got {name!r}") from None


@dataclass(frozen=True)
class PageImage:
    """A rendered page as bytes in `format` (what a served request carries), or, with no bytes,
    only its size (kept once the page was answered)."""

    width: int
    height: int
    data: bytes = b""
    format: str = ""  # png | webp | jpeg; "" when only the size is kept

    @classmethod
    def encoded(cls, image: Image, how: ImageEncoding) -> PageImage:
        return cls(image.width, image.height, how.encode(image), how.name)


def as_pil(image: Image | PageImage) -> Image:
    """The page's pixels (decoded from its bytes when it is a PageImage)."""
    if isinstance(image, PageImage):
        if not image.data:
            raise ValueError("the page's pixels were dropped after it was answered; only its size is kept")
        decoded = PILImage.open(io.BytesIO(image.data))
        decoded.load()
        return decoded
    return image


def data_url(image: Image | PageImage, how: ImageEncoding) -> str:
    """The page as a data: URL in `how`'s format: its own bytes when it is already encoded so."""
    if isinstance(image, PageImage) and image.format == how.name and image.data:
        return how.url_of(image.data)
    return how.data_url(as_pil(image))


def size_only(image: Image | PageImage | None) -> PageImage | None:
    """What is kept of a page once it was answered: its size."""
    return None if image is None else PageImage(image.width, image.height)
