"""A `docpipe run` killed with SIGKILL leaves no process behind: not its temporary Prefect server
(uvicorn), not its render workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import SAMPLES, own_server_env
from tests.flows.processes import alive, descendants, stop, wait_gone


@pytest.mark.slow
@pytest.mark.processes
def test_sigkill_of_a_run_leaves_no_process_of_it(tiny_model, tmp_path, prefect_home):
    env = own_server_env(PREFECT_HOME=prefect_home("run"))
    out = tmp_path / "out"
    run = subprocess.Popen(
        [sys.executable, "-m", "docpipe", "run", str(SAMPLES), "--out", str(out), "--model", "tiny-random",
         "--budget", "70", "--max-new-tokens", "24", "--batch-size", "1", "--render-workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    family: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while not list((out / "documents").glob("*.parquet")):  # mid-run: a chunk is written
            assert run.poll() is None, run.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the run never wrote a chunk"
            time.sleep(0.1)
        family = descendants(run.pid)
        commands = {pid: _command(pid) for pid in family}
        assert any("uvicorn" in c for c in commands.values()), commands  # its temporary Prefect server
        os.kill(run.pid, signal.SIGKILL)  # the run alone, not its process group
        run.wait()
        left = wait_gone(family, 15)
        assert not left, {pid: commands[pid] for pid in left}
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        stop({pid for pid in family if alive(pid)})


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"
