"""A run's settings, and the key that makes reruns skip finished work."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from docpipe.budget import BUDGETS

PROMPT_VERSION = "1"  # bump when prompts change in a way that should reprocess documents


class RunConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    input: Path
    out: Path
    schema_name: str = "invoice"
    schema_dir: Path | None = None
    model: str | None = None  # hub id, local folder or "tiny-random"; None: chosen by hardware
    budget: int = 280
    max_pages: int = Field(default=16, ge=1)  # pages per document sent to the model
    max_new_tokens: int = Field(default=1024, ge=1)
    batch_size: int = Field(default=8, ge=1)
    prompt_version: str = PROMPT_VERSION

    @field_validator("budget")
    @classmethod
    def _known_budget(cls, value: int) -> int:
        if value not in BUDGETS:
            raise ValueError(f"budget must be one of {BUDGETS}")
        return value


def work_key(doc_id: str, schema_key: str, model: str, budget: int, prompt_version: str) -> str:
    """What makes a piece of work the same work: content, schema version, model, budget, prompt."""
    text = "|".join([doc_id, schema_key, model, str(budget), prompt_version])
    return hashlib.sha256(text.encode()).hexdigest()[:32]
