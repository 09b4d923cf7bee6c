"""Before and after: the base model and the adapter read the same reviewed documents (those held
out of training, or any others), each into its own output folder, and eval's compare scores
both against the reviewers' values. Runs in this process with plain stages (no Prefect)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from docpipe.eval.compare import Comparison, compare
from docpipe.eval.truth import Truth, load_truth
from docpipe.output.reading import read_table
from docpipe.run.config import RunConfig
from docpipe.schema.spec import Schema


def documents_folder(out: Path, names: Sequence[str], folder: Path) -> Path:
    """A folder holding a copy of each named document of OUT, under its name (its path under the
    input folder), so that labels keyed by name find it."""
    documents = read_table(out, "documents").dropna(subset=["name"]).drop_duplicates("name", keep="last")
    paths = dict(zip(documents["name"], documents["source_path"]))
    for name in names:
        if name not in paths or not Path(paths[name]).is_file():
            continue
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths[name], target)
    return folder


def read_with(folder: Path, out: Path, schema: str, model: str, adapter: Path | None, settings: dict) -> Path:
    """`schema`'s records (a name, or a schema file) of the documents in `folder`, read with `model`
    (and `adapter`), into `out`."""
    from docpipe.engines.factory import build_engine
    from docpipe.run.progress import NoProgress
    from docpipe.run.protocol import execute, plain_stages
    from docpipe.run.tasks.choose import task_for

    config = RunConfig(input=folder, out=out, schemas=(schema,), model=model, adapter=adapter, render_workers=0,
                       **settings)
    engine = build_engine(config.model, config.batch_size, adapter=adapter)
    try:
        with plain_stages() as stages:
            execute(config, engine, NoProgress(), task_for(config, model=engine.name), stages)
    finally:
        engine.close()
    return out


def before_and_after(out: Path, schema: Schema, schema_ref: str, names: Sequence[str], model: str, adapter: Path,
                     work: Path, settings: dict) -> Comparison:
    """The base model and the adapter on the reviewed documents `names` of OUT, side by side
    (`schema_ref`: the schema as the user named it, a name or a file)."""
    folder = documents_folder(out, names, work / "documents")
    outs = [read_with(folder, work / "base", schema_ref, model, None, settings),
            read_with(folder, work / "adapter", schema_ref, model, adapter, settings)]
    truths: list[Truth] = [t for t in load_truth(out) if t.schema == schema.name and t.key in set(names)]
    return compare(outs, truths, schema.name)
