"""What a generate call spent its decode steps on (read by the benchmarks; both batching paths fill it).

- row-steps: rows x decode forward passes (the prefill, which writes each answer's first token,
  is not a decode step); useful row-steps: those whose token belongs to an answer. A finished
  row that still rides along in its batch (static batching) or is computed once more before it
  leaves (continuous batching, which launches step k+1 before it reads token k) is not useful.
- prompt_tokens: the prompts' tokens; prompt_tokens_computed: those that went through the model
  (a schema's instructions, shared by its pages, are computed once: engines/inprocess/prefix_store.py).
- mask_seconds: time the device waited on the host for the grammar (matchers advanced, bitmask
  filled). On a GPU with continuous batching: the idle gap on the stream between the end of the
  forward pass and the mask (CUDA events); elsewhere the host time spent on it, since nothing
  else runs meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DecodeStats:
    row_steps: int = 0
    useful_row_steps: int = 0
    decode_steps: int = 0
    prefills: int = 0
    prompt_tokens: int = 0
    prompt_tokens_computed: int = 0
    mask_seconds: float = 0.0
    oom_halvings: int = 0

    @property
    def slot_use(self) -> float:
        return self.useful_row_steps / self.row_steps if self.row_steps else 0.0

    def add(self, other: DecodeStats) -> None:
        for name in ("row_steps", "useful_row_steps", "decode_steps", "prefills", "prompt_tokens",
                     "prompt_tokens_computed", "mask_seconds", "oom_halvings"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
