"""Which model to run, and where its weights come from.

`--model` takes a hub id (downloaded once into the Hugging Face cache), a local folder with a
checkpoint, or `tiny-random` (a tiny random Gemma 4 built offline, for smoke tests). Without it
the hardware decides: the 26B-A4B mixture of experts on a GPU with >= 60 GB free, E4B on a smaller
GPU, E2B on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from docpipe.core.errors import ModelNotAvailable

TINY = "tiny-random"
GEMMA4_26B_A4B = "google/gemma-4-26B-A4B-it"
GEMMA4_E4B = "google/gemma-4-E4B-it"
GEMMA4_E2B = "google/gemma-4-E2B-it"
BIG_GPU_BYTES = 60 * 1024**3


@dataclass(frozen=True)
class ModelChoice:
    spec: str  # what the user asked for (or the default chosen), recorded in the tables
    path: str  # what from_pretrained loads: a hub id or a local folder
    why: str
    local_files_only: bool = True  # load without asking the hub (local folder, or offline cache)


def cache_root() -> Path:
    base = os.environ.get("DOCPIPE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "docpipe"
    )
    return Path(base)


def default_model() -> tuple[str, str]:
    """The checkpoint for this machine, and why."""
    import torch

    if torch.cuda.is_available():
        free, _ = torch.cuda.mem_get_info()
        gib = free / 1024**3
        if free >= BIG_GPU_BYTES:
            return GEMMA4_26B_A4B, f"GPU with {gib:.0f} GiB free"
        return GEMMA4_E4B, f"GPU with {gib:.0f} GiB free (< 60 GiB)"
    return GEMMA4_E2B, "no GPU"


def resolve_model(spec: str | None) -> ModelChoice:
    """Turn `--model` into something `from_pretrained` can load, or explain why it cannot."""
    if spec is None:
        spec, why = default_model()
    else:
        why = "--model"
    if spec == TINY:
        from docpipe.engines.tiny_checkpoint import build_tiny_gemma4, tiny_model_dir

        folder = tiny_model_dir(cache_root())
        if not (folder / "config.json").is_file():
            build_tiny_gemma4(folder)
        return ModelChoice(TINY, str(folder), "tiny random Gemma 4 (smoke test: answers are noise)")
    local = Path(spec).expanduser()
    if local.exists():
        if not (local / "config.json").is_file():
            raise ModelNotAvailable(
                f"{local} is not a model checkpoint: it has no config.json. Pass the folder that "
                "holds config.json, the *.safetensors weights and the processor files."
            )
        return ModelChoice(spec, str(local.resolve()), why)
    online = _check_hub(spec)
    return ModelChoice(spec, spec, why, local_files_only=not online)


def _hub_reachable() -> bool:
    """One quick request to the hub (no retries): False when offline or blocked."""
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    if constants.HF_HUB_OFFLINE:
        return False
    try:
        get_session().head(constants.ENDPOINT, timeout=5)
    except Exception:  # noqa: BLE001 - DNS, proxy, TLS: all mean "not reachable"
        return False
    return True


def _check_hub(repo_id: str) -> bool:
    """Whether the hub is usable; raise with instructions when the model cannot be had at all."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    cached = True
    try:
        hf_hub_download(repo_id, "config.json", local_files_only=True)
    except Exception:  # noqa: BLE001 - not in the cache
        cached = False
    if not _hub_reachable():
        if cached:
            return False  # load from the cache without asking the hub
        raise ModelNotAvailable(
            f"the weights of {repo_id} are not in the local Hugging Face cache and the hub "
            "cannot be reached. Either download them on a machine with internet access "
            f"(`hf download {repo_id}`) and copy the cache folder (~/.cache/huggingface) here, "
            "or pass a local checkpoint with --model /path/to/checkpoint. For an offline smoke "
            "test of the install, use --model tiny-random."
        )
    try:
        hf_hub_download(repo_id, "config.json")
    except GatedRepoError as exc:
        raise ModelNotAvailable(
            f"{repo_id} is gated on the Hugging Face hub: accept its license on its model page, "
            "then log in with `hf auth login` (or set HF_TOKEN), or pass --model /path/to/checkpoint."
        ) from exc
    except RepositoryNotFoundError as exc:
        raise ModelNotAvailable(
            f"no model called {repo_id!r} on the Hugging Face hub and no such local folder. "
            "Check the spelling, or pass --model /path/to/local/checkpoint."
        ) from exc
    return True
