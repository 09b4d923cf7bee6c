"""The task a run's settings ask for: its schemas named (and checked) once, here."""

from __future__ import annotations

from docpipe.core.vocab import Task
from docpipe.output.schema_store import check, resolve
from docpipe.run.adapters import check_fits, read_manifest
from docpipe.run.config import RunConfig
from docpipe.run.tasks.base import ReadingTask
from docpipe.run.tasks.extraction import Extraction
from docpipe.run.tasks.sorting import Sorting
from docpipe.run.tasks.transcription import Transcription
from docpipe.schema.load import available_schemas
from docpipe.schema.spec import Schema


def run_schemas(config: RunConfig) -> list[Schema]:
    """The schemas a run extracts with (`all`: every schema of --schema-dir, or every shipped one).
    Unknown names raise ValueError naming the known ones; two files of one name are refused."""
    names = list(config.schemas)
    if "all" in names:
        names = [n for n in names if n != "all"] + available_schemas(config.schema_dir)
    schemas = [resolve(name, config.out, reading=False, schema_dir=config.schema_dir) for name in dict.fromkeys(names)]
    by_name: dict[str, Schema] = {}
    for schema in schemas:
        if schema.name in by_name and by_name[schema.name] != schema:
            raise ValueError(f"two schemas are named {schema.name!r}: a class is a schema's name, so names must differ")
        by_name[schema.name] = schema
    return list(by_name.values())


def task_for(config: RunConfig, checked: bool = False, model: str | None = None) -> ReadingTask:
    """Transcription; extraction with one schema; or sorting (several schemas, or --split).
    `checked`: each schema compared with the version OUT stored (SchemaEdited when it differs);
    `model`: the model the run reads with, which an --adapter must have been trained on."""
    if config.adapter is not None and (config.task != Task.EXTRACT or config.sorting):
        raise ValueError("--adapter is trained for one schema's extraction: give one --schema, without --split "
                         "or --task transcribe")
    if config.task == Task.TRANSCRIBE:
        return Transcription(config)
    schemas = run_schemas(config)
    if checked:
        for schema in schemas:
            check(config.out, schema)
    if config.sorting:
        return Sorting(schemas, config)
    task = Extraction(schemas[0], config)
    if config.adapter is not None:  # a folder that is no adapter is refused at once; its fit once the model is known
        read_manifest(config.adapter)
        if model is not None:
            check_adapter(task, model)
    return task


def check_adapter(task: ReadingTask, model: str) -> None:
    """ValueError, one message, when the run's --adapter was trained for another model, schema or
    prompt version than `task` reads with `model` (nothing to check without an adapter)."""
    if isinstance(task, Extraction) and task.config.adapter is not None:
        check_fits(read_manifest(task.config.adapter), task.config.adapter, model, task.schema.name,
                   task.schema.version, task.prompt_version)


def as_task(config: RunConfig, task: ReadingTask | Schema | None) -> ReadingTask:
    """What Python callers may pass for a task: a schema (extraction with it), None (the task
    `config` asks for), or a task."""
    if isinstance(task, Schema):
        return Extraction(task, config)
    return task_for(config) if task is None else task
