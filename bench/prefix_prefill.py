"""What the in-process continuous engine computes per page with a schema's instructions prefilled
once (engines/inprocess/prefix_store.py) against prefilling every prompt whole (the engine before
issue P), side by side in one run.

    python bench/prefix_prefill.py                  # the tiny random Gemma 4 on CPU, 64 pages
    python bench/prefix_prefill.py --pages 64 --budget 280 --rounds 2
    python bench/prefix_prefill.py --config bench/gemma4_configs/gemma-4-26b-a4b.json   # GPU, random weights

The same `--pages` distinct page images of one schema (its real instructions in the system turn,
its JSON schema constraining the answer) go through the continuous engine twice per round, once
each way, in alternating order; each pass has an engine of its own, so the prefix is computed
again (and counted) in every pass. Figures: prompt tokens per page and those that went through
the model (the engine's own DecodeStats), pages/s (median over rounds), and whether every answer's
tokens are equal between the two ways (greedy).

On a GPU (`--config`: a released architecture with random weights, bf16, built by
bench/throughput.py) the same, at `--batch-size auto`; bf16 rounding may flip a near-tied greedy
choice there, so its equality figure is a check, not a guarantee. The tokenizer is the tiny
checkpoint's in both cases, which writes a byte per token: invoice's instructions are ~1,800
tokens, against ~440 with Gemma 4's, so the share computed on real weights is printed by
arithmetic too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tiny_vllm import commit, pages, write_result  # noqa: E402 - after ROOT is on the path

WAYS = {"whole prompt (before)": False, "shared prefix (now)": True}


def engine_maker(args):
    """(a function of (EngineOptions, batch size) giving an engine on an already built model, device name)."""
    if args.config:  # full size, random weights, bf16 on the GPU: bench/throughput.py builds it
        from bench.throughput import build

        args.tiny = False
        make, _, device = build(args)
        return make, device
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from docpipe.engines.checkpoints import resolve_model
    from docpipe.engines.inprocess.transformers_engine import TransformersEngine

    choice = resolve_model("tiny-random")
    processor = AutoProcessor.from_pretrained(choice.path)
    model = AutoModelForImageTextToText.from_pretrained(choice.path, dtype=torch.float32).eval()
    return (lambda options, size: TransformersEngine(None, size, options=options, model=model, processor=processor)), "cpu"


def one_pass(make, requests, prefix_cache: bool, batch_size, forced: int | None):
    from docpipe.engines.inprocess.transformers_engine import EngineOptions

    engine = make(EngineOptions(prefix_cache=prefix_cache, min_new_tokens=forced), batch_size)
    started = time.perf_counter()
    answers = engine.generate(requests)
    return answers, time.perf_counter() - started, engine.last_stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=64)
    parser.add_argument("--budget", type=int, default=280)
    parser.add_argument("--schema", default="invoice")
    parser.add_argument("--tokens", type=int, default=24, help="max_new_tokens of each answer")
    parser.add_argument("--forced", action="store_true", help="force every answer to --tokens tokens")
    parser.add_argument("--config", help="a Gemma 4 config.json (full size, random weights, on the GPU)")
    parser.add_argument("--batch-size", default=None, help="slots (default: 8 on CPU, auto on a GPU)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "prefix_prefill")
    args = parser.parse_args(argv)

    import torch

    from docpipe.core.types import ModelRequest
    from docpipe.engines.inprocess.transformers_engine import AUTO
    from docpipe.schema.load import resolve_schema
    from docpipe.schema.prompt import ask, build_prompt

    args.batch_size = args.batch_size or ("auto" if args.config else "8")
    make, device = engine_maker(args)
    slots = AUTO if args.batch_size == "auto" else int(args.batch_size)
    schema = resolve_schema(args.schema)
    instructions = build_prompt(schema)
    template = ModelRequest("", (), ask(1), args.budget, args.tokens, json.dumps(schema.json_schema()), (1,), instructions)
    requests = [replace(template, doc_id=f"p{i}", images=(image,)) for i, image in enumerate(pages(args.pages, 0))]
    forced = args.tokens if args.forced else None

    one_pass(make, requests[:2], True, slots, forced)  # warm-up: first calls, allocator
    runs: dict[str, list] = {way: [] for way in WAYS}
    for round_no in range(args.rounds):
        order = list(WAYS) if round_no % 2 == 0 else list(reversed(WAYS))
        for way in order:
            runs[way].append(one_pass(make, requests, WAYS[way], slots, forced))

    reference = [(a.text, a.output_tokens, a.token_ends) for a in runs["whole prompt (before)"][0][0]]
    result = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "host": platform.node(),
              "commit": commit(), "device": device,
              "model": Path(args.config).stem if args.config else "tiny-random", "torch_threads": torch.get_num_threads(), "pages": args.pages,
              "budget": args.budget, "schema": args.schema, "max_new_tokens": args.tokens,
              "forced": args.forced, "batch_size": args.batch_size, "rounds": args.rounds,
              "instructions_chars": len(instructions), "ways": {}}
    for way, passes in runs.items():
        stats = passes[0][2]
        rates = [args.pages / seconds for _, seconds, _ in passes]
        equal = sum(
            [(a.text, a.output_tokens, a.token_ends) for a in answers] == reference for answers, _, _ in passes
        )
        figures = {
            "prompt_tokens_per_page": stats.prompt_tokens / args.pages,
            "computed_per_page": stats.prompt_tokens_computed / args.pages,
            "output_tokens_per_page": sum(a.output_tokens for a in passes[0][0]) / args.pages,
            "pages_per_s": [round(r, 3) for r in rates], "pages_per_s_median": round(statistics.median(rates), 3),
            "passes_greedy_equal_to_whole": f"{equal}/{len(passes)}",
            "failed": sum(bool(a.error) for a in passes[0][0]),
        }
        result["ways"][way] = figures
        print(f"{way:24} prompt tokens/page {figures['prompt_tokens_per_page']:7.0f}  computed/page "
              f"{figures['computed_per_page']:7.0f}  {figures['pages_per_s_median']:6.2f} pages/s (median of "
              f"{len(rates)})  answers equal to the whole prompt's: {figures['passes_greedy_equal_to_whole']}")
    before, now = (result["ways"][way] for way in WAYS)
    result["computed_ratio"] = round(now["computed_per_page"] / before["computed_per_page"], 3)
    result["speedup"] = round(now["pages_per_s_median"] / before["pages_per_s_median"], 2)
    print(f"prompt tokens computed per page: x{result['computed_ratio']:.3f}; pages/s: x{result['speedup']:.2f}")
    # the tokenizer here (the tiny checkpoint's, also with --config) writes a byte per token;
    # Gemma 4's real tokenizer: ~440 tokens of invoice instructions, ~20 of chat format and ask
    real = (20 + args.budget) / (440 + args.budget + 20)
    result["estimate_real_tokenizer_computed_ratio"] = round(real, 3)
    print(f"with Gemma 4's tokenizer (~440 instruction tokens, {args.budget} image tokens): about {real:.0%} "
          "of each prompt computed per page")
    write_result(args.results, result, "cpu" if device == "cpu" else f"{Path(args.config).stem}-b{args.budget}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
