"""A run's lease on an output folder: proof, renewed while the run lives, that its files are its own.

Several runs (processes, hosts sharing a filesystem) write into one output folder at once. Each
holds OUT/_leases/<run_id>.json, rewritten every third of `seconds` by a thread with a new
`expires_at` (wall-clock seconds; hosts sharing a folder are expected to keep time with NTP). A run
that dies (SIGKILL, a lost host) stops renewing; once its lease has expired, recovery may move its
uncommitted files aside and other runs may take over the documents it had claimed. A run that ends
normally removes its lease.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

LEASES = "_leases"


@dataclass(frozen=True)
class LeaseInfo:
    run_id: str
    pid: int
    host: str
    expires_at: float

    @property
    def live(self) -> bool:
        return self.expires_at > time.time()

    def describe(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host})"


def lease_path(out: Path, run_id: str) -> Path:
    return Path(out) / LEASES / f"{run_id}.json"


def read_lease(out: Path, run_id: str) -> LeaseInfo | None:
    """The lease of `run_id`, or None when it has none (never had one, or ended)."""
    try:
        data = json.loads(lease_path(out, run_id).read_text())
    except (OSError, ValueError):
        return None
    return LeaseInfo(data["run_id"], data["pid"], data["host"], data["expires_at"])


def is_live(out: Path, run_id: str) -> bool:
    lease = read_lease(out, run_id)
    return lease is not None and lease.live


class Lease:
    """Held with `with Lease(out, run_id, seconds):`; renewed by a thread until the block ends."""

    def __init__(self, out: Path, run_id: str, seconds: float):
        self.out, self.run_id, self.seconds = Path(out), run_id, seconds
        self.path = lease_path(out, run_id)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def renew(self) -> None:
        info = {"run_id": self.run_id, "pid": os.getpid(), "host": socket.gethostname(),
                "expires_at": time.time() + self.seconds}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info))
        os.replace(tmp, self.path)  # readers see the old lease or the new one, never half of one

    def _keep_renewing(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            self.renew()

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.renew()
        self._thread = threading.Thread(target=self._keep_renewing, name=f"lease-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.path.unlink(missing_ok=True)
