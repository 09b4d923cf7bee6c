"""A child server on this host: a free loopback port for it, and waiting until it answers.

Both servers docpipe starts itself (a temporary Prefect server, a vLLM server) and the tests'
own servers use these two, so a start-up is checked the same way everywhere: the process must
stay alive and its health URL must answer 200 before the deadline.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import httpx

from docpipe.core.errors import TransientError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at this moment (the OS's choice)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ServerNotReady(TransientError, RuntimeError):
    """A child server exited, or did not answer its health URL in time."""


def wait_healthy(process: subprocess.Popen, health_url: str, timeout: float, name: str,
                 details: Callable[[], str] = lambda: "", poll: float = 0.2) -> None:
    """Return once `health_url` answers 200; raise ServerNotReady, with `details()` (e.g. the
    tail of the server's log), when `process` exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerNotReady(f"{name} exited with code {process.returncode} while starting:\n{details()}")
            try:
                if client.get(health_url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(poll)
    raise ServerNotReady(f"{name} did not answer {health_url} within {timeout:.0f} s:\n{details()}")
