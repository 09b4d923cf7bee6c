"""Which live run is reading which document: one claim file per work key, so that runs writing
into one output folder at once never read the same document twice.

A claim is OUT/_claims/<work_key>, created exclusively (O_CREAT|O_EXCL: exactly one run wins) and
holding the claiming run's id. It stands while that run's lease (lease.py) is live. A claim whose
run's lease has expired is taken over: renamed away first (one rename succeeds, so one run takes
it), then created afresh. A run drops its claims once their chunk is committed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from docpipe.output.lease import LeaseInfo, read_lease

CLAIMS = "_claims"
FRESH_SECONDS = 10.0  # an empty claim younger than this is being written, not abandoned


def claim_path(out: Path, key: str) -> Path:
    return Path(out) / CLAIMS / key


def try_claim(out: Path, key: str, run_id: str) -> LeaseInfo | None:
    """Claim `key` for `run_id`. Returns None when the claim is ours, or the lease of the live
    run that holds it."""
    path = claim_path(out, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(path)
            if holder == run_id:
                return None
            if not holder:  # created a moment ago, its run id not yet written
                since = _mtime(path)
                if since is not None and time.time() - since < FRESH_SECONDS:
                    return LeaseInfo("(starting)", 0, "?", since + FRESH_SECONDS)
            lease = read_lease(out, holder) if holder else None
            if lease is not None and lease.live:
                return lease
            try:  # the holder is gone: take its claim over (one taker wins the rename)
                os.replace(path, path.with_name(f".{key}.stale-{run_id}"))
                path.with_name(f".{key}.stale-{run_id}").unlink(missing_ok=True)
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(run_id)
        return None
    holder = _holder(path)
    return read_lease(out, holder) if holder and holder != run_id else None


def release(out: Path, keys: list[str], run_id: str) -> None:
    """Drop our claims on `keys` (their documents are committed, or the run is ending)."""
    for key in keys:
        path = claim_path(out, key)
        if _holder(path) == run_id:
            path.unlink(missing_ok=True)


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
