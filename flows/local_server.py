"""A temporary Prefect server owned by the `docpipe` command, that cannot outlive it.

Without PREFECT_API_URL, Prefect starts a temporary server (uvicorn) as a child process and stops
it at exit; a process killed with SIGKILL has no exit, and the server is left running as an
orphan. The command starts the server itself instead, with the kernel told to kill it when its
parent dies (Linux prctl PR_SET_PDEATHSIG), and points Prefect at it for the command's lifetime.
Elsewhere (no prctl) Prefect's own temporary server is used.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import prefect
from prefect.settings import PREFECT_API_URL, temporary_settings

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


OWNED_MARK = "DOCPIPE_OWNED_PREFECT_API"  # set while this process's API is a temporary server it owns


def is_owned(url: str | None) -> bool:
    """Whether `url` is a temporary server this process started (shared by no other run)."""
    return bool(url) and os.environ.get(OWNED_MARK) == url


@contextlib.contextmanager
def owned_server(services: bool = False, startup_timeout: float = 180.0) -> Iterator[str | None]:
    """Prefect's API for the block: the one named by PREFECT_API_URL, or a temporary server that
    dies with this process. Yields the API URL (None where Prefect's own temporary server is used).

    `services`: run the server's background services too (the scheduler that turns a deployment's
    schedule into flow runs: `docpipe serve` needs it; a plain run does not)."""
    if PREFECT_API_URL.value() or not sys.platform.startswith("linux"):
        yield PREFECT_API_URL.value() or None
        return
    port = _free_port()
    env = os.environ | {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_FINAL": "1"}
    if not services:
        env["PREFECT__SERVER_EPHEMERAL"] = "1"  # only the services a temporary server needs
    errors = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the server, closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(prefect.__file__).parent.parent),
         "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "error", "--lifespan", "on"],
        env=env, preexec_fn=_die_with_parent,  # noqa: PLW1509 -- prctl only, before exec stdout=subprocess.DEVNULL, stderr=errors,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(process, url, startup_timeout, errors)
        os.environ["PREFECT_API_URL"] = url  # for the processes this one starts (served flow runs)
        os.environ[OWNED_MARK] = url
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        os.environ.pop(OWNED_MARK, None)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        errors.close()


def _wait_healthy(process: subprocess.Popen, url: str, timeout: float, errors) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                errors.seek(0)
                raise RuntimeError(f"the temporary Prefect server exited ({process.returncode}): "
                                   + errors.read().decode(errors="replace")[-2000:])
            try:
                if client.get(f"{url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    raise RuntimeError(f"the temporary Prefect server did not answer within {timeout:.0f} s")
