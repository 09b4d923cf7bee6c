"""Static batches vs continuous batching, side by side in one run, on a realistic extraction load.

Every answer is constrained to the schema (as `docpipe run` does by default). A random-weight
model never ends an answer at a realistic length by itself, so each request gets a target length
drawn from the schema's shape -- the scalar fields' part plus a uniform number of list items,
counted at ~4 characters per token of an example answer (80..700 tokens for invoices) -- and is
stopped there as if it had ended (its `max_new_tokens`; an answer the grammar closes earlier
ends earlier). So the spread of answer lengths, and with it what static batching wastes, is as
real extraction has it; the text itself is noise.

Reported per variant: pages/s, output tokens/s, slot use (useful decode row-steps / all decode
row-steps: a finished row riding along in a static batch is not useful), the share of wall time
the device waits on the grammar mask, peak memory, the ratio to plain one-page generate (the
static path with one page per call, same load) and, on a known GPU, the share of the floor
(bench/throughput.py's model of it). The forced-length variants (unconstrained, every answer
exactly --output-tokens long, as bench/throughput.py measures) are kept for the comparison with
the floor. Each run writes one JSON file into --out (bench/results/ by default);
bench/results_table.py turns those files into docs/benchmarks.md's figures.

    python bench/slot_use.py --tiny --budget 70 --pages 64 --batch-size 8 --length-scale 0.25
    python bench/slot_use.py --config ../shared/gemma4_configs/gemma-4-26b-a4b.json --budget 280 \\
        --pages 1024 --batch-size auto --out results/
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CHARS_PER_TOKEN = 4  # JSON keys and short values in English, Gemma's tokenizer: ~4 characters a token
EXAMPLE_VALUE = {"text": "Northwind Traders Ltd", "date": "2024-03-15", "money": "1,234.56",
                 "number": "12.5", "integer": "42", "enum": "paid", "boolean": "true"}


def _answer_chars(fields) -> int:
    return sum(len(f'"{f.name}":"{EXAMPLE_VALUE.get(f.kind, "value")}",') for f in fields if f.kind != "list")


def answer_lengths(schema, count: int, longest: int, scale: float, seed: int = 0) -> list[int]:
    """Target answer lengths in tokens: scalar part + a uniform number of list items (0 to as many
    as fit in `longest`), times `scale` (CPU runs shorten every answer alike)."""
    base = 2 + _answer_chars(schema.fields)
    lists = [f for f in schema.fields if f.kind == "list"]
    per_item = sum(2 + _answer_chars(f.fields) for f in lists) / max(1, len(lists))
    base_tokens, item_tokens = base / CHARS_PER_TOKEN, per_item / CHARS_PER_TOKEN
    most = int((longest - base_tokens) // item_tokens) if lists else 0
    rng = random.Random(seed)
    return [max(1, round(scale * (base_tokens + rng.randint(0, most) * item_tokens))) for _ in range(count)]


def synthetic_pages(budget: int, count: int):
    """Letter-size pages drawn with PIL at the processor's size for `budget` (no PyMuPDF needed:
    the GPU machine lacks it, and a random-weight model's cost does not depend on the pixels)."""
    from PIL import Image, ImageDraw

    from docpipe.core.budget import render_size

    height, width = render_size(1100, 850, budget)
    out = []
    for index in range(count):
        page = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(page)
        for line in range(0, height - 40, 40):
            draw.text((30, 20 + line), f"INVOICE {index} line {line // 40}  qty 2  1,234.56", fill="black")
        out.append(page)
    return out


def environment(device: str) -> dict:
    import torch
    import transformers

    driver = None
    if torch.cuda.is_available():
        try:
            driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                    capture_output=True, text=True, timeout=30, check=False).stdout.strip() or None
        except OSError:
            driver = None
    return {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "device": device, "driver": driver,
            "cuda": torch.version.cuda if torch.cuda.is_available() else None, "torch": torch.__version__,
            "transformers": transformers.__version__, "python": platform.python_version(),
            "host": platform.machine()}


def model_summary(config, name: str) -> dict:
    text = config.get_text_config()
    return {"name": name, "layers": text.num_hidden_layers, "hidden_size": text.hidden_size,
            "vocab_size": text.vocab_size, "experts": getattr(text, "num_experts", None),
            "top_k_experts": getattr(text, "top_k_experts", None), "sliding_window": text.sliding_window}


def measure(engine, requests) -> dict:
    import torch

    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    generations = engine.generate(requests)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    errors = [g.error for g in generations if g.finish_reason == "error"]
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, first: {errors[0]}")
    stats = engine.last_stats
    tokens = sum(g.output_tokens for g in generations)
    peak = (torch.cuda.max_memory_allocated() if cuda
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) / 1024**3
    return {
        "seconds": round(seconds, 3), "pages_per_second": round(len(requests) / seconds, 4),
        "output_tokens": tokens, "output_tokens_per_second": round(tokens / seconds, 2),
        "slot_use": round(stats.slot_use, 4), "row_steps": stats.row_steps,
        "useful_row_steps": stats.useful_row_steps, "decode_steps": stats.decode_steps,
        "mask_wait_share": round(stats.mask_seconds / seconds, 4), "mask_seconds": round(stats.mask_seconds, 3),
        "oom_halvings": stats.oom_halvings, "peak_memory_gib": round(peak, 3),
        "peak_memory_kind": "cuda max_memory_allocated" if cuda else "host max RSS (process)",
        "finish_reasons": {r: sum(g.finish_reason == r for g in generations) for r in ("stop", "length", "repetition")},
    }


def spread(lengths: list[int]) -> dict:
    return {"min": min(lengths), "median": statistics.median(lengths), "mean": round(statistics.mean(lengths), 1),
            "max": max(lengths)}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="a Gemma 4 config.json (full size, random weights, on the GPU)")
    parser.add_argument("--tiny", action="store_true", help="the tiny random model on CPU")
    parser.add_argument("--budget", default="280", help="visual budget, or a comma list (one result file each)")
    parser.add_argument("--pages", default="512", help="pages, or a comma list (one per budget)")
    parser.add_argument("--batch-size", default="auto", help="slots (continuous) = rows per batch (static)")
    parser.add_argument("--schema", default="invoice")
    parser.add_argument("--longest", type=int, default=700, help="longest target answer, tokens")
    parser.add_argument("--length-scale", type=float, default=1.0, help="shorten every target answer alike (CPU)")
    parser.add_argument("--output-tokens", type=int, default=200, help="answer length of the forced variants")
    parser.add_argument("--forced-pages", type=int, default=None, help="pages of the forced variants (default --pages)")
    parser.add_argument("--baseline-pages", type=int, default=4, help="pages for one-page-at-a-time generate")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--experts", default=None, help="experts_implementation for every variant")
    parser.add_argument("--synthetic-pages", action="store_true", help="PIL-drawn letter pages instead of samples/")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    if not args.tiny and not args.config:
        parser.error("give --config (GPU) or --tiny (CPU)")
    unknown = [n for n in args.variants.split(",") if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    return args


VARIANTS = ("static", "continuous", "forced-static", "forced-continuous")


def run_budget(args, budget: int, page_count: int, make, config, device: str, command: str) -> Path:
    """All variants at one budget; the result file is rewritten after each, so a run stopped
    part-way keeps what it measured."""
    from throughput import GPUS, floor, pages

    from docpipe.core.types import ModelRequest
    from docpipe.engines.inprocess.transformers_engine import EngineOptions
    from docpipe.schema.load import resolve_schema
    from docpipe.schema.prompt import build_prompt

    model_name = "tiny-random" if args.tiny else Path(args.config).stem
    schema = resolve_schema(args.schema)
    schema_json = json.dumps(schema.json_schema())
    prompt = build_prompt(schema)
    images = synthetic_pages(budget, page_count) if args.synthetic_pages else pages(budget, page_count)
    lengths = answer_lengths(schema, len(images), args.longest, args.length_scale)
    realistic = [ModelRequest(f"p{i}", (image,), prompt, budget, n, schema_json, (1,))
                 for i, (image, n) in enumerate(zip(images, lengths))]
    forced = [ModelRequest(f"f{i}", (image,), prompt, budget, args.output_tokens, None, (1,))
              for i, image in enumerate(images[: args.forced_pages or len(images)])]
    base = {"experts_implementation": args.experts}
    workloads = {  # variant -> (requests, engine options)
        "static": (realistic, EngineOptions(batching="static", **base)),
        "continuous": (realistic, EngineOptions(batching="continuous", **base)),
        "forced-static": (forced, EngineOptions(batching="static", min_new_tokens=args.output_tokens, **base)),
        "forced-continuous": (forced, EngineOptions(batching="continuous", min_new_tokens=args.output_tokens, **base)),
    }
    names = args.variants.split(",")
    print(f"device={device} model={model_name} budget={budget} pages={len(images)} "
          f"answer lengths {spread(lengths)}", flush=True)
    record = {
        **environment(device), "model": model_summary(config, model_name), "budget": budget,
        "schema": schema.key, "page_source": "synthetic letter pages" if args.synthetic_pages else "samples/",
        "answer_lengths": {**spread(lengths), "scale": args.length_scale, "longest": args.longest,
                           "drawn_from": "schema shape"},
        "forced_output_tokens": args.output_tokens, "command": command, "plain_generate": {}, "variants": [],
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    label = f"{device.replace(' ', '-')}-{model_name}-b{budget}"
    path = out / f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{label}.json"

    # plain one-page generate, per workload kind: the static path, one page per call, warm
    baselines = record["plain_generate"]
    for kind, (work, options) in (("realistic", workloads["static"]), ("forced", workloads["forced-static"])):
        if not any(workloads[n][0] is work for n in names):
            continue
        plain = make(options, 1)
        measure(plain, work[:1])  # load, warm up
        baselines[kind] = measure(plain, work[: args.baseline_pages])
        print(f"plain one-page generate ({kind}): {baselines[kind]['pages_per_second']:.3f} pages/s", flush=True)
    path.write_text(json.dumps(record, indent=2) + "\n")

    gpu = next((g for g in GPUS if g in device), None)
    for name in names:
        work, options = workloads[name]
        engine = make(options)
        measure(engine, work[: min(len(work), 2)])  # load, warm up (allocator, kernels)
        result = measure(engine, work)
        slots = engine.batch_size_for(work[0])
        kind = "forced" if name.startswith("forced") else "realistic"
        answer = args.output_tokens if kind == "forced" else round(statistics.mean(lengths))
        result.update(variant=name, slots=slots, pages=len(work), constrained=kind == "realistic",
                      engine_options=asdict(options),
                      ratio_to_plain=round(result["pages_per_second"] / baselines[kind]["pages_per_second"], 2)
                      if kind in baselines else None)
        if gpu:
            best = floor(config, budget, 180, answer, slots, gpu)
            result.update(floor_pages_per_second=round(best.pages_per_second, 2), floor_bound=best.bound,
                          share_of_floor=round(result["pages_per_second"] / best.pages_per_second, 4))
        record["variants"].append(result)
        path.write_text(json.dumps(record, indent=2) + "\n")
        print(f"{name:18s} slots={slots:4d} {result['pages_per_second']:8.3f} pages/s "
              f"{result['output_tokens_per_second']:9.1f} tok/s slot use {100 * result['slot_use']:5.1f}% "
              f"mask wait {100 * result['mask_wait_share']:5.1f}% peak {result['peak_memory_gib']:.2f} GiB "
              f"x{result['ratio_to_plain']} vs plain", flush=True)
    print(f"wrote {path}", flush=True)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from throughput import build

    command = " ".join(["python", "bench/slot_use.py", *(sys.argv[1:] if argv is None else argv)])
    make, config, device = build(args)
    budgets = [int(b) for b in args.budget.split(",")]
    counts = [int(p) for p in args.pages.split(",")]
    counts += counts[-1:] * (len(budgets) - len(counts))
    for budget, count in zip(budgets, counts):
        run_budget(args, budget, count, make, config, device, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
