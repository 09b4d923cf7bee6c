"""A real Prefect server (127.0.0.1, SQLite in a temporary PREFECT_HOME), a process work pool with
the ingest deployment, and two `prefect worker start` processes, one per pretend GPU; every process
is stopped by its PID at the end."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(process: subprocess.Popen, url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "prefect server exited"
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"prefect server did not answer within {seconds} s")


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


@pytest.fixture(scope="session")
def prefect_site(tmp_path_factory, tiny_model):
    home = tmp_path_factory.mktemp("prefect-site")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = os.environ | {"PREFECT_HOME": str(home), "PREFECT_API_URL": url, "PREFECT_WORKER_QUERY_SECONDS": "2",
                        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    server_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    started: list[subprocess.Popen] = []
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=server_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    started.append(server)
    try:
        _wait_healthy(server, url, 180)
        site = PrefectSite(url, env, [], CORPUS / "weird_pdfs" / "passwords.tsv")
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
