"""What sorting (several --schema; --split) costs over extraction alone: tokens, seconds, GPU floor.

    python bench/sorting_cost.py            # all three parts; JSON into bench/results/sorting_cost

1. Answer size: a sorting answer (`{"document_type":"invoice"}`, with --split also `first_page`)
   against the right extraction answer of each sample (samples/ground_truth.json), as the grammar
   makes the model write them; bytes, and estimated Gemma 4 tokens (bench/model_boxes.py's count:
   a token per digit, 3.5 characters per token otherwise: no real Gemma tokenizer can be
   downloaded here).
2. The tiny random Gemma 4 on this CPU, the real engine and grammar: the six samples' requests as
   `docpipe run` builds them (run/tasks/), sorting at 140 (one request per document, and one per
   page with --split) and extraction at each schema's budget, alternating, `--repeats` times:
   output tokens and seconds per page, and the ratio of each sorting to extraction, per repeat
   (its median). The random model's extraction answers are noise bounded by the caps; a sorting
   answer is a few tokens whatever the weights.
3. The floor (bench/throughput.py's arithmetic) of 26B-A4B and E4B on H100 and H200 at batch 256:
   a page's extraction at its schema's budget (invoice 560, 440 prompt text tokens, the invoices'
   answer tokens of part 1) against its sorting at 140 (the instructions shared through the prefix
   cache: only the ask, ~20 tokens, is prefilled per page; and without the cache, ~220), as a share
   of extraction's GPU time. The target: at most 10% at the shipped budgets.
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

SCHEMAS = ("invoice", "receipt")


def answer_sizes() -> dict:
    from model_boxes import _answer, _gemma_tokens

    truth = json.loads((ROOT / "samples" / "ground_truth.json").read_text())
    rows = []
    for name, entry in sorted(truth.items()):
        extraction = json.dumps(_answer(ROOT / "samples" / name, entry["fields"], False), separators=(",", ":"))
        sort = json.dumps({"document_type": entry["schema"]}, separators=(",", ":"))
        split = json.dumps({"first_page": True, "document_type": entry["schema"]}, separators=(",", ":"))
        rows.append({"sample": name, "schema": entry["schema"], "extraction_bytes": len(extraction),
                     "sorting_bytes": len(sort), "split_bytes": len(split),
                     "extraction_tokens": round(_gemma_tokens(extraction)), "sorting_tokens": round(_gemma_tokens(sort)),
                     "split_tokens": round(_gemma_tokens(split))})
    return {"rows": rows}


def tiny_model(repeats: int, max_tokens: int, text_cap: int, items: int) -> dict:
    from docpipe.engines.checkpoints import resolve_model
    from docpipe.engines.inprocess.transformers_engine import TransformersEngine
    from docpipe.ingest.discover import discover
    from docpipe.ingest.limits import RenderOptions
    from docpipe.ingest.render import render_document
    from docpipe.run.config import RunConfig
    from docpipe.run.tasks.extraction import Extraction
    from docpipe.run.tasks.sorting import Sorting
    from docpipe.schema.load import resolve_schema

    def bounded(name):  # lists and texts bounded, so the random model's answers end
        schema = resolve_schema(name)
        return dataclasses.replace(schema, fields=tuple(
            dataclasses.replace(f, max_items=items) if f.kind == "list" else f for f in schema.fields))

    schemas = {name: bounded(name) for name in SCHEMAS}
    config = RunConfig(input=ROOT / "samples", max_new_tokens=max_tokens, max_text_length=text_cap)
    truth = json.loads((ROOT / "samples" / "ground_truth.json").read_text())
    sources = [d for d in discover(ROOT / "samples") if d.path.name in truth]
    sorts = {split: Sorting(list(schemas.values()), config.model_copy(update={"split": split})) for split in (False, True)}
    at_140 = [render_document(d, 140, RenderOptions()) for d in sources]
    extraction_requests = []
    for source in sources:
        schema = schemas[truth[source.path.name]["schema"]]
        task = Extraction(schema, config)
        extraction_requests += task.requests([render_document(source, schema.budget, RenderOptions())], schema.budget)
    asked = {"extract": extraction_requests, "sort": sorts[False].requests(at_140, 140),
             "split": sorts[True].requests(at_140, 140)}
    pages = sum(len(r.page_nos) for r in extraction_requests)
    engine = TransformersEngine(resolve_model("tiny-random"), batch_size=8)
    engine.generate(asked["sort"][:1])  # warm up
    runs: dict[str, list[dict]] = {mode: [] for mode in asked}
    for _ in range(repeats):
        for mode, requests in asked.items():
            started = time.perf_counter()
            answers = engine.generate(requests)
            seconds = time.perf_counter() - started
            runs[mode].append({"requests": len(requests), "seconds": seconds, "seconds_per_page": seconds / pages,
                               "output_tokens": sum(a.output_tokens for a in answers),
                               "output_tokens_per_page": sum(a.output_tokens for a in answers) / pages,
                               "finished": sum(a.finish_reason == "stop" for a in answers)})
    ratio = {mode: statistics.median(r["seconds"] / e["seconds"] for r, e in zip(runs[mode], runs["extract"]))
             for mode in ("sort", "split")}
    tokens = {mode: statistics.median(r["output_tokens"] / e["output_tokens"] for r, e in zip(runs[mode], runs["extract"]))
              for mode in ("sort", "split")}
    return {"pages": pages, "documents": len(sources), "max_new_tokens": max_tokens, "text_cap": text_cap,
            "max_items": items, "runs": runs, "median_seconds_ratio": ratio, "median_tokens_ratio": tokens}


def floors(extraction_tokens: int, sort_tokens: int, split_tokens: int) -> list[dict]:
    from throughput import GPUS, floor
    from transformers import Gemma4Config

    rows = []
    for name in ("gemma-4-26b-a4b", "gemma-4-e4b"):
        path = ROOT.parent / "shared" / "gemma4_configs" / f"{name}.json"
        if not path.exists():
            continue
        config = Gemma4Config.from_dict(json.loads(path.read_text()))
        for gpu in GPUS:
            extraction = floor(config, 560, 440, extraction_tokens, 256, gpu)
            for mode, tokens in (("sort", sort_tokens), ("split", split_tokens)):
                for cache, text in (("prefix cache", 20), ("no cache", 220)):
                    sorting = floor(config, 140, text, tokens, 256, gpu)
                    share = extraction.pages_per_second / sorting.pages_per_second
                    rows.append({"model": name, "gpu": gpu, "batch": 256, "mode": mode, "instructions": cache,
                                 "extraction_pages_per_second": round(extraction.pages_per_second, 1),
                                 "sorting_pages_per_second": round(sorting.pages_per_second, 1),
                                 "share_of_extraction": round(share, 4), "bound": sorting.bound})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=600)
    parser.add_argument("--max-items", type=int, default=2, help="maxItems of lists, so noise ends")
    parser.add_argument("--text-cap", type=int, default=8, help="maxLength of text values, so noise ends")
    parser.add_argument("--skip-model", action="store_true", help="parts 1 and 3 only")
    args = parser.parse_args(argv)

    sizes = answer_sizes()
    print("1. The right answers: extraction against sorting")
    print("| sample | extraction bytes | est. tokens | sorting bytes | est. tokens | --split bytes | est. tokens |")
    print("|---|---|---|---|---|---|---|")
    for r in sizes["rows"]:
        print(f"| {r['sample']} | {r['extraction_bytes']} | {r['extraction_tokens']} | {r['sorting_bytes']} | "
              f"{r['sorting_tokens']} | {r['split_bytes']} | {r['split_tokens']} |")
    invoices = [r for r in sizes["rows"] if r["schema"] == "invoice"]
    extraction_tokens = round(statistics.mean(r["extraction_tokens"] for r in invoices))
    sort_tokens = round(statistics.mean(r["sorting_tokens"] for r in sizes["rows"]))
    split_tokens = round(statistics.mean(r["split_tokens"] for r in sizes["rows"]))
    result: dict = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "host": platform.node(),
                    "answer_sizes": sizes, "invoice_tokens": extraction_tokens, "sorting_tokens": sort_tokens,
                    "split_tokens": split_tokens}
    print(f"invoices: ~{extraction_tokens} output tokens per answer; a sorting answer ~{sort_tokens}, with --split ~{split_tokens}")

    if not args.skip_model:
        tiny = tiny_model(args.repeats, args.max_tokens, args.text_cap, args.max_items)
        result["tiny_model"] = tiny
        print(f"\n2. Tiny random Gemma 4, this CPU, the six samples ({tiny['pages']} pages), alternating")
        for mode, runs in tiny["runs"].items():
            for run in runs:
                print(f"  {mode:7} {run['requests']:3} requests  {run['output_tokens_per_page']:7.1f} tokens/page  "
                      f"{run['seconds_per_page']:6.3f} s/page  finished {run['finished']}/{run['requests']}")
        for mode in ("sort", "split"):
            print(f"  {mode} / extraction (median of repeats): seconds {tiny['median_seconds_ratio'][mode]:.3f}x, "
                  f"output tokens {tiny['median_tokens_ratio'][mode]:.3f}x")

    result["floors"] = floors(extraction_tokens, sort_tokens, split_tokens)
    print(f"\n3. Floor (bench/throughput.py arithmetic), batch 256: extraction at 560 ({extraction_tokens} output "
          f"tokens) against sorting at 140")
    print("| model | GPU | mode | instructions | extraction pages/s | sorting pages/s | sorting / extraction time | bound |")
    print("|---|---|---|---|---|---|---|---|")
    for r in result["floors"]:
        print(f"| {r['model']} | {r['gpu']} | {r['mode']} | {r['instructions']} | {r['extraction_pages_per_second']} | "
              f"{r['sorting_pages_per_second']} | {r['share_of_extraction']:.1%} | {r['bound']} |")

    out = ROOT / "bench" / "results" / "sorting_cost" / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-cpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
