"""`--boxes model`: the keys that ask Gemma 4 for a box beside each value, in the same answer.

Gemma 4 writes boxes natively as `box_2d` = [y1, x1, y2, x2] on a 0-1000 grid over the image
(origin top-left). With boxes asked for, every scalar field `f` (and every field of a list item)
is followed in the answer by `f_box_2d`, four integers from 0 to 1000 or null; when the request
holds several page images, by `f_box_page` first, which image the box is on (1 = the first).
The JSON schema enforces both: a constrained answer cannot write 1001, or image 3 of 2.
"""

from __future__ import annotations

from typing import Any

BOX_SUFFIX = "_box_2d"
PAGE_SUFFIX = "_box_page"
GRID = 1000  # Gemma 4's box coordinates run from 0 to 1000 across the image


def is_box_key(key: Any) -> bool:
    return isinstance(key, str) and key.endswith((BOX_SUFFIX, PAGE_SUFFIX))


def box_properties(name: str, images: int) -> dict[str, Any]:
    """The JSON-schema properties that follow field `name` in an answer about `images` images."""
    coordinate = {"type": "integer", "minimum": 0, "maximum": GRID}
    out: dict[str, Any] = {}
    if images > 1:
        out[name + PAGE_SUFFIX] = {"type": ["integer", "null"], "minimum": 1, "maximum": images}
    out[name + BOX_SUFFIX] = {"type": ["array", "null"], "items": coordinate, "minItems": 4, "maxItems": 4}
    return out


def box_instructions(images: int) -> str:
    """The prompt's sentence about the box keys."""
    text = (f"After each value, give where it is printed: <field>{BOX_SUFFIX} = [y1, x1, y2, x2], integers "
            f"from 0 to {GRID} across the page image (0, 0 at the top left); null when the value is null.")
    if images > 1:
        text += f" Before it, <field>{PAGE_SUFFIX}: the image it is on (1 for the first)."
    return text
