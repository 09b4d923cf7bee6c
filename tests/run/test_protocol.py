"""The run protocol in plain Python, without Prefect: a run writes every table, a rerun finds it all
done, and a document another live run holds is waited for, then read once that run lets it go."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd

from docpipe.output.claims import release, try_claim
from docpipe.output.lease import Lease
from docpipe.run import pipeline
from docpipe.run.config import RunConfig
from docpipe.run.protocol import execute, plain_stages
from docpipe.run.shards import in_shard
from docpipe.schema.load import resolve_schema
from tests.conftest import ROOT
from tests.fakes import ConstantEngine


class Notes:
    def __init__(self):
        self.notes = []

    def note(self, message):
        self.notes.append(message)

    def begin(self, documents, task="extracting"):
        pass

    def advance(self, documents, pages):
        pass


def _config(inputs, out, **more) -> RunConfig:
    return RunConfig(input=inputs, out=out, budget=70, render_workers=0, lease_seconds=3, **more)


def _run(config: RunConfig, engine=None, reporter=None) -> pipeline.RunResult:
    with plain_stages() as stages:
        return execute(config, engine or ConstantEngine(), reporter or Notes(), resolve_schema("invoice"), stages)


def test_a_plain_run_needs_no_prefect(samples_copy, tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from docpipe.run.config import RunConfig
        from docpipe.run.progress import NoProgress
        from docpipe.run.protocol import execute, plain_stages
        from docpipe.schema.load import resolve_schema
        from tests.fakes import ConstantEngine
        config = RunConfig(input=Path({str(samples_copy)!r}), out=Path({str(tmp_path / 'out')!r}), budget=70,
                           render_workers=0)
        with plain_stages() as stages:
            result = execute(config, ConstantEngine(), NoProgress(), resolve_schema("invoice"), stages)
        print(result.stats.processed, "prefect" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["8", "False"]  # every sample read, and Prefect never imported


def test_a_plain_run_writes_every_document_and_a_rerun_finds_them_done(samples_copy, tmp_path):
    config = _config(samples_copy, tmp_path / "out")
    first = _run(config)
    second = _run(config)
    documents = pd.read_parquet(tmp_path / "out" / "documents")
    assert len(documents) == first.stats.processed == 8 and documents["doc_id"].is_unique
    assert second.stats.processed == 0 and second.stats.already_done == 8
    assert pd.read_parquet(tmp_path / "out" / "runs")["status"].tolist() == ["completed", "completed"]


def test_a_document_another_live_run_holds_is_waited_for_then_read_once(samples_copy, tmp_path):
    from docpipe.ingest.discover import discover

    out = tmp_path / "out"
    config = _config(samples_copy, out)
    schema = resolve_schema("invoice")
    held = sorted(in_shard(discover(samples_copy), 0, 1), key=lambda d: d.path.name)[0]
    [item] = pipeline.plan(pipeline.start_run(config, schema, ConstantEngine.name), [held]).pending
    key = item.key
    reporter, result = Notes(), {}
    with Lease(out, "other-run", seconds=30):
        assert try_claim(out, key, "other-run") is None  # the other run reads that document
        runner = threading.Thread(target=lambda: result.update(run=_run(config, reporter=reporter)))
        runner.start()
        deadline = time.monotonic() + 60
        while not any("being read by run other-run" in n for n in reporter.notes):
            assert runner.is_alive() and time.monotonic() < deadline, reporter.notes
            time.sleep(0.05)
        time.sleep(0.5)
        assert runner.is_alive()  # still waiting for it
        release(out, [key], "other-run")  # it ends without committing: the document is free again
    runner.join(timeout=120)
    assert not runner.is_alive()
    documents = pd.read_parquet(out / "documents")
    assert len(documents) == 8 and documents["doc_id"].is_unique
    assert held.doc_id in set(documents["doc_id"]) and result["run"].stats.processed == 8
