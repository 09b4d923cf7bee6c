"""What `--boxes model` costs: output tokens per page, pages/s, and the GPU floor it implies.

    python bench/model_boxes.py            # all three parts; JSON into bench/results/model_boxes

1. Answer size: the right answer of every sample (samples/ground_truth.json), written as the
   grammar makes the model write it, without and with a box beside every value (boxes where the
   PDF draws the value, a 3-digit box on scans). Counted in bytes (the tiny model's byte-level
   tokens) and in estimated Gemma 4 tokens: Gemma's tokenizer writes every digit as its own token;
   the other characters are counted at 3.5 per token (an assumption: no real Gemma tokenizer can
   be downloaded here).
2. The tiny random Gemma 4 on this CPU, real engine, constrained: the same pages asked without and
   with boxes, alternating, `--repeats` times: output tokens per page and pages/s, the ratio per
   repeat and its median. The random model's answers are noise; the cost of the box keys is not.
3. The floor (bench/throughput.py's arithmetic) of the full-size configs at the output tokens of
   part 1, without and with boxes: a memory-bound decode pays for every extra token.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SCAN_BOX = [100, 200, 150, 600]


def _drawn(path: Path, text: str) -> list[int] | None:
    import pymupdf

    with pymupdf.open(path) as doc:
        for page in doc:
            w, h = page.rect.width, page.rect.height
            for r in page.search_for(text):
                return [round(1000 * r.y0 / h), round(1000 * r.x0 / w), round(1000 * r.y1 / h), round(1000 * r.x1 / w)]
    return None


def _answer(path: Path, values: dict, boxes: bool) -> dict:
    out: dict = {}
    for name, value in values.items():
        if isinstance(value, list):
            out[name] = [_answer(path, item, boxes) for item in value]
            continue
        out[name] = value if value is None or isinstance(value, str) else str(value)
        if boxes:
            drawn = _drawn(path, str(value)) if path.suffix == ".pdf" and value is not None else None
            out[name + "_box_2d"] = None if value is None else (drawn or SCAN_BOX)
    return out


def _gemma_tokens(text: str) -> float:
    digits = sum(c.isdigit() for c in text)
    return digits + (len(text) - digits) / 3.5


def answer_sizes() -> list[dict]:
    truth = json.loads((ROOT / "samples" / "ground_truth.json").read_text())
    rows = []
    for name, entry in sorted(truth.items()):
        path = ROOT / "samples" / name
        plain = json.dumps(_answer(path, entry["fields"], False), separators=(",", ":"), ensure_ascii=False)
        boxed = json.dumps(_answer(path, entry["fields"], True), separators=(",", ":"), ensure_ascii=False)
        rows.append({
            "sample": name, "schema": entry["schema"],
            "values": boxed.count("_box_2d\":["), "bytes": len(plain.encode()), "bytes_boxed": len(boxed.encode()),
            "gemma_tokens": round(_gemma_tokens(plain)), "gemma_tokens_boxed": round(_gemma_tokens(boxed)),
        })
    return rows


def tiny_model(repeats: int, pages: int, max_tokens: int, text_cap: int, items: int) -> dict:
    from PIL import Image, ImageDraw

    from docpipe.core.types import ModelRequest
    from docpipe.engines.checkpoints import resolve_model
    from docpipe.engines.inprocess.transformers_engine import TransformersEngine
    from docpipe.schema.load import resolve_schema
    from docpipe.schema.prompt import build_prompt

    schema = resolve_schema("invoice")
    # lists bounded, so the random model's answers end: else both modes fill max_tokens alike
    schema = dataclasses.replace(schema, fields=tuple(
        dataclasses.replace(f, max_items=items) if f.kind == "list" else f for f in schema.fields))
    images = []
    for index in range(pages):
        page = Image.new("RGB", (672, 912), "white")
        ImageDraw.Draw(page).text((30, 30), f"INVOICE {index} TOTAL {index}.99", fill="black")
        images.append(page)

    def asks(boxes: int) -> list[ModelRequest]:
        schema_json = json.dumps(schema.json_schema(text_cap, boxes))
        return [ModelRequest(f"doc{i}", (img,), build_prompt(schema, boxes), 70, max_tokens, schema_json, (1,))
                for i, img in enumerate(images)]

    engine = TransformersEngine(resolve_model("tiny-random"), batch_size=pages)
    runs: dict[str, list[dict]] = {"text": [], "model": []}
    engine.generate(asks(0)[:1])  # warm up
    for _ in range(repeats):
        for mode, boxes in (("text", 0), ("model", 1)):
            started = time.perf_counter()
            generations = engine.generate(asks(boxes))
            seconds = time.perf_counter() - started
            runs[mode].append({
                "seconds": seconds, "pages_per_second": pages / seconds,
                "output_tokens_per_page": sum(g.output_tokens for g in generations) / pages,
                "finished": sum(g.finish_reason == "stop" for g in generations),
            })
    return {
        "pages": pages, "max_new_tokens": max_tokens, "text_cap": text_cap, "max_items": items, "runs": runs,
        "median_tokens_ratio": statistics.median(
            m["output_tokens_per_page"] / t["output_tokens_per_page"] for t, m in zip(runs["text"], runs["model"])),
        "median_rate_ratio": statistics.median(
            m["pages_per_second"] / t["pages_per_second"] for t, m in zip(runs["text"], runs["model"])),
    }


def floors(tokens: int, tokens_boxed: int, text_tokens: int) -> list[dict]:
    from throughput import GPUS, floor
    from transformers import Gemma4Config

    rows = []
    for name in ("gemma-4-26b-a4b", "gemma-4-e4b"):
        path = ROOT.parent / "shared" / "gemma4_configs" / f"{name}.json"
        if not path.exists():
            continue
        config = Gemma4Config.from_dict(json.loads(path.read_text()))
        for gpu in GPUS:
            for batch in (64, 256):
                plain = floor(config, 280, text_tokens, tokens, batch, gpu)
                boxed = floor(config, 280, text_tokens, tokens_boxed, batch, gpu)
                rows.append({"model": name, "budget": 280, "gpu": gpu, "batch": batch,
                             "pages_per_second": round(plain.pages_per_second, 1),
                             "pages_per_second_boxed": round(boxed.pages_per_second, 1),
                             "bound": plain.bound, "bound_boxed": boxed.bound})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=3000)
    parser.add_argument("--max-items", type=int, default=4, help="maxItems of lists, so noise ends")
    parser.add_argument("--text-cap", type=int, default=8, help="maxLength of text values, so noise ends")
    parser.add_argument("--text-tokens", type=int, default=440, help="prompt text tokens (invoice: ~440)")
    parser.add_argument("--skip-model", action="store_true", help="parts 1 and 3 only")
    args = parser.parse_args(argv)

    sizes = answer_sizes()
    print("1. The right answers, without and with a box beside every value")
    print("| sample | values | bytes | with boxes | est. Gemma tokens | with boxes | x |")
    print("|---|---|---|---|---|---|---|")
    for r in sizes:
        print(f"| {r['sample']} | {r['values']} | {r['bytes']} | {r['bytes_boxed']} | {r['gemma_tokens']} | "
              f"{r['gemma_tokens_boxed']} | {r['gemma_tokens_boxed'] / r['gemma_tokens']:.2f} |")
    invoices = [r for r in sizes if r["schema"] == "invoice"]
    tokens = round(statistics.mean(r["gemma_tokens"] for r in invoices))
    tokens_boxed = round(statistics.mean(r["gemma_tokens_boxed"] for r in invoices))
    per_value = statistics.mean((r["gemma_tokens_boxed"] - r["gemma_tokens"]) / r["values"] for r in sizes)
    print(f"invoices: ~{tokens} output tokens per answer, ~{tokens_boxed} with boxes; ~{per_value:.1f} tokens per box")

    result: dict = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "host": platform.node(),
                    "answer_sizes": sizes, "invoice_tokens": tokens, "invoice_tokens_boxed": tokens_boxed,
                    "tokens_per_box": round(per_value, 1)}
    if not args.skip_model:
        tiny = tiny_model(args.repeats, args.pages, args.max_tokens, args.text_cap, args.max_items)
        result["tiny_model"] = tiny
        print("\n2. Tiny random Gemma 4, this CPU, constrained, same pages, alternating")
        for mode in ("text", "model"):
            for run in tiny["runs"][mode]:
                print(f"  {mode:5}  {run['output_tokens_per_page']:7.1f} tokens/page  "
                      f"{run['pages_per_second']:6.2f} pages/s  finished {run['finished']}/{tiny['pages']}")
        print(f"  median ratio, with boxes / without: tokens {tiny['median_tokens_ratio']:.2f}x, "
              f"pages/s {tiny['median_rate_ratio']:.2f}x")

    result["floors"] = floors(tokens, tokens_boxed, args.text_tokens)
    print(f"\n3. Floor at budget 280 (bench/throughput.py arithmetic), {tokens} vs {tokens_boxed} output tokens")
    print("| model | GPU | batch | pages/s | with boxes | bound |")
    print("|---|---|---|---|---|---|")
    for r in result["floors"]:
        print(f"| {r['model']} | {r['gpu']} | {r['batch']} | {r['pages_per_second']} | "
              f"{r['pages_per_second_boxed']} | {r['bound']} / {r['bound_boxed']} |")

    out = ROOT / "bench" / "results" / "model_boxes" / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-cpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
