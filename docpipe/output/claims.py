"""Which live run is reading which document: claims per work key, so that runs writing into one
output folder at once never read the same document twice.

A claim is a numbered generation under OUT/_claims/<work_key>/: the highest number holds the id of
the run that owns the key. It stands while that run's lease (lease.py) is live. A generation is put
in place by linking a finished file to its number (link(2) fails if the name exists), so exactly
one run creates each generation, and a reader never sees half a claim. Taking over a claim whose
run's lease expired is a compare-and-swap: the taker links generation n+1, where n is the
generation it saw held by the dead run; if another run linked n+1 first, the taker looks again and
finds a live holder. A run drops its claims once it ends (the key's folder goes, and numbering
starts again); so a run that has claimed a document still checks that no other run committed it
meanwhile (run/protocol.py).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from docpipe.output.lease import LeaseInfo, read_lease

CLAIMS = "_claims"
WIDTH = 8  # digits of a generation's file name


def claim_dir(out: Path, key: str) -> Path:
    return Path(out) / CLAIMS / key


def try_claim(out: Path, key: str, run_id: str) -> LeaseInfo | None:
    """Claim `key` for `run_id`. Returns None when the claim is ours, or the lease of the live
    run that holds it."""
    folder = claim_dir(out, key)
    while True:
        top = _top(folder)
        if top is None:
            generation = 0  # never claimed, or released
        else:
            generation, holder = top
            if holder == run_id:
                return None
            lease = read_lease(out, holder)
            if lease is not None and lease.live:
                return lease
            generation += 1  # its run is gone: take it over, unless another run does first
        if _link(folder, generation, run_id):
            _drop_older(folder, generation)
            return None


def holder(out: Path, key: str) -> str | None:
    """The run id that holds the claim on `key` (live or not), or None."""
    top = _top(claim_dir(out, key))
    return None if top is None else top[1]


def release(out: Path, keys: list[str], run_id: str) -> None:
    """Drop our claims on `keys` (their documents are committed, or the run is ending)."""
    for key in keys:
        folder = claim_dir(out, key)
        top = _top(folder)
        if top is not None and top[1] == run_id:
            (folder / _name(top[0])).unlink(missing_ok=True)
            try:
                folder.rmdir()
            except OSError:  # not empty (a newer claim), or gone already
                pass


def _name(generation: int) -> str:
    return f"{generation:0{WIDTH}d}"


def _top(folder: Path) -> tuple[int, str] | None:
    """The highest generation and its run id, or None when the key is not claimed."""
    while True:
        try:
            names = sorted((n for n in os.listdir(folder) if n.isdigit()), reverse=True)
        except FileNotFoundError:
            return None
        if not names:
            return None
        try:
            return int(names[0]), (folder / names[0]).read_text().strip()
        except FileNotFoundError:
            continue  # released or superseded while we looked: look again


def _link(folder: Path, generation: int, run_id: str) -> bool:
    """Put generation `generation` in place holding `run_id`; False if another run did first."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{run_id}.{uuid.uuid4().hex}.tmp"
    try:
        tmp.write_text(run_id)
        os.link(tmp, folder / _name(generation))
        return True
    except (FileExistsError, FileNotFoundError):  # another run was first, or a release removed the folder
        return False
    finally:
        tmp.unlink(missing_ok=True)


def _drop_older(folder: Path, generation: int) -> None:
    for name in os.listdir(folder):
        if name.isdigit() and int(name) < generation:
            (folder / name).unlink(missing_ok=True)
