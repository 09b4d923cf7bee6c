"""Gemma 4 through transformers: AutoProcessor + AutoModelForImageTextToText.

Two batching paths, chosen by `EngineOptions.batching`:
- "continuous" (default, engines/inprocess/continuous.py): the batch size is a number of slots; a row that
  finishes hands its slot to the next waiting request, prefilled alone with its images, from a copy
  of its instructions' cache (engines/inprocess/prefix_store.py; kept by the engine across calls,
  `EngineOptions.prefix_cache=False` prefills every prompt whole).
- "static": `generate` on batches planned by engines/inprocess/batching.py; every row decodes until the
  batch's longest answer ends. Kept as the reference and for the side-by-side benchmark.

bf16 on a GPU, float32 on CPU; left padding; every processor output (including
`mm_token_type_ids`, without which the larger Gemma 4 models lose bidirectional attention among
image tokens) goes to the model (engines/inprocess/model_inputs.py). The model is loaded on the first
`generate`, not when the engine is made. `last_stats` holds the last call's DecodeStats.

Fast paths (`EngineOptions`), each measured on and off by bench/throughput.py: the experts kernel
of the mixture-of-experts model ("grouped_mm_decode" keeps grouped_mm during decode, where
transformers would switch to batched_mm and copy each token's expert weights), the attention
kernel, a static cache with compiled decode.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docpipe.core.types import ModelRequest, RawGeneration
from docpipe.core.vocab import FinishReason
from docpipe.engines.checkpoints import ModelChoice
from docpipe.engines.inprocess.batching import plan_batches
from docpipe.engines.inprocess.decode_stats import DecodeStats

AUTO = 0  # batch_size=AUTO: from the memory model and the GPU's free memory
CPU_AUTO_BATCH = 8  # batch_size=AUTO without a GPU: a few rows keep 2-16 cores busy
QUEUE_PER_SLOT = 4  # requests in hand per decoding slot: a finished row finds a waiting request
AUTO_GPU_QUEUE = 256
BATCHINGS = ("continuous", "static")


@dataclass(frozen=True)
class EngineOptions:
    experts_implementation: str | None = None  # eager | grouped_mm | batched_mm | grouped_mm_decode
    attn_implementation: str | None = None  # sdpa | flex_attention | eager (None: transformers' choice)
    static_cache: bool = False  # cache_implementation="static" + compiled decode (GPU)
    min_new_tokens: int | None = None  # benchmarks: force the answer length
    batching: str = "continuous"  # continuous | static
    prefix_cache: bool = True  # continuous: compute a schema's instructions once, not once per page


def register_grouped_mm_decode() -> None:
    """Register grouped_mm under a name transformers does not swap for batched_mm in decode."""
    from transformers.integrations.moe import (
        ALL_EXPERTS_FUNCTIONS,
        grouped_mm_experts_forward,
    )

    ALL_EXPERTS_FUNCTIONS.register("grouped_mm_decode", grouped_mm_experts_forward)


class TransformersEngine:
    def __init__(self, choice: ModelChoice | None, batch_size: int = 8, device: str | None = None,
                 options: EngineOptions | None = None, model: Any = None, processor: Any = None,
                 adapter: Path | None = None):
        """`model` and `processor` may be given already built (benchmarks on random weights);
        `adapter`: a LoRA adapter folder (docpipe finetune), merged into the weights when they load."""
        self.choice = choice
        self.adapter = adapter
        self.name = choice.spec if choice else "preloaded"
        self.batch_size = batch_size  # AUTO (0): decided per request shape once loaded
        self.options = options or EngineOptions()
        if self.options.batching not in BATCHINGS:
            raise ValueError(f"batching must be one of {', '.join(BATCHINGS)}, not {self.options.batching!r}")
        self.last_stats = DecodeStats()
        self._device = device
        self._model: Any = model
        self._processor: Any = processor
        self._ready = False
        self._prefixes: Any = None  # PrefixStore, made on the first continuous generate

    def _load(self) -> None:
        if self._ready:
            return
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        extra = {}
        if self.options.attn_implementation:
            extra["attn_implementation"] = self.options.attn_implementation
        if self._model is None:
            local = self.choice.local_files_only
            self._processor = AutoProcessor.from_pretrained(self.choice.path, local_files_only=local)
            model = AutoModelForImageTextToText.from_pretrained(
                self.choice.path, dtype=dtype, local_files_only=local, **extra
            )
            if self.adapter is not None:
                from docpipe.engines.inprocess.lora import apply_adapter

                model = apply_adapter(model, self.adapter)
            self._model = model.to(device)
        else:
            device = str(next(self._model.parameters()).device)
        self._model.eval()
        self._processor.tokenizer.padding_side = "left"
        if self.options.experts_implementation:
            if self.options.experts_implementation == "grouped_mm_decode":
                register_grouped_mm_decode()
            self._model.set_experts_implementation(self.options.experts_implementation)
        self._device = device
        self._ready = True
        config = self._model.generation_config
        stops = config.eos_token_id if config.eos_token_id is not None else []
        self._stop_ids = set(stops if isinstance(stops, list) else [stops])
        from docpipe.engines.inprocess.constrained import GrammarCompiler

        vocab = self._model.config.get_text_config().vocab_size
        self._grammars = GrammarCompiler(self._processor.tokenizer, vocab, sorted(self._stop_ids))

    def holds_gpu(self) -> bool:
        if self._model is not None:
            return str(next(self._model.parameters()).device).startswith("cuda")
        if self._device is not None:
            return self._device.startswith("cuda")
        import torch

        return torch.cuda.is_available()

    def close(self) -> None:
        """Nothing to give back but the model, which goes with the engine."""

    def notes(self) -> list[str]:
        disabled = self._prefixes is not None and self._prefixes.disabled
        return [disabled] if disabled else []

    def queue_depth(self) -> int:
        """Four times the slots (a chunk's end drains them); with AUTO on a GPU, the memory model's
        slots are only known per request shape once loaded: 256 documents keep them filled."""
        if self.batch_size != AUTO:
            return QUEUE_PER_SLOT * self.batch_size
        import torch

        return AUTO_GPU_QUEUE if torch.cuda.is_available() else QUEUE_PER_SLOT * CPU_AUTO_BATCH

    def batch_size_for(self, request: ModelRequest) -> int:
        """The configured batch size, or with AUTO the memory model's for this request shape."""
        if self.batch_size != AUTO:
            return max(1, self.batch_size)
        import torch

        if not str(self._device).startswith("cuda"):
            return CPU_AUTO_BATCH
        from docpipe.engines.inprocess.memory_model import RequestShape, auto_batch_size

        free, _ = torch.cuda.mem_get_info()
        shape = RequestShape(request.budget, len(request.images), new_tokens=request.max_new_tokens)
        return auto_batch_size(self._model.config, free, shape)

    def generate(self, requests: Sequence[ModelRequest]) -> list[RawGeneration]:
        self._load()
        self.last_stats = DecodeStats()
        if not requests:
            return []
        if self.options.batching == "continuous":
            return self._generate_continuous(requests)
        return self._generate_static(requests)

    def _generate_continuous(self, requests: Sequence[ModelRequest]) -> list[RawGeneration]:
        from docpipe.engines.inprocess.continuous import ContinuousDecoder
        from docpipe.engines.inprocess.prefix_store import PrefixStore

        if self._prefixes is None and self.options.prefix_cache:
            self._prefixes = PrefixStore(self._model)
        shapes = {(r.budget, len(r.images), r.max_new_tokens): r for r in requests}
        slots = min(self.batch_size_for(r) for r in shapes.values())  # the largest shape must fit
        decoder = ContinuousDecoder(
            self._model, self._processor, self._grammars, self._stop_ids, slots,
            alone=lambda request: self._generate_safely([request])[0],
            min_new_tokens=self.options.min_new_tokens, prefixes=self._prefixes,
        )
        generations = decoder.run(requests)
        self.last_stats.add(decoder.stats)
        return generations

    def _generate_static(self, requests: Sequence[ModelRequest]) -> list[RawGeneration]:
        results: dict[int, RawGeneration] = {}
        sizes: dict[tuple[int, int, int], int] = {}

        def size_of(request: ModelRequest) -> int:
            shape = (request.budget, len(request.images), request.max_new_tokens)
            if shape not in sizes:
                sizes[shape] = self.batch_size_for(request)
            return sizes[shape]

        for batch in plan_batches(requests, size_of):
            for index, generation in zip(batch, self._generate_safely([requests[i] for i in batch])):
                results[index] = generation
        return [results[i] for i in range(len(requests))]

    def _generate_safely(self, batch: list[ModelRequest]) -> list[RawGeneration]:
        """A failing batch is retried one request at a time, so one bad request fails alone."""
        try:
            return self._generate_batch(batch)
        except Exception as exc:  # noqa: BLE001 - reported per request, never raised
            if len(batch) == 1:
                return [
                    RawGeneration(
                        batch[0].doc_id, "", 0, 0, FinishReason.ERROR, 0.0, error=f"{type(exc).__name__}: {exc}",
                        page_nos=batch[0].page_nos,
                    )
                ]
            self._free_memory()
            return [g for request in batch for g in self._generate_safely([request])]

    def _free_memory(self) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _generate_batch(self, batch: list[ModelRequest]) -> list[RawGeneration]:
        import torch
        from transformers import LogitsProcessorList

        from docpipe.engines.inprocess.model_inputs import encode

        inputs = encode(self._processor, batch, self._device, self._model.dtype)

        from docpipe.engines.inprocess.constrained import (
            ConstrainedJsonProcessor,
            decode_with_offsets,
        )

        constraint = ConstrainedJsonProcessor(self._grammars, [r.json_schema for r in batch], sorted(self._stop_ids))
        started = time.perf_counter()
        prompt_length = inputs["input_ids"].shape[1]
        extra: dict[str, Any] = {}
        looping = None
        if any(r.json_schema is None for r in batch) and not self.options.min_new_tokens:
            from transformers import StoppingCriteriaList

            from docpipe.engines.inprocess.repetition_stop import RepetitionStop

            looping = RepetitionStop([r.json_schema is None for r in batch], prompt_length)
            extra["stopping_criteria"] = StoppingCriteriaList([looping])
        if self.options.min_new_tokens:
            extra["min_new_tokens"] = self.options.min_new_tokens
        if self.options.static_cache:
            extra["cache_implementation"] = "static"
        with torch.inference_mode():
            output = self._model.generate(
                **inputs, max_new_tokens=max(r.max_new_tokens for r in batch), do_sample=False,
                logits_processor=LogitsProcessorList([constraint]), **extra,
            )
        seconds = (time.perf_counter() - started) / len(batch)
        constraint.finish(output[:, prompt_length:])
        prompt_tokens = inputs["attention_mask"].sum(dim=1).tolist()
        generations = []
        for row, request in enumerate(batch):
            new = output[row, prompt_length:].tolist()
            stop = next((i for i, token in enumerate(new) if token in self._stop_ids), None)
            kept = new[:stop] if stop is not None else new[: request.max_new_tokens]
            finish = FinishReason.STOP if stop is not None else FinishReason.LENGTH
            loop_end = looping.stopped_at[row] if looping is not None else None
            if loop_end is not None and stop is None:  # stopped for looping: padding follows
                kept, finish = new[:loop_end], FinishReason.REPETITION
            text, ends = decode_with_offsets(self._grammars.tokenizer, kept)
            generations.append(
                RawGeneration(
                    request.doc_id, text, int(prompt_tokens[row]),
                    len(kept) + (1 if stop is not None else 0),
                    finish, seconds,
                    error=constraint.grammar_errors[row] and f"grammar: {constraint.grammar_errors[row]}",
                    token_logprobs=tuple(constraint.logprobs[row][: len(kept)]),
                    token_ends=ends, constrained=request.json_schema is not None,
                    page_nos=request.page_nos,
                )
            )
        steps = output.shape[1] - prompt_length - 1  # decode forwards (the prefill wrote the first token)
        self.last_stats.row_steps += len(batch) * max(0, steps)
        self.last_stats.useful_row_steps += sum(max(0, g.output_tokens - 1) for g in generations)
        self.last_stats.decode_steps += max(0, steps)
        self.last_stats.prefills += 1
        self.last_stats.prompt_tokens += int(sum(prompt_tokens))
        self.last_stats.prompt_tokens_computed += len(batch) * prompt_length  # padding included
        self.last_stats.mask_seconds += constraint.seconds
        return generations
