"""Per-field confidence means the same under both engines: each records the log-probability of the
chosen token under the distribution after the grammar mask, so a token the schema forces has
probability 1 (log-prob 0) under both, while without a grammar the same random model gives its
first token a log-probability well below 0."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from PIL import Image

from docpipe.core.types import ModelRequest
from docpipe.core.vocab import FinishReason
from docpipe.engines.inprocess.transformers_engine import TransformersEngine
from docpipe.engines.served.openai_engine import OpenAIEngine
from docpipe.engines.served.openai_server import check_servers

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server

SCHEMA = {
    "type": "object",
    "properties": {"code": {"type": "string", "maxLength": 4}, "count": {"type": "integer", "minimum": 0, "maximum": 99}},
    "required": ["code", "count"], "additionalProperties": False,
}
PREFIX = '{"code":"'  # forced by the schema: one token per character in the tiny byte-level vocabulary


@pytest.fixture(scope="module")
def engines(tiny_model, vllm_server):
    served = OpenAIEngine(check_servers((vllm_server.base_url,), "tiny-random", None))
    return {"transformers": TransformersEngine(tiny_model, batch_size=1), "openai": served}


@pytest.mark.parametrize("name", ["transformers", "openai"])
def test_forced_tokens_have_probability_one_and_free_ones_less(engines, name):
    page = Image.new("RGB", (672, 912), "white")
    request = ModelRequest("d", (page,), "Read the code and the count.", 70, 40, json.dumps(SCHEMA), (1,))
    answer = engines[name].generate([request])[0]
    assert answer.finish_reason == FinishReason.STOP, answer.error
    assert answer.text.startswith(PREFIX) and json.loads(answer.text).keys() == {"code", "count"}
    assert len(answer.token_logprobs) == len(answer.token_ends) and answer.token_ends[-1] == len(answer.text)
    forced = [lp for lp, end in zip(answer.token_logprobs, answer.token_ends) if end <= len(PREFIX)]
    assert len(forced) == len(PREFIX) and all(abs(lp) < 1e-6 for lp in forced)
    chosen = answer.token_logprobs[len(PREFIX):]
    assert all(lp <= 1e-6 for lp in chosen) and min(chosen) < -0.01  # the model's own choices

    free = engines[name].generate([replace(request, json_schema=None, max_new_tokens=2)])[0]
    assert free.token_logprobs and free.token_logprobs[0] < -0.5  # unmasked: no token is sure
