"""A model's answer for one page -> a Transcript: the loop cut, quality measured."""

from __future__ import annotations

from docpipe.core.types import RawGeneration, Transcript
from docpipe.core.vocab import FinishReason
from docpipe.transcribe.quality import character_error_rate, probability_summary
from docpipe.transcribe.repetition import cut_repetition


def to_transcript(generation: RawGeneration, page_no: int, text_layer: str | None) -> Transcript:
    text, finish = generation.text.strip(), generation.finish_reason
    if generation.error is None:
        cut = cut_repetition(text)
        if cut is not None:
            text, finish = cut.text, FinishReason.REPETITION
    logprobs = generation.token_logprobs
    lowest, mean = probability_summary(logprobs)
    cer = character_error_rate(text, text_layer) if text_layer and generation.error is None else None
    return Transcript(
        doc_id=generation.doc_id, page_no=page_no, text=text, finish_reason=finish,
        prompt_tokens=generation.prompt_tokens, output_tokens=generation.output_tokens,
        lowest_token_prob=lowest, mean_token_prob=mean, text_layer_cer=cer,
        seconds=generation.seconds, error=generation.error,
    )
