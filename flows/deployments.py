"""The ingest flow as a Prefect deployment: served on one host, registered on a work pool, and
submitted in shards (`docpipe serve | deploy | submit`).

A deployment carries the run configuration as its one parameter, as JSON; passwords never travel
in it (a `password_file` path does, read where the run runs). Input, output and password file are
made absolute, since a worker runs the flow from its own working folder.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.types.entrypoint import EntrypointType

from docpipe.flows.ingest import FLOW_NAME, ingest_flow
from docpipe.flows.lost_runs import (
    HEARTBEAT_SECONDS,
    ensure_lost_run_automation,
    heartbeat_env,
    lost_by_lease,
    mark_crashed,
)
from docpipe.run.config import RunConfig


def parameters(config: RunConfig) -> dict[str, Any]:
    """The flow's parameters for `config`: plain JSON, with no password in it."""
    if config.passwords:
        raise ValueError("passwords cannot travel in a deployment's parameters: give --password-file "
                         "(a file the workers can read) instead")
    absolute = {"input": config.input.resolve(), "out": config.out.resolve()}
    if config.password_file is not None:
        absolute["password_file"] = config.password_file.resolve()
    return {"config": config.model_copy(update=absolute).model_dump(mode="json")}


def _schedule(cron: str | None, interval: float | None) -> dict[str, Any]:
    if cron and interval:
        raise ValueError("give --cron or --interval, not both")
    if interval is not None:
        return {"interval": dt.timedelta(seconds=interval)}
    return {"cron": cron} if cron else {}


def serve(config: RunConfig, name: str, cron: str | None, interval: float | None) -> None:
    """Run the flow on this host on a schedule, until interrupted. One run at a time: a run due
    while the last one still works is cancelled (the next one takes its documents)."""
    from prefect import serve as serve_deployments

    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
    deployment = ingest_flow.to_deployment(
        name=name, parameters=parameters(config), entrypoint_type=EntrypointType.MODULE_PATH,
        concurrency_limit=one_at_a_time, **_schedule(cron, interval),
    )
    serve_deployments(deployment, limit=1, print_starting_message=False)


def deploy(config: RunConfig, name: str, pool: str, cron: str | None, interval: float | None,
           heartbeat_seconds: int = HEARTBEAT_SECONDS) -> str:
    """Register the deployment on the work pool `pool` (a process pool, created when missing);
    workers started with `prefect worker start --pool POOL` run its flow runs. Its flow runs send
    a heartbeat every `heartbeat_seconds`, and the server marks one Crashed after three missed
    (flows/lost_runs.py: the automation is created when missing)."""
    ensure_pool(pool)
    schedule = _schedule(cron, interval)
    deployment = ingest_flow.to_deployment(
        name=name, parameters=parameters(config), entrypoint_type=EntrypointType.MODULE_PATH,
        job_variables={"env": heartbeat_env(heartbeat_seconds)}, **schedule,
    )
    deployment.apply(work_pool_name=pool)
    ensure_lost_run_automation(heartbeat_seconds)
    return f"{FLOW_NAME}/{name}"


def ensure_pool(pool: str) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            try:
                from prefect.workers.process import ProcessWorker

                template = ProcessWorker.get_default_base_job_template()
                client.create_work_pool(WorkPoolCreate(name=pool, type="process", base_job_template=template))
            except ObjectAlreadyExists:
                pass


@dataclass(frozen=True)
class Submitted:
    shard: int
    flow_run_id: str
    name: str
    state: str
    message: str = ""  # why it ended so, when Prefect says (a lost run: what was seen)

    @property
    def lost(self) -> bool:
        return self.state == "Crashed"


def submit(config: RunConfig, deployment: str, shards: int, only: list[int] | None = None) -> list[Submitted]:
    """Start one flow run per shard of the deployment `deployment` (flow/deployment name);
    `only`: these shards (a lost shard submitted again)."""
    runs = []
    for shard in range(shards) if only is None else only:
        shard_config = config.model_copy(update={"shard_index": shard, "shard_count": shards})
        flow_run = run_deployment(deployment, parameters=parameters(shard_config), timeout=0,
                                  flow_run_name=f"shard-{shard}-of-{shards}", as_subflow=False)
        runs.append(Submitted(shard, str(flow_run.id), flow_run.name, flow_run.state_name or "Scheduled"))
    return runs


FINAL = {"Completed", "Failed", "Crashed", "Cancelled"}


def wait(runs: list[Submitted], out: Path, poll: float = 2.0, timeout: float | None = None) -> list[Submitted]:
    """Poll the flow runs until each is in a final state (or `timeout` seconds have passed). A
    Running flow run whose run's lease on `out` expired is lost: it is marked Crashed here."""
    deadline = None if timeout is None else time.monotonic() + timeout
    current = list(runs)
    with get_client(sync_client=True) as client:
        while True:
            current = [_now(client, r, out) for r in current]
            if all(r.state in FINAL for r in current) or (deadline and time.monotonic() > deadline):
                return current
            time.sleep(poll)


def _now(client, run: Submitted, out: Path) -> Submitted:
    if run.state in FINAL:
        return run
    state = client.read_flow_run(run.flow_run_id).state
    name, message = (state.name, state.message or "") if state is not None else ("?", "")
    if name == "Running" and (why := lost_by_lease(out, run.flow_run_id)):
        mark_crashed(client, run.flow_run_id, why)
        name, message = "Crashed", why
    return Submitted(run.shard, run.flow_run_id, run.name, name, message)
