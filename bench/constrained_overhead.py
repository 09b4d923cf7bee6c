"""Constrained against unconstrained generation: time per output token, side by side.

    python bench/constrained_overhead.py                      # tiny random Gemma 4 on CPU
    python bench/constrained_overhead.py --model PATH_OR_HUB_ID --budget 280 --batch 16

Both modes run the real docpipe engine on the same requests, alternating, `--repeats` times;
the ratio is taken per repeat (so machine noise hits both modes alike) and its median printed.
The tiny model's answers are noise: only the timing means something.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace

from PIL import Image, ImageDraw

from docpipe.core.types import ModelRequest
from docpipe.engines.checkpoints import resolve_model
from docpipe.engines.inprocess.transformers_engine import TransformersEngine
from docpipe.schema.load import resolve_schema
from docpipe.schema.prompt import build_prompt


def _requests(schema_name: str, batch: int, budget: int, tokens: int, text_cap: int | None):
    schema = resolve_schema(schema_name)
    schema_json = json.dumps(schema.json_schema(text_cap))
    requests = []
    for index in range(batch):
        page = Image.new("RGB", (672, 912), "white")
        ImageDraw.Draw(page).text((30, 30), f"INVOICE {index} TOTAL {index}.99", fill="black")
        requests.append(ModelRequest(f"doc{index}", (page,), build_prompt(schema), budget, tokens, schema_json, (1,)))
    return requests


def _timed(engine: TransformersEngine, requests) -> tuple[float, int]:
    """Seconds for the batch, and its decoding steps (the longest answer: rows that finish
    early keep stepping until the batch ends)."""
    started = time.perf_counter()
    generations = engine.generate(requests)
    return time.perf_counter() - started, max(g.output_tokens for g in generations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny-random")
    parser.add_argument("--schema", default="invoice")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--budget", type=int, default=70)
    parser.add_argument("--tokens", type=int, default=128, help="max_new_tokens")
    parser.add_argument("--text-cap", type=int, default=8, help="maxLength of text values (constrained)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    engine = TransformersEngine(resolve_model(args.model), batch_size=args.batch)
    constrained = _requests(args.schema, args.batch, args.budget, args.tokens, args.text_cap)
    free = [replace(r, json_schema=None) for r in constrained]
    engine.generate(constrained[:1])  # load the model and warm up both paths
    engine.generate(free[:1])
    rows, ratios = [], []
    for repeat in range(args.repeats):
        c_seconds, c_tokens = _timed(engine, constrained)
        f_seconds, f_tokens = _timed(engine, free)
        c_ms, f_ms = 1000 * c_seconds / max(c_tokens, 1), 1000 * f_seconds / max(f_tokens, 1)
        ratios.append(c_ms / f_ms)
        rows.append((repeat, c_tokens, c_ms, f_tokens, f_ms, c_ms / f_ms))
    print(f"model={args.model} schema={args.schema} batch={args.batch} budget={args.budget} "
          f"max_new_tokens={args.tokens} text_cap={args.text_cap}")
    print("ms/step: wall time of the batch per decoding step (one output token for every row)")
    print(f"{'repeat':>6} {'constr. steps':>13} {'ms/step':>8} {'free steps':>10} {'ms/step':>8} {'ratio':>6}")
    for repeat, ct, cms, ft, fms, ratio in rows:
        print(f"{repeat:>6} {ct:>13} {cms:>8.2f} {ft:>10} {fms:>8.2f} {ratio:>6.2f}")
    print(f"median constrained/unconstrained time per decoding step: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
