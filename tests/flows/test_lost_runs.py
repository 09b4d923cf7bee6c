"""A lost flow run (its host or process died) is marked Crashed, by docpipe's lease or by Prefect's
heartbeat automation, and `docpipe submit` stops waiting for it; Ctrl-C stops `submit` at once.
(The real thing, a worker and its flow run killed mid-run: tests/flows/test_scale_out.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.states import Completed, Running

from docpipe.flows.deployments import Submitted, wait
from docpipe.flows.lost_runs import AUTOMATION_NAME, lost_run_automation
from docpipe.output.lease import LEASES
from tests.conftest import SAMPLES

pytestmark = pytest.mark.usefixtures("prefect_api")


@flow(name="docpipe-test-lost")
def _never_run():
    pass


def _running_flow_run(client) -> str:
    return str(client.create_flow_run(_never_run, state=Running()).id)


def _lease(out, run_id: str, flow_run_id: str, expires_in: float) -> None:
    (out / LEASES).mkdir(parents=True, exist_ok=True)
    info = {"run_id": run_id, "pid": 4242, "host": "gpu-host-7", "expires_at": time.time() + expires_in,
            "flow_run_id": flow_run_id}
    (out / LEASES / f"{run_id}.json").write_text(json.dumps(info))


def test_a_running_flow_run_whose_lease_expired_is_marked_crashed_and_waiting_ends(tmp_path):
    with get_client(sync_client=True) as client:
        lost_id, alive_id = _running_flow_run(client), _running_flow_run(client)
        _lease(tmp_path, "run-lost", lost_id, expires_in=-5)  # its host stopped renewing it
        _lease(tmp_path, "run-alive", alive_id, expires_in=60)
        runs = [Submitted(0, lost_id, "shard-0-of-2", "Running"), Submitted(1, alive_id, "shard-1-of-2", "Running")]
        lost, alive = wait(runs, tmp_path, poll=0.2, timeout=3)
        assert lost.lost and "run run-lost (pid 4242 on gpu-host-7) stopped renewing its lease" in lost.message
        assert client.read_flow_run(lost_id).state.name == "Crashed"
        assert alive.state == "Running" and client.read_flow_run(alive_id).state.name == "Running"
        client.set_flow_run_state(alive_id, Completed(), force=True)


@pytest.mark.slow
def test_prefects_automation_crashes_a_flow_run_whose_heartbeats_stop():
    with get_client(sync_client=True) as client:
        automation = lost_run_automation(within_seconds=10).create()  # as deploy makes it, with Prefect's shortest window
        try:
            flow_run_id = _running_flow_run(client)
            from prefect.events import emit_event
            from prefect.events.worker import EventsWorker

            emit_event("prefect.flow-run.heartbeat", resource={"prefect.resource.id": f"prefect.flow-run.{flow_run_id}"})
            EventsWorker.drain_all(timeout=10)
            deadline = time.monotonic() + 60
            while client.read_flow_run(flow_run_id).state.name != "Crashed":
                assert time.monotonic() < deadline, "the automation never marked the silent flow run Crashed"
                time.sleep(0.5)
            assert "no heartbeat" in client.read_flow_run(flow_run_id).state.message
        finally:
            client.delete_automation(automation.id)
        # this one is gone (a deploy of another test may have made its own, of the same name)
        assert automation.id not in {found.id for found in client.read_automations_by_name(AUTOMATION_NAME)}


@pytest.mark.slow
@pytest.mark.processes
def test_ctrl_c_stops_submit_at_once_and_the_runs_go_on(prefect_api, tmp_path):
    env = os.environ | {"PREFECT_API_URL": prefect_api}
    docpipe = [sys.executable, "-m", "docpipe"]
    deployed = subprocess.run([*docpipe, "deploy", str(SAMPLES), "--pool", "nobody-works-here", "--name", "idle",
                               "--model", "tiny-random", "--out", str(tmp_path / "out")],
                              env=env, capture_output=True, text=True, timeout=120, check=False)
    assert deployed.returncode == 0, deployed.stderr[-2000:]
    # as from a terminal: Ctrl-C not ignored, even when the tests themselves run in the background
    # (a shell's background job starts with SIGINT ignored, and Python then keeps it ignored)
    submit = subprocess.Popen([*docpipe, "submit", str(SAMPLES), "--deployment", "docpipe-ingest/idle",
                               "--model", "tiny-random", "--out", str(tmp_path / "out")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in submit.stdout:  # waiting now: no worker takes runs from that pool
        if "submitted 1 flow runs" in line:
            break
    time.sleep(1)
    submit.send_signal(signal.SIGINT)
    started = time.monotonic()
    try:
        code = submit.wait(timeout=10)
    finally:
        submit.kill()
    stopped_after = time.monotonic() - started
    assert code == 130, submit.stderr.read()[-2000:]
    assert stopped_after < 5, f"submit took {stopped_after:.1f} s to stop"
    assert "stopped waiting" in " ".join(submit.stderr.read().split())
    with get_client(sync_client=True) as client:  # the flow run is still there, waiting for a worker
        [deployment] = [d for d in client.read_deployments() if d.name == "idle"]
        runs = client.read_flow_runs()
        mine = [r for r in runs if r.deployment_id == deployment.id]
        assert [r.state.name for r in mine] == ["Scheduled"]
        client.delete_deployment(deployment.id)
