"""One document from Python: its record, read through the same code as a run.

    import docpipe

    result = docpipe.extract("inbox/acme.pdf", schema="invoice", model="google/gemma-4-E4B-it")
    result.status                   # ok | partial | failed | skipped
    result.values["total"]          # Decimal('1545.80'): the typed value
    result.confidence["total"], result.pages["total"], result.boxes["total"]

    with docpipe.Extractor(schema="invoice", base_url="http://127.0.0.1:8000/v1") as extractor:
        for upload in uploads:      # the engine is built once, for every document
            result = extractor.extract(upload.data, filename=upload.name, out="out")

Each call is a run of run/protocol.py over the one file (`protocol.execute` with plain stages: no
Prefect server): lease, discovery, plan, render, answer, write. The tables go into `out` (kept: a
second call with the same bytes and settings reads nothing again, it is answered from there) or
into a temporary folder removed afterwards. The result is read back from those tables: the
documents row of the call's piece of work, its record, its errors.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from docpipe.engines.base import Engine
    from docpipe.run.config import RunConfig
    from docpipe.schema.spec import FieldSpec, Schema

# RunConfig fields a call sets itself, or that would leave its one document unread
NOT_SETTINGS = {
    "input": "the document is extract's first argument",
    "out": "give out= to extract()",
    "schema_name": "give schema=",
    "schemas": "give schema= (one document, one schema: sorting a folder is `docpipe run --schema A --schema B`)",
    "split": "extract() reads one document with one schema (`docpipe run --split` splits packets)",
    "task": "extract reads a schema's record (`docpipe run --task transcribe` transcribes)",
    "shard_index": "one document has no shards",
    "shard_count": "one document has no shards",
    "settle_seconds": "the document given is read now",
}
SUFFIXES = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "tiff": ".tif"}  # bytes without a filename


@dataclass(frozen=True)
class Extraction:
    """One document's outcome, as the tables hold it. `values`, `confidence`, `pages` and `boxes`
    are keyed by the schema's fields (empty without a record); a list field's value is a list of
    items ({sub-field: value}), its boxes the same shape, its confidence the least certain item's."""

    status: str  # the documents table's: ok | partial | failed | skipped
    doc_id: str  # sha256 of the file's bytes
    schema: str
    values: dict[str, Any]  # typed: money a Decimal, a date a datetime.date
    confidence: dict[str, float | None]
    pages: dict[str, int | None]  # the page each value came from
    boxes: dict[str, Any]  # where each value is printed (page, x0, y0, x1, y1 in 0-1, source, score)
    errors: list[dict[str, Any]]  # the errors table's rows for it: stage, category, message, page_no
    record: dict[str, Any] | None  # the records table's row, every column; None: no record (failed)
    document: dict[str, Any]  # the documents table's row
    reused: bool  # answered from an earlier run's tables in `out`: nothing was read now
    out: Path | None  # where the tables are kept; None: they were in a temporary folder, removed

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Extractor:
    """Reads documents one at a time with one engine, built here once (`docpipe.extract` builds one
    per call). `schema`: a schema name or YAML file; `model`: as `docpipe run --model` (default:
    chosen by hardware); `base_url`: an OpenAI-compatible server (`docpipe serve-model`) instead of
    a model in this process; `engine`: an engine object (engines/base.py), or the name of the
    `engine` setting; `settings`: any other setting of a run (run/config.py RunConfig: budget,
    max_pages, passwords, max_new_tokens, render_workers, ...). Calls from several threads are
    read one after another. Close it (or use `with`) to give the engine back."""

    def __init__(self, schema: str | os.PathLike = "invoice", model: str | None = None, base_url: str | None = None,
                 engine: Engine | str | None = None, **settings: Any):
        from docpipe.run.config import RunConfig

        unknown = sorted(set(settings) - set(RunConfig.model_fields))
        if unknown:
            raise TypeError(f"unknown settings {unknown}: settings are the fields of docpipe.run.config.RunConfig "
                            "(budget, max_pages, passwords, max_new_tokens, ...)")
        for name in settings:
            if name in NOT_SETTINGS:
                raise TypeError(f"{name} is not a setting here: {NOT_SETTINGS[name]}")
        if isinstance(engine, str):  # the `engine` setting: transformers | openai
            settings["engine"], engine = engine, None
        if base_url is not None:
            if settings.get("base_urls"):
                raise ValueError("give base_url or base_urls, not both")
            settings |= {"engine": "openai", "base_urls": (base_url,)}
        self.schema = str(schema)
        self._settings = {"model": model, **settings}
        config = self._config(Path("."), Path(tempfile.gettempdir()), self.schema)  # the settings, checked now
        self._owned = engine is None
        if engine is None:
            from docpipe.engines.factory import build_engine

            engine = build_engine(config.model, config.batch_size, **config.engine_settings())
        self.engine: Engine = engine
        self._renderer: Any = None  # ingest/render_pool.py's, made on the first call
        self._lock = threading.Lock()
        self._closed = False

    def extract(self, document: str | os.PathLike | bytes, filename: str | None = None,
                out: str | os.PathLike | None = None, schema: str | os.PathLike | None = None) -> Extraction:
        """The record of `document` (a file's path, or its bytes named `filename`: default
        "document" with the suffix of what the bytes are), read into `out` (kept) or into a
        temporary folder; `schema` overrides the Extractor's for this call."""
        if self._closed:
            raise RuntimeError("this Extractor is closed")
        from docpipe.output.schema_store import resolve

        with contextlib.ExitStack() as stack:
            path = _input_file(document, filename, stack)
            folder = Path(out) if out is not None else Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="docpipe-out-", ignore_cleanup_errors=True)))
            config = self._config(path, folder, str(schema) if schema is not None else self.schema)
            config = config.with_password_file()  # as the flow does, where the run runs
            spec = resolve(config.schema_name, config.out, reading=False, schema_dir=config.schema_dir)
            with self._lock:  # one document at a time: the engine and the renderer are shared
                if self._closed:
                    raise RuntimeError("this Extractor is closed")
                run_id, source = self._run(config, spec)
            return _read_back(config.out, spec, source, run_id, self.engine.name, kept=out is not None)

    def close(self) -> None:
        """Stop the render processes and give the engine back (one passed in is the caller's:
        left open)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._renderer is not None:
                self._renderer.close()
            if self._owned:
                self.engine.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _config(self, input: Path, out: Path, schema: str) -> RunConfig:
        from docpipe.run.config import RunConfig

        return RunConfig(input=input, out=out, schema_name=schema, **self._settings)

    def _run(self, config: RunConfig, spec: Schema) -> tuple[str, Any]:
        """One run of the protocol over the document, with plain stages, but for two things: what
        discovery found is kept (the document's content hash), and pages are rendered by this
        Extractor's renderer, kept from call to call (the run's own, never used, starts no process)."""
        from docpipe.ingest.render_pool import make_renderer
        from docpipe.run import protocol
        from docpipe.run.progress import NoProgress
        from docpipe.run.tasks.extraction import Extraction

        if self._renderer is None:  # its processes (--render-workers) start once, not per document
            self._renderer = make_renderer(config.render_workers, config.render_timeout, config.render_memory_mb)
        kept, found = self._renderer, []

        with protocol.plain_stages() as plain:
            def discover(*args: Any, **kwargs: Any) -> list:
                found[:] = plain.discover(*args, **kwargs)
                return found

            stages = dataclasses.replace(
                plain, discover=discover,
                render_ahead=lambda run, items, budget, _, *ahead: plain.render_ahead(run, items, budget, kept, *ahead),
                render=lambda run, items, budget, _: plain.render(run, items, budget, kept),
            )
            result = protocol.execute(config, self.engine, NoProgress(), Extraction(spec, config), stages)
        if not found:
            raise RuntimeError(f"the run found no document at {config.input}")
        return result.run_id, found[0]


def extract(document: str | os.PathLike | bytes, schema: str | os.PathLike = "invoice", model: str | None = None,
            base_url: str | None = None, filename: str | None = None, out: str | os.PathLike | None = None,
            engine: Engine | str | None = None, **settings: Any) -> Extraction:
    """The record of one document (a path, or bytes named `filename`), read through the same code
    as `docpipe run`: see Extractor for the arguments. Builds the engine for this one call: to
    read many documents, keep an Extractor."""
    with Extractor(schema, model, base_url, engine=engine, **settings) as extractor:
        return extractor.extract(document, filename=filename, out=out)


def _input_file(document: Any, filename: str | None, stack: contextlib.ExitStack) -> Path:
    """The file to read: the path given, or the bytes written into a temporary folder."""
    if isinstance(document, bytes | bytearray | memoryview):
        data = bytes(document)
        name = filename or _default_name(data)
        if Path(name).name != name or name in (".", "..") or "\\" in name:
            raise ValueError(f"filename {name!r}: give a file name, without a folder")
        folder = Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="docpipe-in-", ignore_cleanup_errors=True)))
        (folder / name).write_bytes(data)
        return folder / name
    if filename is not None:
        raise TypeError("filename names bytes; a path is read under its own name")
    if not isinstance(document, str | os.PathLike):
        raise TypeError(f"extract reads a file's path or its bytes, not {type(document).__name__}")
    path = Path(document).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder: extract reads one document (`docpipe run {path}` reads a folder)")
    return path


def _default_name(data: bytes) -> str:
    from docpipe.ingest.discover import sniff

    return "document" + SUFFIXES.get(str(sniff(data[:1024])), "")


def _read_back(out: Path, spec: Schema, source: Any, run_id: str, model: str, kept: bool) -> Extraction:
    """The call's outcome, from the tables: the document's row (this run's; when the run found
    it read already, the earlier reading: with the same model where there is one, the latest; a
    copy skipped as a duplicate of another file only when nothing else is there), the record of
    that row's piece of work, and that row's run's errors for it."""
    from docpipe.output import tables

    rows = [r for r in _rows(tables.read_arrow(out, "documents"), "doc_id", source.doc_id) if r["schema"] == spec.name]
    if not rows:
        raise RuntimeError(f"the run wrote no documents row for {source.path} into {out}")
    runs = tables.read_arrow(out, "runs", ["run_id", "model"])
    models = dict(zip(runs["run_id"].to_pylist(), runs["model"].to_pylist(), strict=True)) if runs is not None else {}
    document = max(rows, key=lambda r: (r["error_category"] != "duplicate", r["run_id"] == run_id,
                                        models.get(r["run_id"]) == model, r["finished_at"]))
    records = [r for r in _rows(tables.read_arrow(out, spec.name), "doc_id", source.doc_id)
               if r["work_key"] == document["work_key"]]
    record = max(records, key=lambda r: r["extracted_at"]) if records else None
    errors = [{k: row[k] for k in ("stage", "category", "message", "page_no")}
              for row in _rows(tables.read_arrow(out, "errors"), "doc_id", source.doc_id)
              if row["run_id"] == document["run_id"]]
    values, confidence, pages, boxes = _fields(spec, record or {})
    return Extraction(
        status=document["status"], doc_id=source.doc_id, schema=spec.name, values=values, confidence=confidence,
        pages=pages, boxes=boxes, errors=errors, record=record, document=document,
        reused=document["run_id"] != run_id, out=out if kept else None,
    )


def _rows(table: Any, column: str, value: str) -> list[dict[str, Any]]:
    """The rows of an Arrow table (None: no such table yet) whose `column` is `value`, as Python."""
    import pyarrow.compute as pc

    if table is None:
        return []
    return table.filter(pc.equal(table[column], value)).to_pylist()


def _fields(spec: Schema, record: dict[str, Any]) -> tuple[dict, dict, dict, dict]:
    """values, confidence, pages and boxes by field (record_columns.py names the columns)."""
    values: dict[str, Any] = {}
    confidence: dict[str, float | None] = {}
    pages: dict[str, int | None] = {}
    boxes: dict[str, Any] = {}
    if not record:
        return values, confidence, pages, boxes
    for field in spec.fields:
        name, value = field.name, record.get(field.name)
        if field.kind == "list":
            values[name] = None if value is None else [_cells(field, item, "") for item in value]
            boxes[name] = None if value is None else [_cells(field, item, "_box") for item in value]
        elif field.kind == "object":
            values[name] = None if value is None else _cells(field, value, "")
            boxes[name] = None if value is None else _cells(field, value, "_box")
        else:
            values[name] = value
            if f"{name}_box" in record:
                boxes[name] = record[f"{name}_box"]
        confidence[name] = record.get(f"{name}_confidence")
        pages[name] = record.get(f"{name}_page")
    return values, confidence, pages, boxes


def _cells(field: FieldSpec, item: dict[str, Any], suffix: str) -> dict[str, Any]:
    """A list item's (or an object's) sub-fields: their values (suffix ""), or their `_box`es."""
    return {sub.name: item.get(sub.name + suffix) for sub in field.fields}
