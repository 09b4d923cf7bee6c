"""One LoRA training step of `docpipe finetune`: seconds and peak GPU memory, for a full-size Gemma 4
architecture with random weights (bench/gemma4_configs/), one page at a budget and an answer of
realistic length, through docpipe's own training code (engines/inprocess/lora.py: the inference
prompt, labels on the answer, LoRA on the language model's attention and dense MLP).

    python bench/lora_step.py --config bench/gemma4_configs/gemma-4-e2b.json --budget 560 --out DIR   # a GPU
    python bench/lora_step.py --tiny --budget 70 --out DIR                                              # anywhere

Writes DIR/lora_step-<model>-b<budget>.json: each step's seconds (the first is warm-up: kernels,
optimizer state), the median of the others, the peak memory (torch.cuda.max_memory_allocated), the
prompt and answer tokens, the trainable parameters, and the versions.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def build(args):
    """(processor, model, device, name)."""
    import torch

    if args.tiny:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        from docpipe.engines.checkpoints import resolve_model

        choice = resolve_model("tiny-random")
        processor = AutoProcessor.from_pretrained(choice.path)
        return processor, AutoModelForImageTextToText.from_pretrained(choice.path), "cpu", "tiny-random"
    from transformers import Gemma4Config, Gemma4ForConditionalGeneration

    from docpipe.engines.tiny_checkpoint import build_processor, special_ids_of

    config = Gemma4Config.from_dict(json.loads(Path(args.config).read_text()))
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = Gemma4ForConditionalGeneration(config)
    text = config.get_text_config()
    model.generation_config.eos_token_id = text.eos_token_id
    model.generation_config.pad_token_id = text.pad_token_id
    return build_processor(text.vocab_size, special_ids_of(config)), model, "cuda", Path(args.config).stem


def example(budget: int, answer_tokens: int):
    """(request, target): the invoice schema's request for one synthetic page, and an answer of
    about `answer_tokens` characters (one token each in the byte-level test vocabularies)."""
    from slot_use import synthetic_pages

    from docpipe.core.types import ModelRequest
    from docpipe.schema.load import resolve_schema
    from docpipe.schema.prompt import ask, build_prompt

    truth = json.loads((ROOT / "samples" / "ground_truth.json").read_text())["invoice_globex_2p.pdf"]["fields"]
    target = json.dumps(truth, separators=(",", ":"), ensure_ascii=False)
    while len(target) < answer_tokens:
        target += target
    schema = resolve_schema("invoice")
    request = ModelRequest("bench", tuple(synthetic_pages(budget, 1)), ask(1), budget, 1024, None, (1,),
                           build_prompt(schema))
    return request, target[:answer_tokens]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="a Gemma 4 config.json (random weights on the GPU)")
    parser.add_argument("--tiny", action="store_true", help="the tiny random model on this CPU (checks the script)")
    parser.add_argument("--budget", type=int, default=560)
    parser.add_argument("--answer-tokens", type=int, default=400, help="an invoice's answer: ~400 Gemma tokens")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not args.tiny and not args.config:
        parser.error("give --config (a GPU) or --tiny")
    import peft
    import torch
    import transformers

    from docpipe.engines.inprocess.lora import LoraOptions, train, training_inputs, stop_ids

    processor, model, device, name = build(args)
    request, target = example(args.budget, args.answer_tokens)
    inputs = training_inputs(processor, request, target, device, next(model.parameters()).dtype,
                             stop_ids(model, processor.tokenizer))
    prompt_tokens = int((inputs["labels"] == -100).sum())
    answer = int(inputs["labels"].shape[1]) - prompt_tokens
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    marks = [time.perf_counter()]
    options = LoraOptions(rank=args.rank, alpha=args.rank, epochs=args.steps, learning_rate=2e-4)
    with tempfile.TemporaryDirectory() as folder:
        trained = train(None, [(request, target)], options, Path(folder), device=device,
                        loaded=(processor, model, device), on_step=lambda *_: marks.append(time.perf_counter()))
    steps = [b - a for a, b in zip(marks, marks[1:])]
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    result = {
        "model": name, "budget": args.budget, "device": torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "cpu",
        "prompt_tokens": prompt_tokens, "answer_tokens": answer, "rank": args.rank, "trainable_parameters": trainable,
        "step_seconds": [round(s, 4) for s in steps], "median_step_seconds": round(statistics.median(steps[1:] or steps), 4),
        "peak_memory_gib": None if peak is None else round(peak, 2), "first_loss": trained.first_loss,
        "torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"lora_step-{name}-b{args.budget}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{name} budget {args.budget}: {prompt_tokens} prompt + {answer} answer tokens; step "
          f"{result['median_step_seconds']:.3f} s (first {steps[0]:.2f} s); peak "
          f"{'-' if peak is None else f'{peak:.1f} GiB'}; {trainable:,} trainable parameters; written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
