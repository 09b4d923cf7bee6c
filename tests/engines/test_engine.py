"""The transformers engine: batched, left-padded generate gives what one-by-one gives."""

from __future__ import annotations

from PIL import Image, ImageDraw

from docpipe.core.types import ModelRequest
from docpipe.engines.inprocess.transformers_engine import TransformersEngine


def _page(width, height, text):
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text((10, 10), text, fill="black")
    return image


def _requests():
    pages = [_page(672, 912, "INVOICE 1"), _page(336, 1776, "RECEIPT"), _page(912, 672, "FORM")]
    prompts = ["Extract the invoice.", "Read the receipt and answer in JSON please.", "Form?"]
    return [
        ModelRequest(f"doc{i}", (page,), prompt, 280, 12)
        for i, (page, prompt) in enumerate(zip(pages, prompts))
    ] + [ModelRequest("two-pages", (pages[0], pages[2]), "Both pages.", 280, 12)]


def test_batched_generation_equals_one_by_one(tiny_model):
    requests = _requests()
    batched = TransformersEngine(tiny_model, batch_size=4).generate(requests)
    single = TransformersEngine(tiny_model, batch_size=1).generate(requests)
    assert [g.doc_id for g in batched] == [r.doc_id for r in requests]
    assert [g.text for g in batched] == [g.text for g in single]
    assert [g.prompt_tokens for g in batched] == [g.prompt_tokens for g in single]
    for generation, request in zip(batched, requests):
        soft = sum((im.width // 48) * (im.height // 48) for im in request.images)
        assert generation.prompt_tokens > soft  # every image's soft tokens are in the prompt
        assert generation.finish_reason in {"stop", "length"}
        assert generation.output_tokens <= 12


def test_a_failing_request_fails_alone(tiny_model):
    requests = _requests()[:2]
    bad = ModelRequest("bad", (), "no image here <|image|>", 280, 8)  # image token without an image
    out = TransformersEngine(tiny_model, batch_size=4).generate([requests[0], bad, requests[1]])
    assert [g.doc_id for g in out] == ["doc0", "bad", "doc1"]
    assert out[1].finish_reason == "error" and out[1].error
    assert out[0].error is None and out[2].error is None
