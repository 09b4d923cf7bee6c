"""The session's Prefect server (tests/conftest.py: prefect_api), a process work pool with the ingest
deployment, and two `prefect worker start` processes, one per pretend GPU; every process is
stopped by its PID at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CORPUS, SAMPLES
from tests.flows.processes import descendants, stop, wait_gone

POOL = "test-gpus"
DEPLOYMENT = "docpipe-ingest/docpipe"
# fast tiny-model answers; batch 1 so that every document gets the same answer whichever shard
# reads it (no padding against other documents); a short lease so a killed run's documents are
# taken over quickly
TINY = ["--model", "tiny-random", "--budget", "70", "--max-new-tokens", "12", "--max-text-length", "4",
        "--batch-size", "1", "--render-workers", "1", "--lease-seconds", "6"]
# a corpus subset that is quick to read but has every kind of trouble: encrypted (opened with
# passwords.tsv), empty, corrupt, repaired, not a document
CORPUS_FILES = [
    "weird_pdfs/encrypted/pypdf__r2-user-password.pdf", "weird_pdfs/encrypted/pdfjs__issue6010_2.pdf",
    "weird_pdfs/empty/pdfplumber__empty.pdf", "weird_pdfs/empty/pdfjs__empty.pdf",
    "weird_pdfs/broken/pdfjs__bug1020226.pdf", "weird_pdfs/broken/pdfjs__PDFBOX-4352-0.pdf",
    "weird_pdfs/passwords.tsv",
]


@dataclass
class PrefectSite:
    url: str
    env: dict[str, str]
    workers: list[subprocess.Popen]
    passwords: Path

    def docpipe(self, *args: str, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "docpipe", *args], env=env or self.env, capture_output=True, check=False,
                              text=True, timeout=timeout)


@pytest.fixture(scope="session")
def scale_input(tmp_path_factory) -> Path:
    """samples/ plus a subset of ../shared/corpus, in one folder."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the project")
    folder = tmp_path_factory.mktemp("scale") / "input"
    shutil.copytree(SAMPLES, folder)
    for relative in CORPUS_FILES:
        shutil.copy(CORPUS / relative, folder / Path(relative).name)
    return folder


@pytest.fixture(scope="module")
def prefect_site(prefect_api, tiny_model):
    """Module-scoped: the workers poll the server every 2 s, load that later tests need not share."""
    # workers and `docpipe serve` look for scheduled runs every 2 s (Prefect's defaults: 10 s)
    env = os.environ | {"PREFECT_API_URL": prefect_api, "PREFECT_WORKER_QUERY_SECONDS": "2",
                        "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    started: list[subprocess.Popen] = []
    try:
        site = PrefectSite(prefect_api, env, [], CORPUS / "weird_pdfs" / "passwords.tsv")
        deployed = site.docpipe("deploy", str(SAMPLES), "--pool", POOL, *TINY)
        assert deployed.returncode == 0, deployed.stderr[-3000:] + deployed.stdout[-2000:]
        for gpu in ("0", "1"):  # one worker per GPU: each its own model slot
            worker = subprocess.Popen(
                [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--limit", "1",
                 "--name", f"gpu-{gpu}"], env=env | {"CUDA_VISIBLE_DEVICES": gpu},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            started.append(worker)
            site.workers.append(worker)
        yield site
    finally:
        family = set()
        for process in started:
            family |= descendants(process.pid) | {process.pid}
        for process in reversed(started):
            process.terminate()
        left = wait_gone(family, 20)
        stop(left)
        for process in started:
            process.wait(timeout=10)
