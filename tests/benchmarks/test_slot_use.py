"""bench/gpu_suite.sh's tiny mode runs bench/slot_use.py end to end on CPU and writes result files
with every field the figures need; docs/benchmarks.md's figures are what the committed result
files give. (No timing is checked: benchmarks print figures, tests do not time anything.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.benchmarks.bench_scripts import load_bench
from tests.conftest import ROOT

pytestmark = pytest.mark.bench

FIELDS = {"date", "device", "driver", "torch", "transformers", "model", "budget", "answer_lengths",
          "plain_generate", "variants", "command", "schema"}
VARIANT_FIELDS = {"variant", "engine_options", "pages", "slots", "pages_per_second", "output_tokens_per_second",
                  "slot_use", "mask_wait_share", "peak_memory_gib", "ratio_to_plain", "row_steps", "useful_row_steps"}


@pytest.mark.slow
def test_gpu_suite_tiny_mode_writes_a_result_file_per_budget(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(ROOT / "bench" / "gpu_suite.sh"), str(tmp_path), "--tiny"],
                          check=False, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    files = sorted(f for f in tmp_path.glob("*-tiny-random-b*.json") if not f.name.startswith("lora_step"))
    assert [json.loads(f.read_text())["budget"] for f in files] == [70, 140]
    for path in files:
        record = json.loads(path.read_text())
        assert FIELDS <= set(record), FIELDS - set(record)
        variants = {v["variant"]: v for v in record["variants"]}
        assert set(variants) == {"static", "continuous", "forced-static", "forced-continuous"}
        for v in variants.values():
            assert VARIANT_FIELDS <= set(v), VARIANT_FIELDS - set(v)
            assert 0 < v["slot_use"] <= 1 and v["pages_per_second"] > 0
        static, continuous = variants["static"], variants["continuous"]
        assert static["engine_options"]["batching"] == "static"
        assert continuous["engine_options"]["batching"] == "continuous"
        # the same answers either way: the same tokens, and the same useful row-steps
        assert static["output_tokens"] == continuous["output_tokens"]
        assert static["useful_row_steps"] == continuous["useful_row_steps"]
        assert variants["forced-static"]["output_tokens"] == 2 * record["forced_output_tokens"]
        assert set(record["plain_generate"]) == {"realistic", "forced"}
    log = (tmp_path / "suite.log").read_text()
    assert log.count("slot_use.py") == 1 and log.count("prefix_prefill.py") == 1
    lora = json.loads((tmp_path / "lora_step-tiny-random-b70.json").read_text())  # bench/lora_step.py's
    assert len(lora["step_seconds"]) == 2 and lora["answer_tokens"] >= 64 and lora["trainable_parameters"] > 0
    (prefix,) = set(tmp_path.glob("*.json")) - set(files) - {tmp_path / "lora_step-tiny-random-b70.json"}
    ways = json.loads(prefix.read_text())["ways"]
    assert {w["passes_greedy_equal_to_whole"] for w in ways.values()} == {"1/1"}


def test_answer_lengths_follow_the_invoice_schema_shape():
    from docpipe.schema.load import resolve_schema

    bench = load_bench("slot_use")
    lengths = bench.answer_lengths(resolve_schema("invoice"), 500, 700, 1.0)
    assert 70 <= min(lengths) <= 110  # the scalar fields alone, no line item
    assert 600 <= max(lengths) <= 700
    assert len(set(lengths)) > 10


def test_the_figures_in_docs_are_those_of_the_committed_result_files():
    table = load_bench("results_table")
    assert sorted((ROOT / "bench" / "results").glob("*.json")), "no committed result file"
    assert table.main(["--check"]) == 0
