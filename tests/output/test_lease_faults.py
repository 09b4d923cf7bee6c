"""A lease whose renewal fails: transient errors are retried and the lease stays live; a lease that
lapsed stops its run before the next commit, so another run's recovery never moves the files of a
run that then goes on to commit them."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from docpipe.flows.ingest import ingest
from docpipe.output.lease import Lease, LeaseLost, is_live
from docpipe.run.config import RunConfig
from tests.fakes import ConstantEngine

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server


def _renewals_fail(monkeypatch, failures: float) -> list[int]:
    """Lease.renew raises OSError for its next `failures` calls after the first (inf: for good)."""
    renew, calls = Lease.renew, []

    def flaky_renew(self):
        calls.append(1)
        if 1 < len(calls) <= failures + 1:
            raise OSError(28, "No space left on device")
        renew(self)

    monkeypatch.setattr(Lease, "renew", flaky_renew)
    return calls


@pytest.mark.slow
def test_renewal_outlives_transient_errors_and_the_lease_stays_live(tmp_path, monkeypatch):
    calls = _renewals_fail(monkeypatch, failures=2)
    with Lease(tmp_path, "r1", seconds=1.2) as lease:
        live = []
        for _ in range(15):  # 3 s: two failed renewals, then renewed again
            time.sleep(0.2)
            live.append(is_live(tmp_path, "r1"))
        assert all(live), live
        lease.check()  # renewed again: the run may commit
        assert len(calls) > 3


def test_a_lapsed_lease_refuses_the_next_commit(tmp_path, monkeypatch):
    _renewals_fail(monkeypatch, failures=float("inf"))
    with Lease(tmp_path, "r1", seconds=0.6) as lease:
        lease.check()  # just written
        time.sleep(0.7)
        assert not is_live(tmp_path, "r1")
        with pytest.raises(LeaseLost, match="No space left on device"):
            lease.check()


class _SlowEngine(ConstantEngine):
    def generate(self, requests):
        time.sleep(1.0)  # longer than the lease: it lapses while the chunk is answered
        return super().generate(requests)


@pytest.mark.slow
def test_a_run_that_lost_its_lease_commits_nothing_and_a_rerun_reads_every_document(
        samples_copy, tmp_path, monkeypatch):
    out = tmp_path / "out"
    config = RunConfig(input=samples_copy, out=out, budget=70, render_workers=0, lease_seconds=0.6)
    _renewals_fail(monkeypatch, failures=float("inf"))
    with pytest.raises(LeaseLost):
        ingest(config, engine=_SlowEngine())
    assert not (out / "documents").exists() or pd.read_parquet(out / "documents").empty  # nothing committed

    monkeypatch.undo()  # renewals work again
    ingest(config.model_copy(update={"lease_seconds": 30}), engine=ConstantEngine())
    documents = pd.read_parquet(out / "documents")
    assert len(documents) == len(list(samples_copy.iterdir())) and documents["source_path"].is_unique

