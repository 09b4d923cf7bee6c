"""Batches group requests by visual shape and prompt length; the memory model sizes them."""

from __future__ import annotations

import json

import pytest
from transformers import Gemma4Config

from docpipe.core.types import ModelRequest
from docpipe.engines.inprocess.batching import plan_batches
from docpipe.engines.inprocess.memory_model import (
    RequestShape,
    auto_batch_size,
    kv_bytes_per_request,
)
from tests.conftest import ROOT

CONFIGS = ROOT.parent / "shared" / "gemma4_configs"


def _request(budget, images, prompt="p"):
    return ModelRequest("d", (None,) * images, prompt, budget, 10)


def test_batches_share_a_budget_and_an_image_count_and_respect_the_size():
    requests = [_request(280, 1), _request(560, 1), _request(280, 2), _request(280, 1, "longer prompt"),
                _request(280, 1), _request(560, 1)]
    batches = plan_batches(requests, 2)
    for batch in batches:
        shapes = {(requests[i].budget, len(requests[i].images)) for i in batch}
        assert len(shapes) == 1 and len(batch) <= 2
    assert sorted(i for b in batches for i in b) == list(range(6))
    assert [requests[i].prompt for i in batches[0]] == ["p", "p"]  # shortest prompts together
    by_shape = plan_batches(requests, lambda r: 1 if r.budget == 560 else 8)
    assert [len(b) for b in by_shape if requests[b[0]].budget == 560] == [1, 1]


def _config(name):
    path = CONFIGS / f"{name}.json"
    if not path.is_file():
        pytest.skip("../shared/gemma4_configs is not here")
    return Gemma4Config.from_dict(json.loads(path.read_text()))


def test_kv_cache_arithmetic_for_26b_a4b():
    text = _config("gemma-4-26b-a4b").get_text_config()
    tokens = 930
    # 25 sliding layers keep K and V (8 heads x 256) for min(930, 1024) positions;
    # 5 global layers keep one tensor (keys are values) of 2 heads x 512 for all positions
    expected = 25 * 2 * 8 * 256 * 930 * 2 + 5 * 1 * 2 * 512 * 930 * 2
    assert kv_bytes_per_request(text, tokens) == expected
    # the sliding window caps the sliding layers' share
    long = kv_bytes_per_request(text, 5000)
    assert long == 25 * 2 * 8 * 256 * 1024 * 2 + 5 * 1 * 2 * 512 * 5000 * 2


def test_auto_batch_size_shrinks_with_budget_and_grows_with_memory():
    config = _config("gemma-4-26b-a4b")
    gib = 1024**3
    small, large = RequestShape(280), RequestShape(1120)
    assert auto_batch_size(config, 80 * gib, large) < auto_batch_size(config, 80 * gib, small)
    assert auto_batch_size(config, 20 * gib, small) < auto_batch_size(config, 80 * gib, small)
    assert auto_batch_size(config, 1, small) == 1
