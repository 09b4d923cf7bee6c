"""An adapter is a folder: peft's files (adapter_config.json, adapter_model.safetensors) and
docpipe's manifest (docpipe_adapter.json): the base model and its revision, the schema and its
version, the prompt version, the budgets, the documents trained on and held out, the
hyper-parameters, the losses and docpipe's version. A run with the adapter checks it against its
own model, schema and prompt version, and puts the adapter's hash in its work key."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "docpipe_adapter.json"
WEIGHTS = "adapter_model.safetensors"


@dataclass(frozen=True)
class Manifest:
    base_model: str  # the --model it was trained on (a hub id, a folder, tiny-random)
    base_revision: str | None  # the hub snapshot's commit, when the weights came from the hub cache
    schema: str
    schema_version: int
    prompt_version: str
    budgets: list[int]
    trained_on: list[str]  # names of the documents (their paths under the input folder)
    held_out: list[str]
    hyperparameters: dict[str, Any]
    losses: list[float]  # the mean loss of each epoch
    docpipe_version: str
    created_at: str
    stopped_early: bool = False  # Ctrl-C: the last finished epoch's weights
    extra: dict[str, Any] = field(default_factory=dict)


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    path = Path(folder) / MANIFEST
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(manifest), indent=1) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def read_manifest(folder: Path) -> Manifest:
    """The manifest of the adapter in `folder` (ValueError saying what is missing)."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ValueError(f"--adapter {folder}: no such folder (give the folder `docpipe finetune --adapter-out` wrote)")
    if not path.is_file() or not (folder / WEIGHTS).is_file():
        raise ValueError(f"--adapter {folder}: not an adapter of docpipe finetune (it needs {MANIFEST} and {WEIGHTS})")
    data = json.loads(path.read_text(encoding="utf-8"))
    known = set(Manifest.__dataclass_fields__)
    return Manifest(**{k: v for k, v in data.items() if k in known})


def adapter_hash(folder: Path) -> str:
    """What stands for the adapter in the work key: its weights and manifest, hashed."""
    digest = hashlib.sha256()
    for name in (WEIGHTS, MANIFEST, "adapter_config.json"):
        path = Path(folder) / name
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def check_fits(manifest: Manifest, folder: Path, model: str, schema_name: str, schema_version: int,
               prompt_version: str) -> None:
    """ValueError, one message, when the adapter was trained for another model, schema or prompt."""
    wrong = []
    if manifest.base_model != model:
        wrong.append(f"model {manifest.base_model} (this run: {model})")
    if (manifest.schema, manifest.schema_version) != (schema_name, schema_version):
        wrong.append(f"schema {manifest.schema}@{manifest.schema_version} (this run: {schema_name}@{schema_version})")
    if manifest.prompt_version != prompt_version:
        wrong.append(f"prompt version {manifest.prompt_version} (this run: {prompt_version})")
    if wrong:
        raise ValueError(f"--adapter {folder} was trained for " + "; ".join(wrong)
                         + ": use it with what it was trained for, or train one for this run (docpipe finetune)")


def hub_revision(path: str) -> str | None:
    """The commit of a hub snapshot folder (`.../snapshots/<commit>`), else None."""
    parts = Path(path).parts
    return parts[-1] if len(parts) > 1 and parts[-2] == "snapshots" else None
