"""How many requests fit in one generate call on this GPU (`--batch-size auto`).

    batch = (memory free after loading the weights x headroom) / (per-request memory)

Per request: the KV cache of its sequence (prompt + answer) in every layer -- sliding-window
layers hold at most `sliding_window` positions, global layers all of them; layers that share
another layer's KV (num_kv_shared_layers) hold none; with attention_k_eq_v the keys double as
values -- plus the vision encoder's activations for its images (9 x budget patches each, padded)
and the language model's prefill activations. The estimate is deliberately simple; its
coefficients are checked against peak memory measured by bench/throughput.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestShape:
    budget: int
    images: int = 1
    text_tokens: int = 450  # prompt text around the images
    new_tokens: int = 200


def kv_bytes_per_request(text_config: Any, tokens: int, bytes_per_value: int = 2) -> int:
    layer_types = list(text_config.layer_types)
    shared = int(getattr(text_config, "num_kv_shared_layers", 0) or 0)
    total = 0
    for index, kind in enumerate(layer_types[: len(layer_types) - shared]):
        layer = text_config.per_layer_config[index]  # heads and head size differ per layer kind
        sliding = kind == "sliding_attention"
        positions = min(tokens, layer.sliding_window) if sliding else tokens
        tensors = 1 if layer.attention_k_eq_v and not sliding else 2  # keys double as values
        total += tensors * layer.num_key_value_heads * layer.head_dim * positions * bytes_per_value
    return total


def activation_bytes_per_request(config: Any, shape: RequestShape, bytes_per_value: int = 2) -> int:
    vision = config.vision_config
    text = config.get_text_config().per_layer_config[0]
    patches = 9 * shape.budget * shape.images
    # vision encoder: a few hidden-size buffers and the MLP's intermediate per patch (one layer live)
    vision_bytes = patches * (6 * vision.hidden_size + 2 * vision.intermediate_size) * bytes_per_value
    tokens = shape.budget * shape.images + shape.text_tokens
    inner = getattr(config.get_text_config(), "moe_intermediate_size", None) or 0
    top_k = getattr(config.get_text_config(), "top_k_experts", None) or 0
    mlp = max(text.intermediate_size, inner * top_k)
    text_bytes = tokens * (6 * text.hidden_size + 2 * mlp) * bytes_per_value
    return vision_bytes + text_bytes


def per_request_bytes(config: Any, shape: RequestShape) -> int:
    tokens = shape.budget * shape.images + shape.text_tokens + shape.new_tokens
    return kv_bytes_per_request(config.get_text_config(), tokens) + activation_bytes_per_request(config, shape)


def auto_batch_size(config: Any, free_bytes: int, shape: RequestShape,
                    headroom: float = 0.85, ceiling: int = 512) -> int:
    """The largest batch whose estimated memory fits in `headroom` of the memory left free once
    the weights are loaded (so weights are not counted again here)."""
    vocab = config.get_text_config().vocab_size
    per_row = per_request_bytes(config, shape) + 2 * vocab * 4  # + last-position logits, float32
    size = int(free_bytes * headroom // per_row)
    return max(1, min(ceiling, size))
