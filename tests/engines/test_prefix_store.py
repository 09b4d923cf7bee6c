"""A schema's instructions are prefilled once, and every page still gets the tokens of prefilling
its whole prompt (greedy): engines/inprocess/prefix_store.py.

The reference is the same continuous engine with `prefix_cache=False`, which prefills every
prompt whole. Besides the tiny checkpoint (causal attention, a 64-token sliding window far
shorter than the instructions), two variants of it with random weights take the two paths of the
released Gemma 4 architectures: bidirectional attention among image tokens (26B-A4B, 31B) and
layers that reuse an earlier layer's KV (E2B, E4B).
"""

from __future__ import annotations

import copy
import json

import pytest
import torch
from PIL import Image, ImageDraw

from docpipe.core.types import ModelRequest
from docpipe.engines.inprocess.model_inputs import encode
from docpipe.engines.inprocess.prefix_store import MIN_PREFIX_TOKENS, PrefixStore
from docpipe.engines.inprocess.transformers_engine import EngineOptions, TransformersEngine
from docpipe.schema.load import resolve_schema
from docpipe.schema.prompt import ask, build_prompt

SCHEMA = json.dumps({
    "type": "object",
    "properties": {"n": {"type": "integer", "maximum": 99}, "ok": {"type": "boolean"}},
    "required": ["n", "ok"], "additionalProperties": False,
})
SIZES = [(96, 96), (240, 336), (336, 240), (144, 480)]


def _page(index: int) -> Image.Image:
    width, height = SIZES[index % len(SIZES)]
    page = Image.new("RGB", (width, height), (255, 250 - 13 * index % 200, 255))
    ImageDraw.Draw(page).text((4, 4), f"Total {index}", fill="black")
    return page


def _requests(count: int) -> list[ModelRequest]:
    """Pages of two schemas (their real instructions) and a few without instructions, at two
    budgets, one or two images, half constrained, answers of 2 to 9 tokens."""
    instructions = [build_prompt(resolve_schema("invoice")), build_prompt(resolve_schema("receipt")), ""]
    requests = []
    for i in range(count):
        images = (_page(i),) if i % 5 else (_page(i), _page(i + 1))
        requests.append(ModelRequest(
            f"r{i}", images, ask(len(images)), (70, 140)[(i // 2) % 2], 2 + i % 8, SCHEMA if i % 2 else None,
            tuple(range(1, len(images) + 1)), instructions[i % 7 % 3],
        ))
    return requests


def _fields(g):
    return (g.doc_id, g.text, g.prompt_tokens, g.output_tokens, g.finish_reason, g.error, g.token_ends)


def _same(shared, whole):
    assert [_fields(g) for g in shared] == [_fields(g) for g in whole]
    for s, w in zip(shared, whole):
        assert s.token_logprobs == pytest.approx(w.token_logprobs, abs=1e-4)


def _split(engine: TransformersEngine, request: ModelRequest) -> int:
    return PrefixStore.split_at(encode(engine._processor, [request], "cpu", torch.float32))


def _side_by_side(choice=None, model=None, processor=None, count=21):
    requests = _requests(count)
    whole = TransformersEngine(choice, batch_size=4, options=EngineOptions(prefix_cache=False),
                               model=model, processor=processor)
    shared = TransformersEngine(choice, batch_size=4, model=model, processor=processor)
    return requests, whole, whole.generate(requests), shared, shared.generate(requests)


def test_each_schemas_instructions_are_computed_once_and_the_answers_do_not_change(tiny_model):
    requests, whole, by_whole, shared, by_shared = _side_by_side(tiny_model)
    _same(by_shared, by_whole)
    assert whole.last_stats.prompt_tokens_computed == whole.last_stats.prompt_tokens
    stats = shared.last_stats
    assert stats.prompt_tokens == whole.last_stats.prompt_tokens == sum(g.prompt_tokens for g in by_whole)
    splits = [_split(shared, r) for r in requests]
    assert all(s >= MIN_PREFIX_TOKENS for s, r in zip(splits, requests) if r.instructions)
    assert not any(s for s, r in zip(splits, requests) if not r.instructions)  # too short to share
    distinct = {(r.instructions, s) for r, s in zip(requests, splits) if s}
    assert len(distinct) == 2  # two schemas: two prefixes, each computed once
    assert stats.prompt_tokens - stats.prompt_tokens_computed == sum(splits) - sum(s for _, s in distinct)
    assert stats.prompt_tokens_computed < 0.5 * stats.prompt_tokens
    assert shared.notes() == []


def test_the_store_lives_with_the_engine_across_calls(tiny_model):
    requests = [r for r in _requests(14) if r.instructions]
    engine = TransformersEngine(tiny_model, batch_size=4)
    engine.generate(requests[:6])
    engine.generate(requests[6:])
    saved = engine.last_stats.prompt_tokens - engine.last_stats.prompt_tokens_computed
    assert saved == sum(_split(engine, r) for r in requests[6:])  # no prefix computed again


def _variant(tiny_model, **text_config):
    """The tiny checkpoint's processor with a random model of a changed text config."""
    from transformers import AutoConfig, AutoProcessor, Gemma4ForConditionalGeneration

    config = copy.deepcopy(AutoConfig.from_pretrained(tiny_model.path))
    for name, value in text_config.items():
        setattr(config.text_config, name, value)
    torch.manual_seed(3)
    model = Gemma4ForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    return model, AutoProcessor.from_pretrained(tiny_model.path)


@pytest.mark.parametrize("text_config", [
    {"use_bidirectional_attention": "vision"},
    {"num_hidden_layers": 4, "layer_types": ["sliding_attention", "full_attention"] * 2, "num_kv_shared_layers": 2},
], ids=["bidirectional-images", "shared-kv-layers"])
def test_the_released_architectures_attention_paths_decode_as_before(tiny_model, text_config):
    model, processor = _variant(tiny_model, **text_config)
    _, whole, by_whole, shared, by_shared = _side_by_side(model=model, processor=processor, count=10)
    _same(by_shared, by_whole)
    assert shared.last_stats.prompt_tokens_computed < 0.6 * shared.last_stats.prompt_tokens


def test_a_transformers_that_cannot_continue_from_a_prefix_turns_sharing_off(tiny_model, monkeypatch):
    def cannot(self, inputs, split):
        raise TypeError("forward() got an unexpected keyword argument")

    monkeypatch.setattr(PrefixStore, "_prefix_cache", cannot)
    requests, whole, by_whole, shared, by_shared = _side_by_side(tiny_model, count=8)
    _same(by_shared, by_whole)
    assert shared.last_stats.prompt_tokens_computed == shared.last_stats.prompt_tokens
    assert len(shared.notes()) == 1 and shared.notes()[0].startswith("prefix sharing off: TypeError")


def test_the_least_recently_used_prefix_goes_first(tiny_model):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model.path)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model.path, dtype=torch.float32).eval()
    invoice, receipt, _ = (r for r in _requests(3))
    inputs = {r.doc_id: encode(processor, [r], "cpu", torch.float32) for r in (invoice, receipt)}
    order = [invoice, receipt, invoice, invoice, receipt]
    for capacity, computed in [(1, 4), (2, 2)]:
        store = PrefixStore(model, capacity=capacity)
        with torch.inference_mode():
            for request in order:
                store.prefill(inputs[request.doc_id])
        assert store.prefix_prefills == computed, capacity
