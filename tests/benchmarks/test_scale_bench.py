"""bench/scale.py runs end to end on a small folder (the stub server, docpipe's served engine, the
render pool) and writes a result file whose figures are all there and make sense. (No timing is
checked: benchmarks print figures, tests do not time anything.)"""

from __future__ import annotations

import json

import pytest

from tests.benchmarks.bench_scripts import load_bench

pytestmark = [pytest.mark.bench, pytest.mark.slow]  # starts the stub server and render processes

SIZE = 20


def test_scale_bench_writes_its_figures(tmp_path, capsys):
    bench = load_bench("scale")
    results, plot = tmp_path / "results", tmp_path / "scale.png"
    assert bench.main(["--sizes", str(SIZE), "--chunk", "8", "--work", str(tmp_path / "work"),
                       "--out", str(tmp_path / "runs"), "--results", str(results), "--plot", str(plot),
                       "--simulate-to", "2000"]) == 0
    printed = capsys.readouterr().out
    assert "(simulated)" in printed and "CPU ms/document: render" in printed
    assert plot.stat().st_size > 0
    [path] = results.glob("*-cpu.json")
    result = json.loads(path.read_text())
    assert result["settings"]["budget"] == 560 and result["settings"]["chunk_size"] == 8
    [entry] = result["sizes"]
    added = entry["documents_added"]
    assert entry["documents"] == SIZE and not entry["simulated"] and added == 1

    first, again, more = entry["first_run"], entry["rerun_nothing_new"], entry["rerun_one_percent_new"]
    assert (first["documents_found"], first["documents_processed"], first["documents_already_done"]) == (SIZE, SIZE, 0)
    assert (again["documents_found"], again["documents_processed"], again["documents_already_done"]) == (SIZE, 0, SIZE)
    assert (more["documents_found"], more["documents_processed"], more["documents_already_done"]) == (SIZE + 1, 1, SIZE)
    assert first["records_valid"] == SIZE  # the stub's canned invoice validates
    assert first["documents_per_second"] > 0 and again["seconds"] > 0 and more["seconds"] > 0
    stages = first["cpu_ms_per_document"]
    assert set(stages) == set(bench.STAGES) and all(ms >= 0 for ms in stages.values())
    assert stages["render"] > 0 and stages["request"] > 0 and stages["write"] > 0 and stages["discover"] > 0
    assert first["cpu_seconds"]["render_workers"] > 0  # the render processes' CPU was seen
    assert sum(stages.values()) == pytest.approx(first["cpu_ms_per_document_total"])
    assert again["cpu_ms_per_document"] is None and again["cpu_ms_per_document_in_folder_total"] > 0
    assert first["peak_rss_mib"] >= first["peak_rss_main_mib"] > 50

    chunks = -(-SIZE // 8)  # 3 chunks, then 1 for the added document
    assert entry["parquet_files_before_compact"] > chunks + 1
    assert entry["parquet_files_after_compact"] < entry["parquet_files_before_compact"]
    assert entry["read_table_rows"] == SIZE + added
    assert entry["read_table_seconds_before_compact"] > 0 and entry["read_table_seconds_after_compact"] > 0

    simulated = result["simulated"]
    assert [e["documents"] for e in simulated] == [200, 2000] and all(e["simulated"] for e in simulated)
    assert simulated[-1]["first_run"]["documents_processed"] == 2000
    assert simulated[-1]["first_run"]["documents_per_second"] > 0
