"""`docpipe serve-model` owns its server's lifetime: killed with SIGKILL (no clean-up runs), it
leaves no server process behind and its port free. The server is a stand-in shaped like vLLM
(tests/serving/fake_vllm.py: an API server and an engine process in one process group), so the
test needs no vLLM environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from docpipe.core.child_server import free_port
from docpipe.engines.served.vllm_launch import port_taken
from tests.flows.processes import wait_gone

FAKE_VLLM = Path(__file__).with_name("fake_vllm.py")


def _fake_vllm_python(folder: Path) -> Path:
    wrapper = folder / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_VLLM}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.processes
def test_serve_model_killed_with_sigkill_leaves_no_server_and_a_free_port(tmp_path, tiny_model):
    port = free_port()
    env = os.environ | {"DOCPIPE_VLLM_PYTHON": str(_fake_vllm_python(tmp_path))}
    serve = subprocess.Popen(
        [sys.executable, "-m", "docpipe", "serve-model", "tiny-random", "--port", str(port), "--cpu",
         "--no-media-dir", "--log", str(tmp_path / "vllm.log")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        for line in serve.stdout:  # until it says it serves
            lines.append(line)
            if "--base-url" in line:
                break
        assert any(f"--base-url http://127.0.0.1:{port}/v1" in line for line in lines), "".join(lines)
        server = [p for p in psutil.Process(serve.pid).children(recursive=True) if "fake_vllm" in " ".join(p.cmdline())]
        assert len(server) == 2, server  # its API server and engine process are running
        assert port_taken("127.0.0.1", port)

        serve.send_signal(signal.SIGKILL)
        serve.wait()
        alive = wait_gone({process.pid for process in server}, 30)
        assert not alive, f"left running after serve-model was killed: {alive}"
        _wait_for(lambda: not port_taken("127.0.0.1", port), 10, f"port {port} still taken")
    finally:
        serve.kill()
        for process in psutil.process_iter(["cmdline"]):
            if str(FAKE_VLLM) in " ".join(process.info["cmdline"] or []):
                process.kill()
