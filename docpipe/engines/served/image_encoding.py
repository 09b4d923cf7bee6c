"""Page images as `data:` URLs for an OpenAI-compatible server.

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
        return f"data:{self.mime};base64,{base64.b64encode(self.encode(image)).decode('ascii')}"


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
