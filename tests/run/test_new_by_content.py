"""What a scheduled run takes: only what is new by content. A renamed or re-copied file is not
read twice, a changed file is read again, a file still being written waits for the next run; and
shards of one folder split it without overlap."""

from __future__ import annotations

import os
import shutil
import time

import pandas as pd
import pytest

from docpipe.flows.ingest import ingest
from docpipe.run.config import RunConfig
from tests.fakes import ConstantEngine

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server


def _run(folder, out, **settings):
    engine = ConstantEngine()
    result = ingest(RunConfig(input=folder, out=out, budget=70, render_workers=0, **settings), engine=engine)
    return result.stats, engine


@pytest.mark.slow
def test_renamed_and_copied_files_are_not_read_again_a_changed_one_is(samples_copy, tmp_path):
    out = tmp_path / "out"
    first, _ = _run(samples_copy, out)
    assert first.processed == 8
    (samples_copy / "receipt_cafe.pdf").rename(samples_copy / "renamed.pdf")
    shutil.copy(samples_copy / "invoice_acme.pdf", samples_copy / "copy_of_acme.pdf")
    second, engine = _run(samples_copy, out)
    assert (second.processed, second.already_done, len(engine.requests)) == (0, 9, 0)
    with (samples_copy / "invoice_globex_2p.pdf").open("ab") as handle:
        handle.write(b"\n% appended: new bytes, new content hash\n")
    third, engine = _run(samples_copy, out)
    assert (third.processed, third.already_done) == (1, 8) and engine.requests


def test_a_file_still_being_written_waits_for_the_next_run(samples_copy, tmp_path):
    out = tmp_path / "out"
    old = time.time() - 600
    for path in samples_copy.iterdir():
        os.utime(path, (old, old))
    (samples_copy / "arriving.pdf").write_bytes((samples_copy / "receipt_cafe.pdf").read_bytes() + b"\n% more")
    first, _ = _run(samples_copy, out, settle_seconds=60)
    assert (first.found, first.processed) == (8, 8)
    documents = pd.read_parquet(out / "documents")
    assert not documents["source_path"].str.endswith("arriving.pdf").any()
    os.utime(samples_copy / "arriving.pdf", (old, old))  # the copy has finished
    second, _ = _run(samples_copy, out, settle_seconds=60)
    assert (second.processed, second.already_done) == (1, 8)


@pytest.mark.slow
def test_shards_split_a_folder_without_overlap(samples_copy, tmp_path):
    out = tmp_path / "out"
    counts = [_run(samples_copy, out, shard_index=i, shard_count=3)[0].processed for i in range(3)]
    assert sum(counts) == 8 and max(counts) < 8
    documents = pd.read_parquet(out / "documents")
    assert documents["source_path"].is_unique and len(documents) == 8
