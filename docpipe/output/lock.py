"""One writing run at a time per output folder.

A run holds an exclusive lock on OUT/.lock (fcntl.flock) from planning to its last write. A second
run into the same folder waits for it (saying so), then plans against what the first one wrote,
so the two never process the same document twice. The lock dies with its process: a run killed
with SIGKILL leaves no stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path


class OutputBusy(Exception):
    """Another run is writing to the output folder and we were told not to wait."""


class OutputLock:
    def __init__(self, out: Path, run_id: str, wait: bool = True,
                 on_wait: Callable[[str], None] | None = None):
        self.path = Path(out) / ".lock"
        self.run_id = run_id
        self.wait = wait
        self.on_wait = on_wait
        self._handle = None

    def holder(self) -> str:
        try:
            info = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return "another run"
        return f"run {info.get('run_id', '?')} (pid {info.get('pid', '?')} on {info.get('host', '?')})"

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the lock's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = f"{self.path.parent} is being written by {self.holder()}"
            if not self.wait:
                handle.close()
                raise OutputBusy(message + "; wait for it or use another --out") from None
            if self.on_wait:
                self.on_wait(message + "; waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"run_id": self.run_id, "pid": os.getpid(),
                                 "host": socket.gethostname(), "since": time.time()}))
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
