"""A run's own temporary Prefect server is stopped only after Prefect's event and log clients have
sent what they hold: clients left bound to a stopped server retry it from background threads, and
the interpreter's exit waits for them ("Still processing items", for minutes after the work)."""

from __future__ import annotations

import pytest
from prefect import flow, get_run_logger, task
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker
from prefect.settings import PREFECT_API_URL, temporary_settings

from docpipe.flows.local_server import owned_server
from tests.conftest import own_server_env


@task
def _step(n: int) -> int:
    get_run_logger().warning("step %d", n)  # a log record for the API log worker
    return n


@flow
def _busy_flow() -> int:
    return sum(_step(n) for n in range(20))  # each task run sends events


def _services(kind: type) -> list:
    return [w for w in list(kind._instances.values()) if isinstance(w, kind)]  # one registry for every kind


@pytest.mark.slow
@pytest.mark.processes
def test_the_clients_are_drained_and_gone_when_the_temporary_server_stops(monkeypatch, prefect_home):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", prefect_home("own"))  # a database of its own, migrated already
    with temporary_settings(updates={PREFECT_API_URL: None}):  # as a user's run without a Prefect server
        with owned_server() as url:
            assert url and url == PREFECT_API_URL.value()
            assert _busy_flow() == sum(range(20))
            assert _services(EventsWorker)  # the run's events went through an event client
        assert not _services(EventsWorker), "an event client outlived the temporary server it sends to"
        assert not _services(APILogWorker), "a log client outlived the temporary server"


@pytest.mark.slow
@pytest.mark.processes
def test_a_server_that_cannot_start_says_why_and_writes_nothing_to_the_terminal(capfd, tmp_path):
    from docpipe.core.child_server import ServerNotReady
    from docpipe.flows.local_server import start_local_server

    env = own_server_env(PREFECT_HOME=str(tmp_path / "home"),
                         PREFECT_SERVER_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{tmp_path}/no/such/folder/x.db")
    with pytest.raises(ServerNotReady) as caught:
        start_local_server(startup_timeout=120, env=env)
    message = str(caught.value)
    assert "exited with code" in message and "unable to open database file" in message, message
    printed = capfd.readouterr()
    assert printed.out == "" and printed.err == "", printed  # the server's output went to the message only
