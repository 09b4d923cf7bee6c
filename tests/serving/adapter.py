"""A LoRA adapter of the tiny random Gemma 4 with random weights (peft's init_lora_weights=False:
both of its matrices random, so it changes every answer), in the folder docpipe finetune writes."""

from __future__ import annotations

from pathlib import Path

ADAPTER_NAME = "tiny-random-tuned"  # what the session's vLLM server serves it as


def random_adapter(tiny_model, folder: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText

    from docpipe.engines.inprocess.lora import TARGET_MODULES, peft_quietly
    from docpipe.run.adapters import Manifest, write_manifest

    if (folder / "docpipe_adapter.json").is_file():
        return folder
    torch.manual_seed(7)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model.path)
    with peft_quietly():
        tuned = get_peft_model(model, LoraConfig(r=8, lora_alpha=64, target_modules=TARGET_MODULES, init_lora_weights=False))
    folder.mkdir(parents=True, exist_ok=True)
    tuned.save_pretrained(str(folder))
    write_manifest(folder, Manifest(tiny_model.spec, None, "invoice", 2, "3", [70], [], [], {"rank": 8, "alpha": 64},
                                    [], "test", "2026-12-07T00:00:00+00:00"))
    return folder
