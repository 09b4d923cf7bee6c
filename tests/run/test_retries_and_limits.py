"""Only an engine that cannot be reached is retried; a chunk over its time limit stops the run;
the per-GPU model slot is held by a run that loads its model onto this host's GPU, and only by it."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from docpipe.flows.ingest import ingest
from docpipe.run.config import RunConfig
from tests.fakes import ConstantEngine

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server


class FlakyEngine(ConstantEngine):
    """Unreachable for the first `failures` calls, then answers."""

    def __init__(self, failures: int, error: type[Exception] = ConnectionRefusedError):
        super().__init__()
        self.failures, self.error, self.calls = failures, error, 0

    def generate(self, requests):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error("connection refused by http://gpu-host:8000/v1")
        return super().generate(requests)


class SlowEngine(ConstantEngine):
    def generate(self, requests):
        time.sleep(5)
        return super().generate(requests)


def _config(samples_copy, out, **settings):
    for path in list(samples_copy.iterdir()):
        if path.name != "receipt_cafe.pdf":
            path.unlink()
    return RunConfig(input=samples_copy, out=out, budget=70, render_workers=0, **settings)


@pytest.mark.slow
def test_an_unreachable_engine_is_retried_until_it_answers(samples_copy, tmp_path):
    engine = FlakyEngine(failures=1)
    result = ingest(_config(samples_copy, tmp_path / "out", engine_retries=2), engine=engine)
    assert engine.calls == 2 and result.stats.processed == 1
    assert pd.read_parquet(tmp_path / "out" / "runs")["status"].tolist() == ["completed"]


def test_any_other_engine_failure_is_not_retried(samples_copy, tmp_path):
    engine = FlakyEngine(failures=1, error=ValueError)
    with pytest.raises(ValueError):
        ingest(_config(samples_copy, tmp_path / "out", engine_retries=2), engine=engine)
    assert engine.calls == 1
    assert pd.read_parquet(tmp_path / "out" / "runs")["status"].tolist() == ["failed"]


@pytest.mark.slow
def test_a_chunk_over_its_time_limit_stops_the_run(samples_copy, tmp_path):
    with pytest.raises(TimeoutError):
        ingest(_config(samples_copy, tmp_path / "out", chunk_timeout=1), engine=SlowEngine())
    assert pd.read_parquet(tmp_path / "out" / "runs")["status"].tolist() == ["failed"]
    assert not (tmp_path / "out" / "documents").exists()  # nothing committed for the timed-out chunk


class SlotWatchingEngine(ConstantEngine):
    """Notes, while it answers, how many runs hold this host's model slot (None: no slot exists)."""

    def __init__(self, gpu: bool):
        super().__init__()
        self.gpu, self.seen = gpu, []

    def generate(self, requests):
        from prefect.client.orchestration import get_client
        from prefect.exceptions import ObjectNotFound

        from docpipe.flows.model_slot import slot_name

        with get_client(sync_client=True) as client:
            try:
                self.seen.append(client.read_global_concurrency_limit_by_name(slot_name()).active_slots)
            except ObjectNotFound:
                self.seen.append(None)
        return super().generate(requests)


def test_a_run_that_loads_its_model_onto_this_hosts_gpu_holds_the_slot_of_one(samples_copy, tmp_path):
    from prefect.client.orchestration import get_client

    from docpipe.flows.model_slot import slot_name

    engine = SlotWatchingEngine(gpu=True)
    ingest(_config(samples_copy, tmp_path / "out"), engine=engine)
    assert engine.seen == [1]  # held while it answered
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(slot_name())
    assert limit.limit == 1 and limit.active_slots == 0  # given back when the run ended


def test_a_run_whose_model_is_elsewhere_takes_no_slot(samples_copy, tmp_path):
    engine = SlotWatchingEngine(gpu=False)  # a served engine: the model is on the servers' GPUs
    ingest(_config(samples_copy, tmp_path / "out"), engine=engine)
    assert engine.seen in ([0], [None])  # no slot held (or none created yet): runs of this host do not wait
