"""One decoding slot of the continuous batch: a request being answered and its own state.

Each slot keeps its grammar matcher (None for a free answer, or once the grammar rejected a
token), its tokens, its stop state and its own `max_new_tokens`; free answers are checked for a
loop (engines/inprocess/repetition_stop.py) every 16 tokens, as the static path does. The log-probability
of each chosen token stays on the device until the slot finishes (`logprobs` is filled then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docpipe.core.types import ModelRequest, RawGeneration
from docpipe.core.vocab import FinishReason
from docpipe.engines.inprocess.repetition_stop import MAX_PERIOD, MIN_REPEATS, MIN_SPAN, repeating_tail

LOOP_CHECK_EVERY = 16  # as RepetitionStop's default


@dataclass
class Slot:
    index: int  # the request's place in the generate call
    request: ModelRequest
    prompt_tokens: int
    matcher: Any | None  # llguidance.LLMatcher
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    finish: FinishReason | None = None
    grammar_error: str | None = None

    @property
    def constrained(self) -> bool:
        return self.request.json_schema is not None

    def consume(self, token: int, stop_ids: set[int], check_loops: bool) -> None:
        """Take the token chosen for this slot; decide whether the answer ends here."""
        self.tokens.append(token)
        if token in stop_ids:
            self.finish = FinishReason.STOP
            return
        if self.matcher is not None and not self.matcher.consume_token(token):
            self.grammar_error = self.matcher.get_error() or "token rejected by the grammar"
            self.matcher = None  # the answer goes on unconstrained, and this is reported
        written = len(self.tokens)
        if written >= self.request.max_new_tokens:
            self.finish = FinishReason.LENGTH
        elif (check_loops and not self.constrained and written >= MIN_SPAN and written % LOOP_CHECK_EVERY == 0
              and repeating_tail(self.tokens[-MIN_REPEATS * MAX_PERIOD:])):
            self.finish = FinishReason.REPETITION

    def generation(self, tokenizer: Any, seconds: float) -> RawGeneration:
        from docpipe.engines.inprocess.constrained import decode_with_offsets

        stopped = self.finish == FinishReason.STOP
        kept = self.tokens[:-1] if stopped else self.tokens
        text, ends = decode_with_offsets(tokenizer, kept)
        return RawGeneration(
            self.request.doc_id, text, self.prompt_tokens, len(self.tokens), self.finish or FinishReason.LENGTH,
            seconds, error=self.grammar_error and f"grammar: {self.grammar_error}",
            token_logprobs=tuple(self.logprobs[: len(kept)]), token_ends=ends,
            constrained=self.constrained, page_nos=self.request.page_nos,
        )


def failed(request: ModelRequest, exc: BaseException) -> RawGeneration:
    """The answer of a request that could not be run (it fails alone)."""
    return RawGeneration(
        request.doc_id, "", 0, 0, FinishReason.ERROR, 0.0, error=f"{type(exc).__name__}: {exc}",
        page_nos=request.page_nos,
    )
