"""Gemma 4's visual token budget and the image size its processor uses for it.

Gemma 4 cuts an image into 16-pixel patches and pools 3x3 of them into one soft token, so an image
of H x W pixels (both multiples of 48) costs (H/48) * (W/48) tokens. For a budget B the processor
keeps the aspect ratio and resizes to the largest multiples of 48 within 9 * B patches:

    f = sqrt(9 * B * 256 / (H * W));  H' = floor(H * f / 48) * 48;  W' = floor(W * f / 48) * 48

(transformers' `get_aspect_ratio_preserving_size`, reproduced here so that rendering needs no torch).
Rendering a page straight at H' x W' means the processor has nothing left to resize.
"""

from __future__ import annotations

import math

BUDGETS = (70, 140, 280, 560, 1120)
DEFAULT_BUDGET = 280  # when neither the run nor the schema names a budget
PATCH = 16
POOL = 3
SIDE = PATCH * POOL  # 48: every rendered side is a multiple of this


def check_budget(budget: int) -> int:
    if budget not in BUDGETS:
        raise ValueError(f"visual token budget must be one of {BUDGETS}, got {budget}")
    return budget


def processor_size(height: float, width: float, budget: int) -> tuple[int, int]:
    """The (height, width) Gemma 4's image processor resizes an H x W image to, for `budget`."""
    check_budget(budget)
    max_patches = budget * POOL * POOL
    target_px = max_patches * PATCH * PATCH
    factor = math.sqrt(target_px / (height * width))
    h = int(math.floor(factor * height / SIDE)) * SIDE
    w = int(math.floor(factor * width / SIDE)) * SIDE
    max_side = (max_patches // POOL**2) * SIDE
    if h == 0 and w == 0:
        raise ValueError(f"cannot size a {height}x{width} image for budget {budget}")
    if h == 0:
        h, w = SIDE, min(int(math.floor(width / height)) * SIDE, max_side)
    elif w == 0:
        w, h = SIDE, min(int(math.floor(height / width)) * SIDE, max_side)
    return h, w


def render_size(height: float, width: float, budget: int) -> tuple[int, int]:
    """The size to render a page at so that the processor keeps it exactly as it is.

    Usually that is the processor's own size for the page (what it makes of a 300-dpi scan). But
    that size is not always kept when fed back: flooring both sides can leave enough room under
    the budget that a second pass enlarges one side (a receipt at 1120 tokens: 3552 x 672 would
    grow to 3744 x 672, 10% taller). Then, among the sizes on the 48-pixel grid nearby that the
    processor leaves alone (its fixed points), take the closest to the page's aspect ratio, and
    the largest of those.
    """
    h0, w0 = processor_size(height, width, budget)
    if processor_size(h0, w0, budget) == (h0, w0):
        return h0, w0
    aspect = math.log(height / width)
    best: tuple[float, int, int, int] | None = None
    for h in range(max(SIDE, h0 - 4 * SIDE), h0 + 5 * SIDE, SIDE):
        for w in range(max(SIDE, w0 - 4 * SIDE), w0 + 5 * SIDE, SIDE):
            if processor_size(h, w, budget) != (h, w):
                continue
            key = (round(abs(math.log(h / w) - aspect), 9), -h * w, h, w)
            if best is None or key < best:
                best = key
    if best is not None:
        return best[2], best[3]
    h, w = h0, w0
    while processor_size(h, w, budget) != (h, w):  # grows, bounded by the budget
        h, w = processor_size(h, w, budget)
    return h, w


def soft_tokens(height: int, width: int) -> int:
    """Soft tokens for an image already sized by `render_size`."""
    return (height // SIDE) * (width // SIDE)
