"""The guards of LoRA training (engines/inprocess/lora.py): a transformers whose training forward
gives Gemma 4's shared K/V another loss than its cached forward is refused (transformers #45242);
Ctrl-C keeps the adapter of the last finished epoch."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from docpipe.engines.inprocess.lora import LoraOptions, TrainingRefused, check_cache_paths, train


class _Model:
    """A model whose loss depends on whether the cache is used, as Gemma 4 E2B's did."""

    def __init__(self, shared: int, losses: dict[bool, float]):
        self.config = SimpleNamespace(get_text_config=lambda: SimpleNamespace(num_kv_shared_layers=shared))
        self.losses = losses

    def __call__(self, use_cache: bool, **batch):
        return SimpleNamespace(loss=SimpleNamespace(item=lambda: self.losses[use_cache]))


def test_a_training_forward_that_computes_shared_kv_wrongly_is_refused():
    with pytest.raises(TrainingRefused, match=r"loss 15\.130 without the cache, 6\.840 with it.*#45312"):
        check_cache_paths(_Model(20, {False: 15.13, True: 6.84}), {})
    check_cache_paths(_Model(20, {False: 6.84, True: 6.84}), {})  # agreeing: trained
    check_cache_paths(_Model(0, {False: 15.13, True: 6.84}), {})  # no shared K/V: nothing to check


def test_ctrl_c_keeps_the_last_finished_epochs_adapter(tiny_model, tmp_path):
    from PIL import Image

    from docpipe.core.types import ModelRequest

    request = ModelRequest("d", (Image.new("RGB", (672, 912), "white"),), "Read it.", 70, 32, None, (1,), "Answer in JSON.")
    examples = [(request, '{"total":"12.50"}')] * 2

    def stop_in_epoch_two(step, steps, loss):
        if step == 3:
            raise KeyboardInterrupt

    folder = tmp_path / "adapter"
    trained = train(tiny_model, examples, LoraOptions(epochs=3), folder, on_step=stop_in_epoch_two)
    assert trained.stopped_early and len(trained.losses) == 1 and trained.steps == 3
    assert (folder / "adapter_model.safetensors").is_file() and (folder / "adapter_config.json").is_file()
    assert not any(p.name.startswith(".") for p in Path(tmp_path).iterdir())  # no half-saved folder left
