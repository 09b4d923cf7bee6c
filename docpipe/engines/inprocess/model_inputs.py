"""The processor call that turns requests into model inputs (shared by static and continuous batching).

Per request: its instructions as a system turn, then one user turn with its page images and its
ask (engines/chat_turns.py); left padding; the batch's visual
budget as `max_soft_tokens`; every processor output goes to the model (`mm_token_type_ids`
included: without it the larger Gemma 4 models lose bidirectional attention among image tokens).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docpipe.core.page_image import as_pil
from docpipe.core.types import ModelRequest
from docpipe.engines.chat_turns import system_turn


def encode(processor: Any, batch: Sequence[ModelRequest], device: str, dtype: Any) -> Any:
    """Processor outputs for `batch` (one budget), on `device`, pixel values in the model's dtype."""
    messages = [
        system_turn(r) + [{"role": "user", "content": [{"type": "image"}] * len(r.images) + [{"type": "text", "text": r.prompt}]}]
        for r in batch
    ]
    texts = [processor.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in messages]
    inputs = processor(
        text=texts, images=[[as_pil(image) for image in r.images] for r in batch], padding=True,
        return_tensors="pt", max_soft_tokens=batch[0].budget,
    ).to(device)
    if "pixel_values" in inputs:
        inputs["pixel_values"] = inputs["pixel_values"].to(dtype)
    return inputs
