"""Stop a free (unconstrained) answer that loops, instead of letting it run to the token limit.

A transformers StoppingCriteria: every `every` steps it looks at the tokens each free row has
written and stops a row whose tail repeats one block of up to `max_period` tokens at least
`min_repeats` times back-to-back (at least `min_span` tokens). Rows constrained to a JSON schema
are never stopped here (their grammar bounds them). The step where a row stopped is kept so the
engine can drop the padding generate writes after it; the text-level cut
(transcribe/repetition.py) then trims the loop to one occurrence.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import StoppingCriteria

MIN_REPEATS = 8
MIN_SPAN = 64
MAX_PERIOD = 64


def repeating_tail(tokens: Sequence[int], min_repeats: int = MIN_REPEATS, min_span: int = MIN_SPAN,
                   max_period: int = MAX_PERIOD) -> bool:
    """Whether token ids end in a loop."""
    tokens = list(tokens)
    for period in range(1, min(max_period, len(tokens) // min_repeats) + 1):
        block = tokens[-period:]
        count, end = 1, len(tokens) - period
        while end - period >= 0 and tokens[end - period:end] == block:
            count += 1
            end -= period
        if count >= min_repeats and count * period >= min_span:
            return True
    return False


class RepetitionStop(StoppingCriteria):
    def __init__(self, free_rows: Sequence[bool], prompt_length: int, every: int = 16):
        self.free_rows = list(free_rows)
        self.prompt_length = prompt_length
        self.every = every
        self.stopped_at: list[int | None] = [None] * len(self.free_rows)  # new tokens kept

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor | None = None, **kwargs) -> torch.BoolTensor:
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        written = input_ids.shape[1] - self.prompt_length
        if written < MIN_SPAN or written % self.every:
            return done
        start = max(self.prompt_length, input_ids.shape[1] - MIN_REPEATS * MAX_PERIOD)
        window = input_ids[:, start:].tolist()  # written tokens only
        for row, free in enumerate(self.free_rows):
            if free and self.stopped_at[row] is None and repeating_tail(window[row]):
                self.stopped_at[row] = written
                done[row] = True
        return done
