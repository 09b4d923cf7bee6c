"""One ModelRequest as an OpenAI-compatible chat completion request, and its answer back as a
RawGeneration.

The request carries what the local engine uses (engines/inprocess/transformers_engine.py): the page images,
the instructions as a system turn and the ask after the images (engines/chat_turns.py), the visual budget as `mm_processor_kwargs.max_soft_tokens` (vLLM hands it to Gemma 4's
processor), the schema's JSON schema as `response_format` (the server's structured-output backend
enforces it; `docpipe serve-model` starts vLLM with llguidance and compact JSON, as the local engine
uses), greedy decoding and the chosen tokens' log-probabilities. vLLM's default log-probs are taken
after the grammar mask (a forced token has log-probability 0), as docpipe's own logits processor
records them, so per-field confidence means the same under both engines.
"""

from __future__ import annotations

import codecs
from itertools import accumulate
from typing import Any

import orjson

from docpipe.core.types import ModelRequest, RawGeneration
from docpipe.core.vocab import FinishReason
from docpipe.engines.chat_turns import system_turn

FINISH = {"stop": FinishReason.STOP, "length": FinishReason.LENGTH}


def request_body(request: ModelRequest, model: str, image_urls: list[str]) -> dict[str, Any]:
    """The chat completion's body, for orjson.dumps (the schema goes in as the JSON text it is);
    `image_urls`: the request's pages as data: or file: URLs."""
    images = [{"type": "image_url", "image_url": {"url": url}} for url in image_urls]
    body: dict[str, Any] = {
        "model": model,
        "messages": [*system_turn(request), {"role": "user", "content": [*images, {"type": "text", "text": request.prompt}]}],
        "max_tokens": request.max_new_tokens,
        "temperature": 0.0,
        "logprobs": True,
        "top_logprobs": 0,
        "mm_processor_kwargs": {"max_soft_tokens": request.budget},
        "skip_special_tokens": True,
    }
    if request.json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "record", "schema": orjson.Fragment(request.json_schema), "strict": True},
        }
    return body


def token_offsets(entries: list[dict[str, Any]], text: str) -> tuple[int, ...]:
    """Where each token ends in `text`, from the log-prob entries' bytes (as the local engine's
    decode_with_offsets computes it: a character split over tokens ends with its last byte), or
    from their strings when the bytes do not spell the text."""
    pieces = [bytes(e["bytes"]) if e.get("bytes") is not None else e.get("token", "").encode() for e in entries]
    data = b"".join(pieces)
    if data.isascii() and len(data) == len(text) and data.decode("ascii") == text:  # one byte, one character
        return tuple(accumulate(len(piece) for piece in pieces))
    if data.decode("utf-8", errors="ignore") == text:
        decoder, ends, position = codecs.getincrementaldecoder("utf-8")(errors="ignore"), [], 0
        for piece in pieces:
            position += len(decoder.decode(piece))
            ends.append(position)
        return tuple(ends)
    ends, position = [], 0
    for entry in entries:
        position = min(len(text), position + len(entry.get("token", "")))
        ends.append(position)
    return tuple(ends)


def parse_answer(request: ModelRequest, answer: dict[str, Any], seconds: float) -> RawGeneration:
    """The server's chat completion as the engine seam's RawGeneration."""
    choice = answer["choices"][0]
    text = choice["message"].get("content") or ""
    usage = answer.get("usage") or {}
    entries = list(((choice.get("logprobs") or {}).get("content")) or [])
    finish = FINISH.get(choice.get("finish_reason") or "", FinishReason.ERROR)
    output_tokens = int(usage.get("completion_tokens", len(entries)))
    if finish == FinishReason.STOP and len(entries) > 0 and len(entries) == output_tokens:
        entries = entries[:-1]  # the stop token's entry: the local engine does not keep it either
    error = None if finish != FinishReason.ERROR else f"server finished with {choice.get('finish_reason')!r}"
    return RawGeneration(
        request.doc_id, text, int(usage.get("prompt_tokens", 0)), output_tokens, finish, seconds,
        error=error,
        token_logprobs=tuple(float(e["logprob"]) for e in entries),
        token_ends=token_offsets(entries, text),
        constrained=request.json_schema is not None,
        page_nos=request.page_nos,
    )


def failed(request: ModelRequest, message: str, seconds: float = 0.0) -> RawGeneration:
    return RawGeneration(request.doc_id, "", 0, 0, FinishReason.ERROR, seconds, error=message,
                         page_nos=request.page_nos)
