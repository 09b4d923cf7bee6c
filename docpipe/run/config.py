"""A run's settings, each defined once, and the key that makes reruns skip finished work.

Every setting is a field of RunConfig with its default, its range and its help text; `docpipe
run` generates its options from these fields (cli/options.py), and Python callers build the same
object. Range and value checks live here and nowhere else.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from docpipe.core.budget import BUDGETS, DEFAULT_BUDGET, check_budget
from docpipe.core.errors import Category
from docpipe.core.vocab import Task
from docpipe.ingest.limits import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, DEFAULT_WORKERS, RenderOptions
from docpipe.ingest.selection import Selection
from docpipe.ingest.unpack import UnpackLimits
from docpipe.run.budget_policy import BudgetPolicy
from docpipe.schema.prompt import PROMPT_VERSION
from docpipe.transcribe.prompt import DEFAULT_TRANSCRIBE_BUDGET


def option(default: Any, help: str, flag: str | None = None, **constraints: Any) -> Any:
    """A setting that `docpipe run` offers as `--<name>` (or `flag`), with this help text."""
    return Field(default, description=help, json_schema_extra={"cli": flag or True}, **constraints)


class RunConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    input: Path = Field(description="Folder (or file) of PDFs and images")
    out: Path = option(Path("out"), "Folder for the Parquet tables")
    task: Task = option(
        Task.EXTRACT, "extract: the schema's fields into records/<schema>; transcribe: every page's text as "
        "Markdown into transcripts (default budget 1120). Both may run on one folder",
    )
    schemas: tuple[str, ...] = option(
        ("invoice",), "Schema name in schemas/, or a path to a schema YAML. Repeat it (or give 'all': every "
        "schema) to sort a mixed folder: each document is classified among the schemas (or 'other') at "
        "--classify-budget, then extracted with its class's schema", flag="schema",
    )
    split: bool = option(
        False, "Files may hold several documents one after another (a scanner's batch): each page is classified "
        "as the start or the continuation of a document, and each document found is extracted on its own, "
        "with its pages (table segments)",
    )
    classify_budget: int | None = option(
        None, "Visual tokens per page for sorting (several --schema, or --split). Default: 140",
    )
    class_threshold: float = option(
        0.5, "Sorting: a class less certain than this is recorded (table segments), not extracted", ge=0.0, le=1.0,
    )
    classify_pages: int = option(1, "Sorting without --split: the first pages a document is classified by", ge=1)
    segment_max_pages: int = option(
        50, "--split: a document found in a file holds at most this many pages; longer runs are cut", ge=1,
    )
    schema_dir: Path | None = Field(None, description="Folder to look schema names up in (default: the built-in schemas)")
    model: str | None = option(
        None, "Hub id, local checkpoint folder, or 'tiny-random' (offline smoke test; answers are noise). "
        "Default: chosen by hardware",
    )
    budget: int | Literal["auto"] | None = option(
        None, f"Visual tokens per page: one of {BUDGETS}, or 'auto' (read at a low budget, read again higher "
        "when unsure). Default: the schema's",
    )
    auto_start: int = Field(140, description="auto budget: the first budget")
    auto_ceiling: int = Field(1120, description="auto budget: the highest budget")
    confidence_threshold: float = option(
        0.5, "auto budget: read again when the least certain field is below this", ge=0.0, le=1.0,
    )
    pages_per_request: int = option(4, "Documents with more pages are read page by page and merged", ge=1)
    constrained: bool = option(True, "Constrain answers to the schema's JSON shape")
    max_text_length: int | None = option(
        None, "Cap on every text value's length (the schemas set their own)", ge=1,
    )
    passwords: tuple[SecretStr, ...] = Field(
        (), description="For encrypted PDFs; secret: never written to a table, Prefect's parameters or a log",
    )
    max_pixels: int = option(
        RenderOptions.max_pixels, "Raster pages with more pixels are refused unread (decompression bombs)", ge=1,
    )
    render_timeout: float = option(
        DEFAULT_TIMEOUT, "Seconds to render one document before its renderer is stopped", gt=0,
    )
    render_workers: int = option(
        DEFAULT_WORKERS, "Render processes (0: render in this process, no isolation)", ge=0,
    )
    render_memory_mb: int | None = option(DEFAULT_MEMORY_MB, "Memory limit of one render process", ge=64)
    batch_size: int | Literal["auto"] = option(
        "auto", "Decoding slots (requests decoded at once), or 'auto': on a GPU from its free memory and Gemma 4's "
        "memory model, on CPU 8",
    )
    max_pages: int = option(
        RenderOptions.max_pages, "Pages per document sent to the model; later pages are recorded as skipped", ge=1,
    )
    max_new_tokens: int = option(1024, "Token limit of one answer", ge=1)
    chunk_size: int | None = option(
        None, "Documents read, answered and committed together (a crash loses at most one chunk). Default: "
        "what keeps the engine's decoding slots busy (4 documents per slot; 256 with --batch-size auto on a GPU)",
        ge=1,
    )
    prompt_version: str = Field(PROMPT_VERSION, description="Part of the work key: a new prompt reads documents again")
    # the served engine (engines/served/openai_engine.py): `docpipe serve-model` starts a server
    engine: Literal["transformers", "openai"] = option(
        "transformers", "transformers: the model runs in this process; openai: requests go to "
        "OpenAI-compatible servers (vLLM from `docpipe serve-model`) at --base-url",
    )
    base_urls: tuple[str, ...] = option(
        (), "--engine openai: a server's address, e.g. http://127.0.0.1:8000/v1 (repeatable: requests are "
        "spread over the servers). The API key is read from DOCPIPE_API_KEY", flag="base-url",
    )
    max_in_flight: int | None = option(
        None, "--engine openai: requests in flight per server (default: twice what the server runs at once, "
        "read from its /metrics; 256 at first and for servers without them)", ge=1,
    )
    request_timeout: float = option(600.0, "--engine openai: seconds to wait for one answer", gt=0)
    image_encoding: Literal["jpeg", "png", "webp"] = option(
        "jpeg", "--engine openai: how page images are sent inside requests (jpeg at quality 95; png, webp lossless)",
    )
    media_dir: Path | None = option(
        None, "--engine openai, server on this host: pages go as files in this folder instead of inside "
        "the requests (lossless and cheaper; the folder `docpipe serve-model` prints)",
    )
    adapter: Path | None = option(
        None, "A LoRA adapter folder (docpipe finetune) for --engine transformers: checked against --model, the "
        "schema and the prompt version; documents are read again with it (its hash is in the work key)",
    )
    boxes: Literal["text", "model", "auto"] = option(
        "text", "Where each value's box comes from: text (the pages' text layer: free, born-digital pages "
        "only); model (also ask the model for a box beside every value: costs output tokens, see "
        "docs/benchmarks.md; the text layer's box wins where both exist); auto (ask the model only for "
        "pages without a text layer: scans)",
    )
    date_order: Literal["auto", "DMY", "MDY", "YMD"] = option(
        "auto", "Day/month order of numeric dates such as 04/05/2026: DMY, MDY, YMD, or auto (decided per "
        "document from its other dates, month names and currency; day first when nothing says)",
    )
    # scheduled and scaled-out runs (flows/, docpipe serve | deploy | submit)
    password_file: Path | None = Field(
        None, description="Read at run time by the run itself (a deployment's parameters name the file, "
        "never a password); see ingest/passwords.py for the format",
    )
    shard_index: int = Field(0, ge=0, description="This run owns the documents whose content hash falls in this shard")
    shard_count: int = Field(1, ge=1, description="Shards of the input (docpipe submit --shards)")
    include: tuple[str, ...] = option(
        (), "Read only files whose path under INPUT matches this glob (repeatable; '*' crosses folders; a "
        "pattern without '/' matches file names: '*.pdf')",
    )
    exclude: tuple[str, ...] = option(
        (), "Leave out files and folders whose path under INPUT matches this glob (repeatable): 'labels/**', "
        "'*.json'. Output folders of docpipe are always left out",
    )
    retry_failed: tuple[str, ...] = option(
        (), "Read again documents that failed with this category (repeatable), or 'all'. Failures whose cause "
        "an option governs (encrypted: passwords; too_large: --max-pages, --max-pixels, --render-memory-mb; "
        "timeout, render_error: the render limits; truncated: --max-new-tokens) are read again on their own "
        "when that option's value changes",
    )
    reread: Literal["none", "older"] = option(
        "none", "Documents OUT already holds, read with another model, prompt or budget: none (keep them; read "
        "only new and changed files) or older (read them again with these settings). A new schema version "
        "always reads again",
    )
    unpack_depth: int = option(
        3, "Archives and e-mails inside archives and e-mails are unpacked this many levels deep; deeper ones "
        "are recorded as too_large", ge=1,
    )
    unpack_max_mb: int = option(
        1024, "The members of one archive or e-mail may unpack to this many MiB in all (ZIP bombs are refused, "
        "as too_large)", ge=1,
    )
    follow_links: bool = option(
        False, "Read files that symbolic links under INPUT point to outside it (by default they get a row, unread)",
    )
    rehash: bool = option(
        False, "Read and hash every input file again (by default a file whose size, times, device and inode "
        "are those OUT's file index recorded is trusted unread)",
    )
    settle_seconds: float = option(
        0.0, "A file modified less than this many seconds ago is still being written: left for the next run", ge=0,
    )
    lease_seconds: float = option(
        60.0, "A run renews its lease on OUT this often (x1/3); a dead run's files and documents are taken "
        "over once it has expired", gt=0,
    )
    chunk_timeout: float | None = option(
        None, "Seconds one chunk may spend with the model before the run stops with a timeout", gt=0,
    )
    engine_retries: int = option(
        3, "Retries of a chunk whose engine could not be reached (back-off 2, 4, 8, then 15 s: 8 retries "
        "span a server restart of about 90 s); never of a bad file", ge=0,
    )

    @field_validator("budget", mode="before")
    @classmethod
    def _budget(cls, value: Any) -> Any:
        if value is None or value == "auto":
            return value
        try:
            return check_budget(int(value))
        except (TypeError, ValueError):
            raise ValueError(f"budget must be one of {BUDGETS} or 'auto', got {value!r}") from None

    @field_validator("base_urls", mode="before")
    @classmethod
    def _urls(cls, value: Any) -> Any:
        if value is None:
            return ()
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _one_schema(cls, data: Any) -> Any:
        """`schema_name=` (one schema, as callers before sorting gave it) is `schemas=` of one."""
        if isinstance(data, dict) and "schema_name" in data:
            data = dict(data)
            name = data.pop("schema_name")
            data.setdefault("schemas", (str(name),) if name is not None else ("invoice",))
        return data

    @field_validator("schemas", mode="before")
    @classmethod
    def _schemas(cls, value: Any) -> Any:
        if value is None or value == () or value == []:
            return ("invoice",)
        values = (value,) if isinstance(value, str | Path) else tuple(value)
        return tuple(dict.fromkeys(str(v) for v in values))  # the same schema twice is once

    @field_validator("classify_budget")
    @classmethod
    def _classify_budget(cls, value: int | None) -> int | None:
        return None if value is None else check_budget(value)

    @property
    def schema_name(self) -> str:
        """The schema of a run that extracts with one (the first given)."""
        return self.schemas[0]

    @property
    def sorting(self) -> bool:
        """Classify (several schemas) or split packets before extracting."""
        return self.task == Task.EXTRACT and (len(self.schemas) > 1 or self.schemas == ("all",) or self.split)

    @field_validator("include", "exclude", "retry_failed", mode="before")
    @classmethod
    def _many(cls, value: Any) -> Any:
        if value is None:
            return ()
        return (value,) if isinstance(value, str) else value

    @field_validator("retry_failed")
    @classmethod
    def _categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {str(c) for c in Category} - {str(Category.DUPLICATE)}
        wrong = [v for v in value if v != "all" and v not in known]
        if wrong:
            raise ValueError(f"unknown failure categories {wrong}: use 'all' or some of {sorted(known)}")
        return value

    @field_validator("auto_start", "auto_ceiling")
    @classmethod
    def _known_budget(cls, value: int) -> int:
        return check_budget(value)

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch_size(cls, value: Any) -> Any:
        if value == "auto":
            return value
        if isinstance(value, int | str) and str(value).isdigit() and int(value) >= 1:
            return int(value)
        raise ValueError(f"batch size must be a positive number or 'auto', got {value!r}")

    @field_validator("out")
    @classmethod
    def _out_is_a_folder(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file; the tables go into a folder: name a new or existing folder")
        return value

    @model_validator(mode="after")
    def _shard_in_range(self) -> RunConfig:
        if self.shard_index >= self.shard_count:
            raise ValueError(f"shard {self.shard_index} of {self.shard_count}: shards are numbered from 0")
        return self

    @model_validator(mode="after")
    def _sorting_is_for_extraction(self) -> RunConfig:
        if self.task == Task.TRANSCRIBE and (len(self.schemas) > 1 or self.split):
            raise ValueError("several --schema and --split sort documents for extraction: they are for --task extract")
        return self

    @model_validator(mode="after")
    def _auto_is_for_extraction(self) -> RunConfig:
        if self.task == Task.TRANSCRIBE and self.budget == "auto":
            raise ValueError("budget 'auto' escalates on a schema's validation and confidence: it is for "
                             "--task extract; give transcription a fixed budget (default 1120)")
        return self

    def documents_per_chunk(self, engine_depth: int) -> int:
        """A chunk is read, written and committed as a unit: a crash loses at most one. Unless
        --chunk-size says, a chunk holds what the engine wants in hand to keep its decoding slots
        busy (`Engine.queue_depth`): continuous batching refills a slot only from its chunk."""
        return self.chunk_size or max(1, engine_depth)

    def engine_settings(self) -> dict[str, Any]:
        """build_engine's arguments besides the model and the batch size (engines/factory.py)."""
        return {"engine": self.engine, "base_urls": self.base_urls, "max_in_flight": self.max_in_flight,
                "request_timeout": self.request_timeout, "image_encoding": self.image_encoding,
                "media_dir": self.media_dir, "adapter": self.adapter}

    def selection(self) -> Selection:
        """The files of INPUT to read: --include, --exclude, and never OUT."""
        return Selection(self.include, self.exclude, (self.out.resolve(),))

    def unpack_limits(self) -> UnpackLimits:
        return UnpackLimits(max_depth=self.unpack_depth, max_bytes=self.unpack_max_mb << 20,
                            passwords=tuple(p.get_secret_value() for p in self.passwords))

    def render_options(self) -> RenderOptions:
        """With a served engine whose pages go inside the requests, pages are encoded as they are
        rendered (in the render workers, into the requests' format): a chunk holds bytes, not pixels."""
        served_inline = self.engine == "openai" and self.media_dir is None
        return RenderOptions(max_pages=self.max_pages, max_pixels=self.max_pixels,
                             passwords=tuple(p.get_secret_value() for p in self.passwords),
                             encoding=self.image_encoding if served_inline else None,
                             converted=str(self.out.resolve() / "_converted"),
                             convert_timeout=self.render_timeout * 0.75)

    def with_password_file(self) -> RunConfig:
        """The passwords of `password_file` added to the given ones (read where the run runs)."""
        if self.password_file is None:
            return self
        from docpipe.ingest.passwords import read_passwords

        given = tuple(p.get_secret_value() for p in self.passwords)
        merged = tuple(dict.fromkeys(given + read_passwords(self.password_file)))
        return self.model_copy(update={"passwords": tuple(SecretStr(p) for p in merged), "password_file": None})

    def public_json(self) -> str:
        """The settings as recorded in the runs table: passwords are counted, never written."""
        data = self.model_dump(mode="json", exclude={"passwords"})
        data["passwords"] = len(self.passwords)
        return json.dumps(data, sort_keys=True)

    def policy(self, schema_budget: int | None) -> BudgetPolicy:
        if self.budget == "auto":
            return BudgetPolicy.auto(self.auto_start, self.auto_ceiling, self.confidence_threshold)
        if self.task == Task.TRANSCRIBE:
            return BudgetPolicy.fixed(self.budget or DEFAULT_TRANSCRIBE_BUDGET)
        return BudgetPolicy.fixed(self.budget or schema_budget or DEFAULT_BUDGET)


def work_key(doc_id: str, schema_key: str, model: str, policy_key: str, prompt_version: str,
             constrained: bool = True) -> str:
    """What makes a piece of work the same work: content, schema version, model, budget policy,
    prompt version, and whether answers are constrained."""
    text = "|".join([doc_id, schema_key, model, policy_key, prompt_version, str(constrained)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]
