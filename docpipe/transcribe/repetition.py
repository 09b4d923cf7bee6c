"""Runaway repetition: a model that writes the same line (or the same few characters) over and
over until the token limit. `cut_repetition` finds such a loop at the end of a text, keeps its
first occurrence and cuts the rest, so a looping page costs neither the reader nor the index.

A loop is a block of 1 to `max_period` characters that ends the text and repeats back-to-back at
least `min_repeats` times, covering at least `min_span` characters. Legitimate repetition is
short (a table's rule row, "....." leaders); the thresholds are set well above it.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_REPEATS = 8
MIN_SPAN = 160
MAX_PERIOD = 400


@dataclass(frozen=True)
class Cut:
    text: str  # the text with the loop cut to one occurrence
    period: int  # characters in the repeated block
    repeats: int  # how often it was written back-to-back


def _repeats(text: str, period: int) -> int:
    """How many times the last `period` characters repeat back-to-back at the end of `text`."""
    block = text[-period:]
    count, end = 1, len(text) - period
    while end - period >= 0 and text[end - period:end] == block:
        count += 1
        end -= period
    return count


def cut_repetition(text: str, min_repeats: int = MIN_REPEATS, min_span: int = MIN_SPAN,
                   max_period: int = MAX_PERIOD) -> Cut | None:
    """The text without its trailing loop, or None when it does not end in one."""
    stripped = text.rstrip()
    best: Cut | None = None
    for period in range(1, min(max_period, len(stripped) // min_repeats) + 1):
        count = _repeats(stripped, period)
        if count >= min_repeats and count * period >= min_span:
            kept = stripped[: len(stripped) - (count - 1) * period]
            if best is None or len(kept) < len(best.text):
                best = Cut(kept, period, count)
    return best

