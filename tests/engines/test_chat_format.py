"""The chat format the tests' tiny checkpoint applies is the released Gemma 4 one (written from its
facts: a system turn after <bos>; each image as "\\n\\n<|image|>\\n\\n"; with thinking off, an
empty thought channel closing the generation prompt), so the tests see what real weights see. The
instructions come first in every request, so requests of a schema share a prefix; an answer that
opens a thought channel anyway is read from after it."""

from __future__ import annotations

import llguidance.hf
import pytest
from PIL import Image

from docpipe.core.types import ModelRequest
from docpipe.engines.chat_turns import system_turn
from docpipe.engines.inprocess.constrained import decode_with_offsets
from docpipe.engines.served.openai_messages import request_body
from docpipe.engines.tiny_checkpoint import build_processor


@pytest.fixture(scope="module")
def processor():
    return build_processor()


def _request(instructions: str = "Read invoices.", images: int = 2) -> ModelRequest:
    pages = tuple(Image.new("RGB", (48, 48), "white") for _ in range(images))
    return ModelRequest("d", pages, "Extract the fields.", 70, 10, None, (1, 2)[:images], instructions)


def test_the_template_writes_the_released_format(processor):
    request = _request()
    messages = system_turn(request) + [
        {"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": request.prompt}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text == (
        "<bos><|turn>system\nRead invoices.<turn|>\n"
        "<|turn>user\n\n\n<|image|>\n\n\n\n<|image|>\n\nExtract the fields.<turn|>\n"
        "<|turn>model\n<|channel>thought\n<channel|>"
    )


def test_requests_of_a_schema_share_every_token_up_to_their_images(processor):
    """What a prefix cache needs: the instructions come first, and are the same for every page."""
    tokenizer = processor.tokenizer
    first, second = (
        tokenizer.encode(processor.apply_chat_template(
            system_turn(_request(images=1)) + [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": ask}]}],
            add_generation_prompt=True, tokenize=False), add_special_tokens=False)
        for ask in ("Extract the fields.", "Transcribe this page.")
    )
    shared = next(i for i, (a, b) in enumerate(zip(first, second)) if a != b)
    image = tokenizer.convert_tokens_to_ids("<|image|>")
    assert first.index(image) < shared  # the whole system turn and the image are one prefix
    assert len(tokenizer.encode("<bos><|turn>system\nRead invoices.<turn|>\n", add_special_tokens=False)) < shared


def test_the_served_request_sends_the_instructions_as_a_system_turn():
    body = request_body(_request(images=1), "m", ["data:image/png;base64,AAAA"])
    system, user = body["messages"]
    assert system == {"role": "system", "content": "Read invoices."}
    assert user["role"] == "user" and [c["type"] for c in user["content"]] == ["image_url", "text"]
    assert user["content"][1]["text"] == "Extract the fields."


def test_a_thought_channel_opened_anyway_is_left_out_of_the_answer(processor):
    hf = processor.tokenizer
    ll = llguidance.hf.from_tokenizer(hf, n_vocab=len(hf), eos_token=[hf.eos_token_id])
    tokens = hf.encode('<|channel>thought\nthe total is {"x": 1}?<channel|>{"total":"9"}', add_special_tokens=False)
    text, ends = decode_with_offsets(ll, tokens)
    assert text == '{"total":"9"}'
    assert len(ends) == len(tokens) and ends[-1] == len(text)
    assert all(end == 0 for end in ends[: tokens.index(hf.convert_tokens_to_ids("<channel|>")) + 1])
