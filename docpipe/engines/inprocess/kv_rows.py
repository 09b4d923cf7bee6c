"""Rows in and out of a transformers DynamicCache: the cache surgery continuous batching needs.

transformers' DynamicCache can drop rows (`batch_select_indices`) but has no way to add one, and
its sliding-window layers carry one `cumulative_length` for the whole batch (their mask is
computed from the cache index, not from positions). So a batch is kept as a left-padded block:
every row's entries are contiguous and end at the last column, the padding columns are masked
by the 2-D attention mask, and the sliding layers' `cumulative_length` is the block's width.

- `merge_row`: a request prefilled alone (its own cache, no padding) joins the block: both are
  left-padded to the wider of the two, sliding layers to at most `sliding_window - 1` entries.
- `keep_rows`: finished rows leave (`batch_select_indices`), then columns that are padding in
  every remaining row are cut off the left, so a long answer that ended does not leave its width.

Layers that hold nothing (Gemma 4's KV-shared layers reuse an earlier layer's keys) are skipped.

`cache_argument` and `cache_of`: how a forward pass takes a cache and gives it back, under the
names of the transformers release installed (5.17 says `past_key_values`, later ones `cache`).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch


def cache_argument(model: Any) -> str:
    """The name the model's forward takes its cache by (transformers renamed `past_key_values`)."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def cache_of(output: Any) -> Any:
    """The cache a forward pass returned, under either name."""
    return getattr(output, "cache", None) or output.past_key_values


def _held(layer: Any) -> bool:
    keys = getattr(layer, "keys", None)
    return bool(getattr(layer, "is_initialized", False)) and keys is not None and keys.numel() > 0


def _entries(layer: Any, width: int) -> int:
    """How many columns a layer stores for a block `width` columns wide."""
    if getattr(layer, "is_sliding", False):
        return min(width, layer.sliding_window - 1)
    return width


def _left_fit(tensor: torch.Tensor, columns: int) -> torch.Tensor:
    """`tensor` [rows, heads, length, dim] left-padded with zeros (or cut from the left) to `columns`."""
    length = tensor.shape[-2]
    if length == columns:
        return tensor
    if length > columns:
        return tensor[..., length - columns:, :]
    pad = tensor.new_zeros(*tensor.shape[:-2], columns - length, tensor.shape[-1])
    return torch.cat([pad, tensor], dim=-2)


def merge_row(block: Any, block_width: int, row: Any, row_width: int) -> int:
    """Append the one-row cache `row` (`row_width` tokens) to `block` in place; the new width."""
    width = max(block_width, row_width)
    for into, layer in zip(block.layers, row.layers):
        if not _held(layer):
            continue
        columns = _entries(into, width)
        if _held(into):
            into.keys = torch.cat([_left_fit(into.keys, columns), _left_fit(layer.keys, columns)], dim=0)
            into.values = torch.cat([_left_fit(into.values, columns), _left_fit(layer.values, columns)], dim=0)
        else:  # pragma: no cover - a block always has the same held layers as its rows
            raise ValueError("cannot merge a cache row into a layer the batch does not hold")
        if getattr(into, "is_sliding", False):
            into.cumulative_length = width
    return width


def keep_rows(block: Any, width: int, rows: torch.Tensor, cut: int) -> int:
    """Keep only `rows` (indices) of `block`, then cut `cut` padding columns off the left; the new width."""
    for layer in block.layers:
        if not _held(layer):
            continue
        layer.keys = layer.keys[rows]
        layer.values = layer.values[rows]
        if cut:
            columns = _entries(layer, width - cut)
            layer.keys = _left_fit(layer.keys, columns)
            layer.values = _left_fit(layer.values, columns)
            if getattr(layer, "is_sliding", False):
                layer.cumulative_length = width - cut
    return width - cut
