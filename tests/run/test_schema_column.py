"""The `schema` column means one thing in every table that has it: what the document was read
into, the schema's name or `transcripts`. The versioned key of a run is its own column, task_key."""

from __future__ import annotations

import pandas as pd

from docpipe.core.vocab import Task
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.fakes import ConstantEngine


def test_extraction_and_transcription_into_one_folder_name_their_tables_alike(samples_copy, tmp_path):
    out = tmp_path / "out"
    with plain_stages() as stages:
        for task, schema in ((Task.EXTRACT, resolve_schema("invoice")), (Task.TRANSCRIBE, None)):
            config = RunConfig(input=samples_copy, out=out, budget=70, render_workers=0, task=task)
            execute(config, ConstantEngine("Some text."), NoProgress(), schema, stages)
    assert set(pd.read_parquet(out / "documents")["schema"]) == {"invoice", "transcripts"}
    assert set(pd.read_parquet(out / "generations")["schema"]) == {"invoice"}
    runs = pd.read_parquet(out / "runs").sort_values("schema")  # run ids of one second sort at random
    assert runs["schema"].tolist() == ["invoice", "transcripts"]
    assert [key.split("@")[0] for key in runs["task_key"]] == ["invoice", "transcripts"]
    assert all("@" in key for key in runs["task_key"])
