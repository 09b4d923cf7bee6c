"""One model per GPU: a Prefect global concurrency limit that runs on one host take in turn.

Only a run that loads its model onto a GPU of this host takes it (`Engine.holds_gpu()`): runs
with the served engine (`--engine openai`) load nothing here, so they never wait for each other.

The limit is named after the host and the GPUs the process sees (CUDA_VISIBLE_DEVICES), so one
worker per GPU gives each GPU its own limit of one slot, and two runs that would load two models
onto one GPU run one after the other. It is created when missing (Prefect ignores a limit that
does not exist). The slot is leased: a run killed with SIGKILL stops renewing it, and it frees
itself after 10 x `lease_seconds` (at least 10 minutes).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from collections.abc import Iterator

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound


def slot_name() -> str:
    devices = os.environ.get("CUDA_VISIBLE_DEVICES", "all") or "none"
    raw = f"docpipe-model-{socket.gethostname()}-gpu-{devices}"
    return re.sub(r"[^A-Za-z0-9_-]", "-", raw)


def ensure_limit(name: str, slots: int = 1) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=slots))
            except ObjectAlreadyExists:
                pass  # another run created it a moment ago


@contextlib.contextmanager
def model_slot(lease_seconds: float) -> Iterator[str]:
    """Hold this GPU's slot for the block (waiting for another run on it to finish)."""
    from prefect.settings import PREFECT_API_URL

    from docpipe.flows.local_server import is_owned

    if is_owned(PREFECT_API_URL.value()):
        # a temporary server of this process alone guards nothing across runs, and temporary
        # servers of several processes on one SQLite file lose each other's leases (a slot then
        # stays taken for good): the guard needs a shared Prefect server (`prefect server start`)
        yield ""
        return
    name = slot_name()
    ensure_limit(name)
    # a slot renewal that fails (a loaded host, a server restart) must not kill a long run: the
    # lease is long, and a lost one only lets another run start early
    with concurrency(name, occupy=1, lease_duration=max(10 * lease_seconds, 600.0), strict=True,
                     raise_on_lease_renewal_failure=False):
        yield name
