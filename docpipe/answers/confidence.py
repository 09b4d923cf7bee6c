"""Per-value confidence from the probabilities of the tokens that wrote the value.

    confidence(value) = min over the tokens t that write any character of the value
                        (its quotes included) of p(t | everything before t)

where p is the distribution the token was chosen from: with constrained decoding, the model's
softmax renormalized over the tokens the grammar allowed (forced tokens such as the closing
quote of a fixed key have p = 1 and never lower a confidence). The minimum, not the product,
so that a long address is not less certain than a short one just for being long, and one unsure
digit in an amount shows. A null value's confidence is that of the tokens of `null`.
A list or object's confidence is the minimum over everything inside it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from docpipe.answers.json_spans import Path


def span_confidence(span: tuple[int, int], token_ends: Sequence[int], logprobs: Sequence[float]) -> float | None:
    """min p over the tokens overlapping the character span [start, end)."""
    start, end = span
    first = bisect.bisect_right(token_ends, start)  # first token that ends after `start`
    lowest = None
    for index in range(first, min(len(token_ends), len(logprobs))):
        token_start = token_ends[index - 1] if index else 0
        if token_start >= end:
            break
        if token_ends[index] > token_start:  # tokens that wrote characters
            lowest = logprobs[index] if lowest is None else min(lowest, logprobs[index])
    return None if lowest is None else math.exp(lowest)


def value_confidences(spans: dict[Path, tuple[int, int]], token_ends: Sequence[int],
                      logprobs: Sequence[float]) -> dict[Path, float]:
    """Confidence of every leaf, and of every list, list item and field that contains leaves."""
    if not logprobs or not token_ends:
        return {}
    out: dict[Path, float] = {}
    for path, span in spans.items():
        value = span_confidence(span, token_ends, logprobs)
        if value is None:
            continue
        for depth in range(1, len(path) + 1):  # the leaf and each container above it
            prefix = path[:depth]
            out[prefix] = min(out.get(prefix, 1.0), value)
    return out
