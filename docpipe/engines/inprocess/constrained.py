"""Schema-constrained decoding for transformers' generate, with llguidance.

One llguidance matcher per row of the batch follows that row's JSON schema; before each decoding
step the processor masks every token the grammar forbids, so the answer cannot leave the
schema's shape. The same processor records the probability of each chosen token under the
distribution the model actually sampled from (the constrained one), which gives per-field
confidence later without keeping the full score tensors (200 steps x 16 rows x 262k floats
would be 3.4 GB).

Why llguidance: see docs/constrained_decoding.md (it produced valid JSON for every schema on the
Gemma tokenizer shape; xgrammar and outlines did not, and it needs no compilation step).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor


class GrammarCompiler:
    """Wraps a tokenizer for llguidance once (about a second for a 262k vocabulary) and turns JSON
    schemas into grammars, each compiled once."""

    def __init__(self, hf_tokenizer: Any, vocab_size: int, stop_ids: Sequence[int]):
        import llguidance
        import llguidance.hf

        self.vocab_size = vocab_size
        self.tokenizer = llguidance.hf.from_tokenizer(hf_tokenizer, n_vocab=vocab_size, eos_token=list(stop_ids))
        self.executor = llguidance.LLExecutor()
        self._grammars: dict[str, str] = {}
        self._matchers: dict[str, Any] = {}  # json schema -> a matcher at its start, copied per answer

    def grammar(self, json_schema: str) -> str:
        import llguidance

        if json_schema not in self._grammars:
            self._grammars[json_schema] = llguidance.LLMatcher.grammar_from_json_schema(
                json.loads(json_schema), defaults={"whitespace_flexible": False}
            )
        return self._grammars[json_schema]

    def matcher(self, json_schema: str):
        """A fresh matcher for `json_schema`: a copy of one built once per schema (building one
        costs tens of ms on a 262k vocabulary, a copy tens of microseconds)."""
        import llguidance

        if json_schema not in self._matchers:
            matcher = llguidance.LLMatcher(self.tokenizer, self.grammar(json_schema), log_level=0)
            if matcher.is_error():
                raise ValueError(f"llguidance cannot compile the schema: {matcher.get_error()}")
            self._matchers[json_schema] = matcher
        return self._matchers[json_schema].deep_copy()


class ConstrainedJsonProcessor(LogitsProcessor):
    """Masks each row to its grammar (rows without one are left free) and records, per row, the
    log-probability of every token chosen (under the masked distribution).

    Per step it costs one device-to-host copy of the chosen tokens, and only while some row's
    grammar still needs them; the log-probabilities stay on the device until `finish`. The mask is
    applied in place: `generate` hands the processors its own float32 copy of the step's logits
    (keep it that way: with `output_logits=True` that copy is what generate would keep).
    `seconds` is the host time spent here (the device waits on it: generate syncs per step)."""

    def __init__(self, compiler: GrammarCompiler | None, schemas: Sequence[str | None], stop_ids: Sequence[int]):
        self.compiler = compiler
        self.matchers = [compiler.matcher(s) if (compiler and s) else None for s in schemas]
        self.stop_ids = set(stop_ids)
        self.rows = len(schemas)
        self.logprobs: list[list[float]] = [[] for _ in schemas]  # filled by `finish`
        self.finished = [False] * self.rows
        self.grammar_errors: list[str | None] = [None] * self.rows
        self.seconds = 0.0
        self._picked: list[torch.Tensor] = []  # per step, [rows] on the model's device
        self._last_scores: torch.Tensor | None = None  # stays on the model's device
        self._last_lse: torch.Tensor | None = None

    def _record(self, chosen: torch.Tensor) -> None:
        """Log-probabilities of the tokens generate just appended; advance the matchers."""
        if self._last_scores is None:
            return
        chosen = chosen.to(self._last_scores.device)
        self._picked.append(self._last_scores.gather(1, chosen.view(-1, 1)).squeeze(1) - self._last_lse)
        live = [row for row, m in enumerate(self.matchers) if m is not None and not self.finished[row]]
        if not live:
            return
        tokens = chosen.tolist()
        for row in live:
            token = tokens[row]
            if token in self.stop_ids:
                self.finished[row] = True
                continue
            matcher = self.matchers[row]
            if not matcher.consume_token(token):
                self.grammar_errors[row] = matcher.get_error() or "token rejected by the grammar"
                self.matchers[row] = None  # the row goes on unconstrained, and this is reported

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        started = time.perf_counter()
        self._record(input_ids[:, -1])
        active = [
            (m, row) for row, m in enumerate(self.matchers)
            if m is not None and not self.finished[row] and not m.is_error()
        ]
        if active:
            import llguidance.torch as llt

            from docpipe.engines.inprocess.token_mask import mask_rows

            bitmask = llt.allocate_token_bitmask(self.rows, scores.shape[-1])
            if len(active) > 1:
                llt.fill_next_token_bitmask_par(self.compiler.executor, active, bitmask)
            else:
                llt.fill_next_token_bitmask(active[0][0], bitmask, active[0][1])
            mask_rows(scores, bitmask, [row for _, row in active])
        self._last_scores = scores.float()
        self._last_lse = torch.logsumexp(self._last_scores, dim=-1)
        self.seconds += time.perf_counter() - started
        return scores

    def finish(self, new_tokens: torch.Tensor) -> None:
        """Record the last step's tokens (generate stops without calling the processor again) and
        bring the log-probabilities to the host, one copy for the whole answer."""
        if new_tokens.shape[1] > 0:
            self._record(new_tokens[:, -1])
        if self._picked:
            self.logprobs = torch.stack(self._picked, dim=1).tolist()
        self._picked = []
        self._last_scores = self._last_lse = None


THOUGHT_OPEN, THOUGHT_CLOSE = b"<|channel>", b"<channel|>"  # Gemma 4's thought channel


def decode_with_offsets(ll_tokenizer: Any, tokens: Sequence[int]) -> tuple[str, tuple[int, ...]]:
    """The text of `tokens` (special tokens left out, and a thought channel the model opened
    although thinking is off: the answer is what follows it) and the character offset where each
    token ends in it, so that a span of the text can be traced back to the tokens that wrote it."""
    pieces, thinking = [], False
    for token in tokens:
        if ll_tokenizer.is_special_token(token):
            name = ll_tokenizer.decode_bytes([token])
            thinking = True if name == THOUGHT_OPEN else False if name == THOUGHT_CLOSE else thinking
            pieces.append(b"")
        else:
            pieces.append(b"" if thinking else ll_tokenizer.decode_bytes([token]))
    data = b"".join(pieces)
    ends, position = [], 0
    for piece in pieces:
        position += len(piece)
        ends.append(len(data[:position].decode("utf-8", errors="ignore")))
    return data.decode("utf-8", errors="ignore"), tuple(ends)
