"""A run's lease on an output folder: proof, renewed while the run lives, that its files are its own.

Several runs (processes, hosts sharing a filesystem) write into one output folder at once. Each
holds OUT/_leases/<run_id>.json, rewritten every third of `seconds` by a thread with a new
`expires_at` (wall-clock seconds; hosts sharing a folder are expected to keep time with NTP). A run
that dies (SIGKILL, a lost host) stops renewing; once its lease has expired, recovery may move its
uncommitted files aside and other runs may take over the documents it had claimed. A run that ends
normally removes its lease.

Renewal survives transient errors (a full disk, a network filesystem's hiccup): it warns and tries
again sooner. A run whose lease has lapsed, or is about to, must not commit: `check()` right
before a chunk's commit raises LeaseLost, since another run may already have taken its work over.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from docpipe.core.errors import TransientError

LEASES = "_leases"

log = logging.getLogger(__name__)


class LeaseLost(TransientError, RuntimeError):
    """This run's lease lapsed (its renewals failed): it stops before committing anything more."""


@dataclass(frozen=True)
class LeaseInfo:
    run_id: str
    pid: int
    host: str
    expires_at: float
    flow_run_id: str | None = None  # the Prefect flow run the run is part of, when it is one

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
    return _info(data)


def _info(data: dict) -> LeaseInfo:
    return LeaseInfo(data["run_id"], data["pid"], data["host"], data["expires_at"], data.get("flow_run_id"))


def leases_of_flow_run(out: Path, flow_run_id: str) -> list[LeaseInfo]:
    """The leases on `out` (live or expired; a run that ended removed its own) that name this flow run."""
    found = []
    for path in (Path(out) / LEASES).glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being replaced, or removed as we read
        if data.get("flow_run_id") == flow_run_id:
            found.append(_info(data))
    return found


def is_live(out: Path, run_id: str) -> bool:
    lease = read_lease(out, run_id)
    return lease is not None and lease.live


class Lease:
    """Held with `with Lease(out, run_id, seconds):`; renewed by a thread until the block ends.
    `flow_run_id`: the Prefect flow run this run is part of (`docpipe submit` finds lost runs by it)."""

    def __init__(self, out: Path, run_id: str, seconds: float, flow_run_id: str | None = None):
        self.out, self.run_id, self.seconds, self.flow_run_id = Path(out), run_id, seconds, flow_run_id
        self.path = lease_path(out, run_id)
        self.valid_until = 0.0  # the expiry of the last lease written
        self.last_error: OSError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def renew(self) -> None:
        expires_at = time.time() + self.seconds
        info = {"run_id": self.run_id, "pid": os.getpid(), "host": socket.gethostname(), "expires_at": expires_at,
                "flow_run_id": self.flow_run_id}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info))
        os.replace(tmp, self.path)  # readers see the old lease or the new one, never half of one
        self.valid_until = expires_at

    def check(self) -> None:
        """Raise LeaseLost unless the lease stays valid for a while yet (a sixth of its length:
        time to write a commit file that no other run's recovery can then have moved aside)."""
        left = self.valid_until - time.time()
        if left < self.seconds / 6:
            why = f": renewing it failed ({self.last_error})" if self.last_error else ""
            raise LeaseLost(
                f"run {self.run_id} lost its lease on {self.out}{why}; it stopped before committing more, "
                "and another run may take its documents over: run again to finish them"
            )

    def _keep_renewing(self) -> None:
        wait = self.seconds / 3
        while not self._stop.wait(wait):
            try:
                self.renew()
            except OSError as exc:  # transient: warn, and try again sooner
                if self.last_error is None:
                    log.warning("renewing the lease of run %s on %s failed: %s; retrying", self.run_id, self.out, exc)
                self.last_error, wait = exc, self.seconds / 12
            else:
                if self.last_error is not None:
                    log.warning("the lease of run %s on %s is renewed again", self.run_id, self.out)
                self.last_error, wait = None, self.seconds / 3

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
