"""An adapter changes the answers (vLLM has served Gemma 4 adapters that changed nothing: vllm
#41754): the session's vLLM server serves a random LoRA of the tiny model beside it, as
`docpipe serve-model --lora NAME=DIR` does, and the in-process engine merges the same folder
(`docpipe run --adapter DIR`); under each engine the same request gets another answer with it."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from docpipe.core.types import ModelRequest
from docpipe.engines.inprocess.transformers_engine import TransformersEngine
from docpipe.engines.served.openai_engine import OpenAIEngine
from docpipe.engines.served.openai_server import check_servers
from tests.serving.adapter import ADAPTER_NAME

pytestmark = pytest.mark.usefixtures("prefect_api")


def _requests() -> list[ModelRequest]:
    pages = []
    for text in ("INVOICE 1 TOTAL 10.00", "RECEIPT 2 TOTAL 3.50"):
        page = Image.new("RGB", (672, 912), "white")
        ImageDraw.Draw(page).text((40, 40), text, fill="black")
        pages.append(page)
    return [ModelRequest(f"d{i}", (page,), "What does the page say?", 70, 16, None, (1,)) for i, page in enumerate(pages)]


def test_an_adapter_changes_the_answers_under_each_engine(tiny_model, vllm_server):
    requests = _requests()
    served = {name: OpenAIEngine(check_servers((vllm_server.base_url,), name, None))
              for name in ("tiny-random", ADAPTER_NAME)}
    local = {"base": TransformersEngine(tiny_model, batch_size=2),
             "adapter": TransformersEngine(tiny_model, batch_size=2, adapter=vllm_server.adapter)}
    try:
        answers = {name: [g.text for g in engine.generate(requests)] for name, engine in
                   [*served.items(), *local.items()]}
    finally:
        for engine in served.values():
            engine.close()
    assert all(text for texts in answers.values() for text in texts)
    assert answers[ADAPTER_NAME] != answers["tiny-random"]  # vLLM applied the adapter
    assert answers["adapter"] != answers["base"]  # so did the in-process engine
