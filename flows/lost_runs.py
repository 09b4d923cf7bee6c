"""Flow runs whose process or host was lost: found, marked Crashed in Prefect, and reported.

A flow run killed together with its host (SIGKILL, power, a lost network) stays `Running` in
Prefect for good: nothing is left to report its end, and whoever waits for it waits forever. Two
signs say it is gone, each acted on with Prefect's own state API:

- Prefect's own: flow runs send a heartbeat event every `PREFECT_FLOWS_HEARTBEAT_FREQUENCY`
  seconds (`docpipe deploy` sets it in the deployment's job variables), and the automation that
  Prefect documents for "zombie" flow runs marks one Crashed when neither a heartbeat nor an end
  follows within three heartbeats. `docpipe deploy` creates that automation when it is missing.
- docpipe's own: each run holds a lease on its output folder that names its flow run
  (output/lease.py), renewed every `--lease-seconds`/3. `docpipe submit`, while it waits, marks
  Crashed a Running flow run whose lease has expired: usually well before the automation would.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from docpipe.output.lease import leases_of_flow_run

HEARTBEAT_SECONDS = 30  # Prefect's smallest heartbeat interval
AUTOMATION_NAME = "docpipe: crash flow runs that stopped sending heartbeats"
LOST_MESSAGE = "no heartbeat for {within:.0f} s: its process or host was lost"


def lost_by_lease(out: Path, flow_run_id: str) -> str | None:
    """Why this flow run is lost, when every lease on `out` naming it has expired; None while one
    is live, or when none names it (not started yet, or ended and removed its own)."""
    leases = leases_of_flow_run(out, flow_run_id)
    if not leases or any(lease.live for lease in leases):
        return None
    last = max(leases, key=lambda lease: lease.expires_at)
    ago = time.time() - last.expires_at
    return (f"{last.describe()} stopped renewing its lease on {out} (expired {ago:.0f} s ago): "
            "its process or host was lost")


def mark_crashed(client, flow_run_id: str, message: str) -> None:
    """Set the flow run's state to Crashed (forced: nothing else will end it)."""
    from prefect.states import Crashed

    client.set_flow_run_state(flow_run_id, Crashed(message=message), force=True)


def heartbeat_env(heartbeat_seconds: int = HEARTBEAT_SECONDS) -> dict[str, str]:
    """What a deployment's flow runs need in their environment to send heartbeats this often."""
    return {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(int(heartbeat_seconds))}


def lost_run_automation(within_seconds: float):
    """Prefect's documented zombie-flow automation: after a flow run's heartbeat, expect any event
    of that flow run (a heartbeat or a state change) within `within_seconds`, or mark it Crashed."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return Automation(
        name=AUTOMATION_NAME,
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.*"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=dt.timedelta(seconds=within_seconds),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED, message=LOST_MESSAGE.format(within=within_seconds))],
    )


def ensure_lost_run_automation(heartbeat_seconds: int = HEARTBEAT_SECONDS) -> None:
    """Create the automation on the current Prefect server unless one of its name exists (three
    missed heartbeats before a run is called lost, as Prefect's documentation advises)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        if client.read_automations_by_name(name=AUTOMATION_NAME):
            return
    lost_run_automation(3 * heartbeat_seconds).create()
