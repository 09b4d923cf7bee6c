"""LoRA training of Gemma 4's language model on approved answers (`docpipe finetune`), with peft.

Adapters go on the language model's attention and dense MLP projections only: not the vision
tower (peft refuses Gemma 4's `Gemma4ClippableLinear`, peft #3129; and the pages are read as
they are), not the 26B-A4B experts (stacked parameters, not Linear modules: the pattern below
cannot match them; vLLM's LoRA for Gemma 4's experts is unsettled). Each step is one example:
the exact inference prompt (model_inputs.py's chat turns, the pages at their budget) followed by
the approved answer and the end of the model's turn; the loss covers the answer only.

Two checks before the first step: a model whose layers share K/V (E2B, E4B) needs a transformers
with #45312 (the training forward, without a cache, computed them wrong: transformers #45242),
so the first example's loss is computed with and without the cache and must agree; and the first
loss must be a number. After each epoch the adapter is saved (written beside, then moved into
place): Ctrl-C stops training and leaves the last finished epoch usable.
"""

from __future__ import annotations

import contextlib
import math
import random
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docpipe.core.errors import TerminalError
from docpipe.core.page_image import as_pil
from docpipe.core.types import ModelRequest
from docpipe.engines.chat_turns import system_turn
from docpipe.engines.checkpoints import ModelChoice

TARGET_MODULES = r"^(?:.*\.)?language_model\.(?:.*\.)?(?:q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$"


class TrainingRefused(TerminalError, ValueError):
    """Training cannot give a sound adapter here (and says why)."""


@dataclass(frozen=True)
class LoraOptions:
    rank: int = 16  # Google's Gemma 4 QLoRA notebook: r=16, alpha=16, lr 2e-4
    alpha: int = 16
    epochs: int = 3
    learning_rate: float = 2e-4
    dropout: float = 0.0
    seed: int = 0


@dataclass
class Trained:
    losses: list[float] = field(default_factory=list)  # mean loss of each finished epoch
    first_loss: float | None = None
    steps: int = 0
    seconds: float = 0.0
    stopped_early: bool = False  # Ctrl-C: the last finished epoch was kept


def load(choice: ModelChoice, device: str | None = None) -> tuple[Any, Any, str]:
    """(processor, model, device) for training: float32 on CPU, bfloat16 on a GPU."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    processor = AutoProcessor.from_pretrained(choice.path, local_files_only=choice.local_files_only)
    model = AutoModelForImageTextToText.from_pretrained(choice.path, dtype=dtype,
                                                        local_files_only=choice.local_files_only).to(device)
    return processor, model, device


def training_inputs(processor: Any, request: ModelRequest, target: str, device: str, dtype: Any,
                    stops: Sequence[int]) -> dict[str, Any]:
    """The inference prompt of `request` then `target` and the end of the model's turn (the chat
    template's marker, else the first of `stops`, the model's stop tokens), with labels on the
    answer only."""
    import torch

    turns = system_turn(request) + [{"role": "user", "content": [{"type": "image"}] * len(request.images)
                                     + [{"type": "text", "text": request.prompt}]}]
    prompt = processor.apply_chat_template(turns, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[prompt], images=[[as_pil(i) for i in request.images]], return_tensors="pt",
                       max_soft_tokens=request.budget)
    tokenizer = processor.tokenizer
    answer = tokenizer(target + _turn_end(processor, turns, prompt, target), add_special_tokens=False,
                       return_tensors="pt")["input_ids"]
    if not answer.numel() or answer[0, -1].item() not in stops:
        answer = torch.cat([answer, torch.tensor([[stops[0]]])], dim=1)
    prompt_ids = inputs["input_ids"]
    out = dict(inputs)
    out["input_ids"] = torch.cat([prompt_ids, answer], dim=1)
    out["attention_mask"] = torch.ones_like(out["input_ids"])
    if "mm_token_type_ids" in inputs:
        out["mm_token_type_ids"] = torch.cat([inputs["mm_token_type_ids"], torch.zeros_like(answer)], dim=1)
    if "token_type_ids" in inputs:
        out["token_type_ids"] = torch.cat([inputs["token_type_ids"], torch.zeros_like(answer)], dim=1)
    labels = out["input_ids"].clone()
    labels[:, : prompt_ids.shape[1]] = -100
    out["labels"] = labels
    out = {k: v.to(device) for k, v in out.items()}
    if "pixel_values" in out:
        out["pixel_values"] = out["pixel_values"].to(dtype)
    return out


def _turn_end(processor: Any, turns: list, prompt: str, target: str) -> str:
    """What the chat template writes after the model's answer (its end-of-turn marker), up to the
    first line break; empty when the template does not say."""
    try:
        whole = processor.apply_chat_template(turns + [{"role": "assistant", "content": target}], tokenize=False)
    except Exception:  # a template without an assistant turn: the stop token is appended instead
        return ""
    at = whole.find(target, len(prompt) - 1 if len(prompt) else 0)
    if at < 0:
        return ""
    return whole[at + len(target):].split("\n", 1)[0]


def stop_ids(model: Any, tokenizer: Any) -> list[int]:
    """The tokens that end the model's answer (its generation config's, else the tokenizer's eos)."""
    ids = model.generation_config.eos_token_id if model.generation_config.eos_token_id is not None \
        else tokenizer.eos_token_id
    return list(ids) if isinstance(ids, list | tuple) else [ids]


def check_cache_paths(model: Any, batch: dict[str, Any]) -> None:
    """TrainingRefused when this transformers computes another loss without the cache than with it
    (Gemma 4's shared K/V, transformers #45242, fixed by #45312)."""
    import torch

    text = model.config.get_text_config()
    if not getattr(text, "num_kv_shared_layers", 0):
        return
    with torch.no_grad():
        trained = model(**batch, use_cache=False).loss.item()
        cached = model(**batch, use_cache=True).loss.item()
    if not math.isclose(trained, cached, rel_tol=1e-2, abs_tol=1e-3):
        import transformers

        raise TrainingRefused(
            f"this transformers ({transformers.__version__}) computes Gemma 4's shared K/V wrongly when training "
            f"(loss {trained:.3f} without the cache, {cached:.3f} with it: transformers #45242): install a "
            "transformers with #45312 (5.6 or later) and train again")


def train(choice: ModelChoice, examples: Sequence[tuple[ModelRequest, str]], options: LoraOptions, folder: Path,
          on_step: Callable[[int, int, float], None] | None = None, device: str | None = None,
          loaded: tuple[Any, Any, str] | None = None) -> Trained:
    """Train a LoRA adapter on (request, approved answer) pairs into `folder` (peft's files),
    saved after each epoch; `on_step(step, steps, loss)` after each step."""
    import torch
    from peft import LoraConfig, get_peft_model

    if not examples:
        raise TrainingRefused("no example to train on")
    torch.manual_seed(options.seed)
    processor, model, device = loaded or load(choice, device)
    dtype = next(model.parameters()).dtype
    stops = stop_ids(model, processor.tokenizer)
    first = training_inputs(processor, examples[0][0], examples[0][1], device, dtype, stops)
    check_cache_paths(model, first)
    config = LoraConfig(r=options.rank, lora_alpha=options.alpha, lora_dropout=options.dropout, bias="none",
                        target_modules=TARGET_MODULES)
    with peft_quietly():
        model = get_peft_model(model, config)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=options.learning_rate)
    # linear decay to zero over the run (transformers' Trainer default): late steps settle instead of oscillating
    total_steps = max(1, options.epochs * len(examples))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / total_steps))
    order = list(range(len(examples)))
    shuffle = random.Random(options.seed)
    result, started, steps = Trained(), time.perf_counter(), options.epochs * len(examples)
    # each example's inputs made once, kept in host memory (a training set's pages would not all
    # fit beside the model on a GPU) and moved to the device for its step
    batches: dict[int, dict[str, Any]] = {0: {k: v.cpu() for k, v in first.items()}}
    try:
        for _ in range(options.epochs):
            shuffle.shuffle(order)
            total = 0.0
            for index in order:
                if index not in batches:
                    batches[index] = training_inputs(processor, examples[index][0], examples[index][1], "cpu", dtype,
                                                     stops)
                loss = model(**{k: v.to(device) for k, v in batches[index].items()}, use_cache=False).loss
                value = loss.item()
                if result.first_loss is None:
                    result.first_loss = value
                    if not math.isfinite(value):
                        raise TrainingRefused(f"the first loss is {value}: the model or this transformers cannot be trained here")
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad(set_to_none=True)
                total += value
                result.steps += 1
                if on_step is not None:
                    on_step(result.steps, steps, value)
            result.losses.append(total / len(examples))
            _save(model, Path(folder))
    except KeyboardInterrupt:
        result.stopped_early = True
    result.seconds = time.perf_counter() - started
    return result


def _save(model: Any, folder: Path) -> None:
    """peft's files into `folder`, replaced whole: a crash mid-save leaves the last epoch's."""
    folder.mkdir(parents=True, exist_ok=True)
    fresh = folder.parent / f".{folder.name}.saving"
    shutil.rmtree(fresh, ignore_errors=True)
    model.save_pretrained(str(fresh))
    for path in fresh.iterdir():
        path.replace(folder / path.name)
    shutil.rmtree(fresh, ignore_errors=True)


def apply_adapter(model: Any, folder: Path) -> Any:
    """`model` with the adapter in `folder` merged into its weights (inference as fast as without)."""
    from peft import PeftModel

    with peft_quietly():
        return PeftModel.from_pretrained(model, str(folder)).merge_and_unload()


@contextlib.contextmanager
def peft_quietly():
    """peft 0.21 calls transformers' deprecated `is_gradient_checkpointing`: its FutureWarning is
    peft's to fix (and says nothing to a docpipe user), so it is not shown around peft's calls."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield
