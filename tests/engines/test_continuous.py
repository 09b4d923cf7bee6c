"""Continuous batching gives every request the tokens it gets decoded alone (greedy).

Hundreds of requests on the tiny model, through slots that are refilled as rows finish: page
images of different sizes and counts at two budgets (prompts from 80 to 300 tokens), prompts of
different lengths, answers of 1 to 16 tokens, half of them constrained to a small JSON schema
(so some end on their own, some at their token limit) and a few long free answers. The
reference is each request decoded alone by transformers' `generate` (the static path, batch of one).
"""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image, ImageDraw

from docpipe.core.types import ModelRequest
from docpipe.engines.inprocess.continuous import ContinuousDecoder
from docpipe.engines.inprocess.transformers_engine import EngineOptions, TransformersEngine

SCHEMA = json.dumps({
    "type": "object",
    "properties": {"n": {"type": "integer", "maximum": 99}, "ok": {"type": "boolean"}},
    "required": ["n", "ok"], "additionalProperties": False,
})
SIZES = [(96, 96), (240, 336), (336, 240), (144, 480), (480, 144)]


def _page(index: int) -> Image.Image:
    width, height = SIZES[index % len(SIZES)]
    page = Image.new("RGB", (width, height), (255, 255 - 9 * index % 256, 255))
    ImageDraw.Draw(page).text((4, 4), f"P{index}", fill="black")
    return page


def _requests(count: int) -> list[ModelRequest]:
    pages = [_page(i) for i in range(7)]
    requests = []
    for i in range(count):
        images = (pages[i % 7],) if i % 6 else (pages[i % 7], pages[(i + 3) % 7])
        prompt = "Read the page. " + "More words here. " * (i % 9)
        schema = SCHEMA if i % 2 else None
        new_tokens = 48 if i % 50 == 7 else 1 + (i * 5) % 16
        requests.append(ModelRequest(f"r{i}", images, prompt, (70, 140)[(i // 3) % 2], new_tokens, schema, (1,)))
    return requests


def _fields(g):
    return (g.doc_id, g.text, g.prompt_tokens, g.output_tokens, g.finish_reason, g.error, g.constrained, g.token_ends)


def _same(continuous, alone):
    assert [_fields(g) for g in continuous] == [_fields(g) for g in alone]
    for c, a in zip(continuous, alone):
        assert len(c.token_logprobs) == len(a.token_logprobs)
        assert c.token_logprobs == pytest.approx(a.token_logprobs, abs=1e-4)


@pytest.fixture(scope="module")
def hundreds(tiny_model):
    """200 requests, each decoded alone by transformers' generate (the static path, batch of one)."""
    requests = _requests(200)
    static = TransformersEngine(tiny_model, batch_size=1, options=EngineOptions(batching="static"))
    return requests, static.generate(requests)


@pytest.mark.slow
def test_hundreds_of_requests_equal_their_solo_decoding(tiny_model, hundreds):
    requests, alone = hundreds
    engine = TransformersEngine(tiny_model, batch_size=8)
    continuous = engine.generate(requests)
    _same(continuous, alone)
    reasons = {g.finish_reason for g in continuous}
    assert {"stop", "length"} <= reasons, reasons  # answers that ended and answers cut at their limit
    assert len({g.prompt_tokens for g in continuous}) > 10  # prompts of many lengths shared the batch
    stats = engine.last_stats
    assert stats.prefills == len(requests)
    # the slots were refilled: far fewer steps than one request at a time, and the batch stayed full
    assert stats.decode_steps < sum(g.output_tokens for g in continuous) / 4
    assert stats.slot_use > 0.8, stats


def _fails_once(monkeypatch, when, error):
    """Make ContinuousDecoder's decode step raise `error` the first time `when(batch)` holds."""
    step = ContinuousDecoder._step
    raised = []

    def failing_step(self, batch, done):
        if not raised and when(batch):
            raised.append(len(batch.slots))
            raise error
        return step(self, batch, done)

    monkeypatch.setattr(ContinuousDecoder, "_step", failing_step)
    return raised


def test_out_of_memory_halves_the_slots_and_the_work_goes_on(tiny_model, hundreds, monkeypatch):
    requests, alone = hundreds
    raised = _fails_once(monkeypatch, lambda batch: len(batch.slots) == 8,
                         torch.cuda.OutOfMemoryError("CUDA out of memory (injected by the test)"))
    engine = TransformersEngine(tiny_model, batch_size=8)
    continuous = engine.generate(requests[:40])
    assert raised == [8] and engine.last_stats.oom_halvings == 1
    _same(continuous, alone[:40])  # the batch's requests started again, in 4 slots


def test_out_of_memory_while_a_request_joins_the_batch_loses_nothing(tiny_model, hundreds, monkeypatch):
    """The merge of a new row's cache into the batch is the step's largest allocation: an
    out-of-memory error there must requeue the joining request with the batch's own."""
    import docpipe.engines.inprocess.continuous as continuous_module

    requests, alone = hundreds
    merge, calls, raised = continuous_module.merge_row, [], []

    def failing_merge(cache, width, row_cache, row_width):
        calls.append(1)
        if len(calls) == 7:  # the 8th request joins the 7 rows already there (the 1st needs no merge)
            raised.append(len(calls))
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected by the test)")
        return merge(cache, width, row_cache, row_width)

    monkeypatch.setattr(continuous_module, "merge_row", failing_merge)
    engine = TransformersEngine(tiny_model, batch_size=8)
    continuous = engine.generate(requests[:40])
    assert raised == [7] and engine.last_stats.oom_halvings == 1
    _same(continuous, alone[:40])  # every request answered, the joining one too


def test_a_failing_decode_step_leaves_each_request_its_own_answer(tiny_model, hundreds, monkeypatch):
    requests, alone = hundreds
    raised = _fails_once(monkeypatch, lambda batch: len(batch.slots) == 4,
                         RuntimeError("a kernel failed (injected by the test)"))
    continuous = TransformersEngine(tiny_model, batch_size=4).generate(requests[:16])
    assert raised == [4]
    _same(continuous, alone[:16])  # the batch's requests were answered one at a time instead
