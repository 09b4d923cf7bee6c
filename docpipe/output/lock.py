"""One writing run at a time per output folder.

A run holds OUT/.lock (the `filelock` library: flock on Unix) from planning to its last write. A
second run into the same folder waits for it (saying who holds it), then plans against what the
first one wrote, so the two never process the same document twice. The lock dies with its
process: a run killed with SIGKILL leaves no stale lock behind. Who holds it is written beside it,
in OUT/.lock.holder, for the waiting run's message.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout


class OutputLock:
    def __init__(self, out: Path, run_id: str, on_wait: Callable[[str], None] | None = None):
        self.out = Path(out)
        self.run_id = run_id
        self.on_wait = on_wait
        self._lock = FileLock(self.out / ".lock")
        self._holder = self.out / ".lock.holder"

    def holder(self) -> str:
        try:
            info = json.loads(self._holder.read_text() or "{}")
        except (OSError, ValueError):
            return "another run"
        return f"run {info.get('run_id', '?')} (pid {info.get('pid', '?')} on {info.get('host', '?')})"

    def __enter__(self) -> OutputLock:
        self.out.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            if self.on_wait:
                self.on_wait(f"{self.out} is being written by {self.holder()}; waiting for it to finish")
            self._lock.acquire()
        self._holder.write_text(json.dumps({
            "run_id": self.run_id, "pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
        }))
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()
