"""The benchmark scripts run end to end on CPU with the tiny model (their numbers are not checked:
benchmarks print figures, tests do not time anything)."""

from __future__ import annotations

import pytest

from tests.benchmarks.bench_scripts import load_bench
from tests.conftest import ROOT

pytestmark = pytest.mark.bench


def test_throughput_smoke(tiny_model, capsys):
    bench = load_bench("throughput")
    assert bench.main(["--tiny", "--pages", "4", "--output-tokens", "3", "--baseline-pages", "2",
                       "--batch-size", "4", "--budget", "70", "--variants", "default,attn=sdpa"]) == 0
    out = capsys.readouterr().out
    assert "baseline one page at a time" in out
    lines = [line for line in out.splitlines() if "pages/s" in line and "vs plain" in line]
    assert len(lines) == 2 and all("batch=   4" in line for line in lines)


def test_floor_arithmetic_matches_a_hand_count(capsys):
    bench = load_bench("throughput")
    import json

    from transformers import Gemma4Config

    path = ROOT.parent / "shared" / "gemma4_configs" / "gemma-4-26b-a4b.json"
    if not path.is_file():
        pytest.skip(f"{path} is not here (../shared is expected beside the project)")
    config = Gemma4Config.from_dict(json.loads(path.read_text()))
    total, active, vision, embed = bench.count_params(config)
    assert 25.5e9 < total < 26.1e9  # 25.8B in the model card
    assert 3.0e9 < active + embed < 4.0e9  # "3.8B active", embeddings included
    f = bench.floor(config, 280, 180, 200, 256, "H200")
    # the decode-step reads at batch 256 on 4.8 TB/s: weights / 256 + the page's KV cache, 200 times
    memory_s = 200 * (f.weight_bytes / 256 + f.kv_bytes_per_page) / 4.8e12
    assert abs(1 / f.pages_per_second - max(memory_s, f.flops_per_page / 989e12)) < 1e-9


def test_render_rate_smoke(capsys):
    bench = load_bench("render_rate")
    assert bench.main(["--pages", "6", "--workers", "1", "--budget", "70"]) == 0
    assert "pages/s" in capsys.readouterr().out


def test_prefix_prefill_smoke(tiny_model, tmp_path, capsys):
    bench = load_bench("prefix_prefill")
    assert bench.main(["--pages", "3", "--rounds", "1", "--tokens", "3", "--budget", "70", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "computed/page" in line]
    assert len(lines) == 2 and all(line.endswith("1/1") for line in lines), out
    assert len(list(tmp_path.glob("*-cpu.json"))) == 1
