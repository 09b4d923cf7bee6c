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
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import prefect
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker
from prefect.settings import PREFECT_API_URL, temporary_settings

from docpipe.core.child_server import free_port, wait_healthy

PR_SET_PDEATHSIG = 1
DRAIN_SECONDS = 30.0  # at most this long to send a run's last events and logs before the server stops


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


OWNED_MARK = "DOCPIPE_OWNED_PREFECT_API"  # set while this process's API is a temporary server it owns


def is_owned(url: str | None) -> bool:
    """Whether `url` is a temporary server this process started (shared by no other run)."""
    return bool(url) and os.environ.get(OWNED_MARK) == url


@dataclass
class LocalServer:
    """A Prefect API server started by this process on 127.0.0.1, killed by the kernel if this
    process dies first."""

    process: subprocess.Popen
    url: str
    errors: IO[bytes]

    def stop(self) -> None:
        """Send what this process still has queued for the server (events, logs), then stop it.

        Prefect's event and log clients send in background threads; stopped before they are
        drained, they keep retrying the dead server, and the interpreter's exit waits for them
        ("Still processing items" for minutes)."""
        drain_prefect_clients()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.errors.close()

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Return once the server answers; stop it and raise ServerNotReady if it never does."""
        try:
            wait_healthy(self.process, f"{self.url}/health", timeout, "the temporary Prefect server",
                         details=lambda: _read(self.errors))
        except BaseException:
            self.stop()
            raise


def start_local_server(services: bool = False, startup_timeout: float = 180.0,
                       env: dict[str, str] | None = None) -> LocalServer:
    """Start a Prefect API server (its database under PREFECT_HOME) and wait until it answers.

    `services`: run the server's background services too (the scheduler that turns a deployment's
    schedule into flow runs: `docpipe serve` needs it; a plain run does not)."""
    server = launch_local_server(services, env)
    server.wait_ready(startup_timeout)
    return server


def launch_local_server(services: bool = False, env: dict[str, str] | None = None) -> LocalServer:
    """Start the server and return at once: `wait_ready` before its first use."""
    port = free_port()
    env = (env or dict(os.environ)) | {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_FINAL": "1"}
    env.pop("PREFECT_API_URL", None)
    if not services:
        env["PREFECT__SERVER_EPHEMERAL"] = "1"  # only the services a temporary server needs
    errors = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the server, closed by stop()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(prefect.__file__).parent.parent),
         "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "error", "--lifespan", "on"],
        env=env, stdout=subprocess.DEVNULL, stderr=errors,  # its output is for the error message only
        preexec_fn=_die_with_parent,  # noqa: PLW1509 -- prctl only, before exec
    )
    return LocalServer(process, f"http://127.0.0.1:{port}/api", errors)


def drain_prefect_clients(timeout: float = DRAIN_SECONDS) -> None:
    """Wait (up to `timeout` s each) until Prefect's log and event clients have sent what they hold."""
    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout)


@contextlib.contextmanager
def owned_server(services: bool = False, startup_timeout: float = 180.0) -> Iterator[str | None]:
    """Prefect's API for the block: the one named by PREFECT_API_URL, or a temporary server that
    dies with this process. Yields the API URL (None where Prefect's own temporary server is used).

    `services`: see start_local_server."""
    if PREFECT_API_URL.value() or not sys.platform.startswith("linux"):
        yield PREFECT_API_URL.value() or None
        return
    with serving(start_local_server(services, startup_timeout), owned=True) as url:
        yield url


@contextlib.contextmanager
def serving(server: LocalServer, owned: bool) -> Iterator[str]:
    """This process's Prefect API is `server` for the block: its settings, and PREFECT_API_URL for
    the processes it starts (served flow runs); `owned`: a server of this process alone (no
    model slot needed on it). At the end the server stops, after the clients drained into it."""
    drain_prefect_clients()  # clients bind to a server when they start: none left bound to an earlier one
    os.environ["PREFECT_API_URL"] = server.url
    if owned:
        os.environ[OWNED_MARK] = server.url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.url}):
            try:
                yield server.url
            finally:
                server.stop()
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        os.environ.pop(OWNED_MARK, None)


def _read(errors: IO[bytes]) -> str:
    errors.seek(0)
    return errors.read().decode(errors="replace")[-2000:]
