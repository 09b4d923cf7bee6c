"""Greedy choice under a grammar's token bitmask, in place on the step's logits.

llguidance fills an int32 bitmask [rows, ceil(V/32)] on the CPU (bit j of word w allows token
32w + j). Unpacking it through a byte table gives one boolean per token (a quarter of the
memory of unpacking int32 words), and the mask is applied in place to the float32 logits the
step produced (no [batch x vocab] clone). The chosen token and its log-probability under the
masked distribution stay on the device.
"""

from __future__ import annotations

from functools import cache

import torch


@cache
def _bits(device: str) -> torch.Tensor:
    """[256, 8] bool: bit i of byte b."""
    table = torch.tensor([[(byte >> bit) & 1 for bit in range(8)] for byte in range(256)], dtype=torch.bool)
    return table.to(device)


def unpack_bitmask(bitmask: torch.Tensor, vocab: int) -> torch.Tensor:
    """[rows, words] int32 (little-endian words) -> [rows, vocab] bool, True = allowed."""
    table = _bits(str(bitmask.device))
    as_bytes = bitmask.contiguous().view(torch.uint8)  # [rows, 4 * words]: byte b holds tokens 8b..8b+7
    return table[as_bytes.long()].reshape(bitmask.shape[0], -1)[:, :vocab]


def mask_rows(logits: torch.Tensor, bitmask: torch.Tensor, rows: list[int]) -> None:
    """Forbid, in place, every token the bitmask forbids in `rows` of `logits` [batch, vocab]."""
    if not rows:
        return
    index = torch.tensor(rows, device=logits.device)
    allowed = unpack_bitmask(bitmask[rows].to(logits.device, non_blocking=True), logits.shape[-1])
    logits[index] = logits[index].masked_fill(~allowed, float("-inf"))


def greedy(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The argmax token of each row and its log-probability, both left on the device."""
    chosen = logits.argmax(dim=-1)
    picked = logits.gather(1, chosen.unsqueeze(1)).squeeze(1) - torch.logsumexp(logits, dim=-1)
    return chosen, picked
