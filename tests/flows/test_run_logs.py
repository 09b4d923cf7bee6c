"""A run is watched in Prefect's UI: its flow run's log has a line per committed chunk (documents
done and left, pages/s, failures by category) and the run's summary; the terminal stays quiet."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import SAMPLES

pytestmark = pytest.mark.usefixtures("prefect_api")


async def _flow_run_logs(out: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        runs = await client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=50)
        (run,) = [r for r in runs if r.parameters.get("config", {}).get("out") == out]
        logs = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
        return [log.message for log in logs]


@pytest.mark.slow
def test_each_committed_chunk_and_the_summary_reach_the_flow_runs_log(tiny_model, tmp_path):
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_LOGGING")}  # a user's defaults
    result = subprocess.run(
        [sys.executable, "-m", "docpipe", "run", str(SAMPLES), "--out", str(out), "--model", "tiny-random",
         "--budget", "70", "--max-new-tokens", "24", "--batch-size", "2", "--chunk-size", "2",
         "--render-workers", "0"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "chunk 0 committed" not in result.stdout + result.stderr  # quiet in the terminal, as before
    deadline, lines = time.monotonic() + 30, []
    while time.monotonic() < deadline:  # the log handler sends in batches, every 2 s
        lines = asyncio.run(_flow_run_logs(str(out)))
        if any(line.startswith("run finished") for line in lines):
            break
        time.sleep(1)
    chunks = [line for line in lines if line.startswith("chunk ")]
    # every file under samples/: generate.py and the label files too (unsupported), the packet's folder
    documents = len([p for p in SAMPLES.rglob("*") if p.is_file() and not p.name.startswith(".")])
    assert len(chunks) == documents // 2, lines
    assert chunks[0].startswith(f"chunk 0 committed: 2 of {documents} documents done, {documents - 2} left; ")
    assert chunks[-1].startswith(f"chunk {len(chunks) - 1} committed: {documents} of {documents} documents done, 0 left")
    assert all(" pages/s; " in line for line in chunks)
    assert "failures: unsupported 2" in chunks[0]  # generate.py and ground_truth.json, read first
    (summary,) = [line for line in lines if line.startswith("run finished")]
    assert f"{documents} documents found" in summary and f"{documents} read" in summary
