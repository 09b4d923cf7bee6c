"""A run's settings, and the key that makes reruns skip finished work."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from docpipe.core.budget import BUDGETS, DEFAULT_BUDGET
from docpipe.ingest.render import RenderOptions
from docpipe.run.budget_policy import BudgetPolicy
from docpipe.schema.prompt import PROMPT_VERSION


class RunConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    input: Path
    out: Path
    schema_name: str = "invoice"
    schema_dir: Path | None = None
    model: str | None = None  # hub id, local folder or "tiny-random"; None: chosen by hardware
    budget: int | Literal["auto"] | None = None  # None: the schema's default budget
    auto_start: int = 140  # auto: the first budget
    auto_ceiling: int = 1120  # auto: the highest budget
    confidence_threshold: float = Field(default=0.5, ge=0.0, le=1.0)  # auto: escalate below this
    max_pages: int = Field(default=16, ge=1)  # pages per document read; later pages are skipped
    max_pixels: int = Field(default=100_000_000, ge=1)  # raster pages above this are refused
    passwords: tuple[str, ...] = ()  # for encrypted PDFs; never written to any table
    render_workers: int = Field(default=2, ge=0)  # 0: render in the run's own process (no isolation)
    render_timeout: float = Field(default=120.0, gt=0)  # seconds per document
    render_memory_mb: int | None = Field(default=4096, ge=64)  # address space of a render worker
    pages_per_request: int = Field(default=4, ge=1)  # more pages: one request per page, merged
    max_new_tokens: int = Field(default=1024, ge=1)
    batch_size: int | Literal["auto"] = 8  # requests per generate call; auto: from GPU memory
    chunk_size: int | None = Field(default=None, ge=1)  # documents read and written together
    constrained: bool = True  # constrain answers to the schema's JSON schema
    max_text_length: int | None = Field(default=None, ge=1)  # caps every text field's length
    prompt_version: str = PROMPT_VERSION
    date_order: Literal["auto", "DMY", "MDY", "YMD"] = Field("auto", description=(
        "Day/month order of numeric dates such as 04/05/2026: DMY, MDY, YMD, or auto (decided per "
        "document from its other dates, month names and currency; day first when nothing says)"
    ))

    @field_validator("budget", "auto_start", "auto_ceiling")
    @classmethod
    def _known_budget(cls, value: int | str | None) -> int | str | None:
        if value not in (None, "auto") and value not in BUDGETS:
            raise ValueError(f"budget must be one of {BUDGETS} or 'auto'")
        return value

    @field_validator("batch_size")
    @classmethod
    def _positive(cls, value: int | str) -> int | str:
        if value != "auto" and int(value) < 1:
            raise ValueError("batch_size must be >= 1 or 'auto'")
        return value

    @property
    def engine_batch_size(self) -> int:
        from docpipe.engines.transformers_engine import AUTO

        return AUTO if self.batch_size == "auto" else int(self.batch_size)

    @property
    def documents_per_chunk(self) -> int:
        """A chunk is read, written and committed as a unit: a crash loses at most one."""
        if self.chunk_size:
            return self.chunk_size
        return 128 if self.batch_size == "auto" else int(self.batch_size)

    def render_options(self) -> RenderOptions:
        return RenderOptions(max_pages=self.max_pages, max_pixels=self.max_pixels, passwords=self.passwords)

    def public_json(self) -> str:
        """The settings as recorded in the runs table: passwords are counted, never written."""
        data = self.model_dump(mode="json", exclude={"passwords"})
        data["passwords"] = len(self.passwords)
        return json.dumps(data, sort_keys=True)

    def policy(self, schema_budget: int | None) -> BudgetPolicy:
        if self.budget == "auto":
            return BudgetPolicy.auto(self.auto_start, self.auto_ceiling, self.confidence_threshold)
        return BudgetPolicy.fixed(self.budget or schema_budget or DEFAULT_BUDGET)


def work_key(doc_id: str, schema_key: str, model: str, policy_key: str, prompt_version: str,
             constrained: bool = True) -> str:
    """What makes a piece of work the same work: content, schema version, model, budget policy,
    prompt version, and whether answers are constrained."""
    text = "|".join([doc_id, schema_key, model, policy_key, prompt_version, str(constrained)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]
