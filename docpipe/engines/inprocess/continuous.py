"""Continuous batching with page images: every decoding slot busy until the queue runs dry.

transformers' own continuous batching (`generate_batch`, paged cache) takes token ids only and
assumes one head size for all layers, neither of which holds for Gemma 4, so the loop is owned
here, on the model's public forward and DynamicCache:

- A waiting request is prefilled alone, with its pixel values and `mm_token_type_ids`, as
  `generate` prefills it (`logits_to_keep=1`), but from a copy of its schema's instructions'
  cache, computed once (engines/inprocess/prefix_store.py); its first token is chosen under its
  grammar; its cache joins the running batch (engines/inprocess/kv_rows.py: left-padded block,
  padding mask).
- Each decode step is one forward pass over all rows, with per-row `position_ids` (a row's own
  token count) and the 2-D padding mask; transformers builds the causal and sliding masks.
- Overlap: step k+1's forward needs only token k, and so does the mask for step k+1. So token k
  (chosen on the device) is copied to the host asynchronously, forward k+1 is launched, and
  while the device computes it the host advances the matchers with token k and fills the
  bitmask for k+1; then the mask is applied to the logits in place and token k+1 chosen, on
  the device. Log-probabilities stay on the device until their answer ends.
- A row whose answer ended at token k leaves after step k+1 (that row-step is counted as
  wasted), and the freed slot is refilled before the next step.
- A request whose prefill fails fails alone; if a decode step fails, the requests in the batch
  are answered one at a time by `alone` (the static path), so only the bad one fails. On CUDA
  out-of-memory the number of slots halves and the batch's requests start again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from docpipe.core.types import ModelRequest, RawGeneration
from docpipe.engines.inprocess.decode_stats import DecodeStats
from docpipe.engines.inprocess.kv_rows import cache_argument, cache_of, keep_rows, merge_row
from docpipe.engines.inprocess.model_inputs import encode
from docpipe.engines.inprocess.prefix_store import PrefixStore
from docpipe.engines.inprocess.slot import Slot, failed
from docpipe.engines.inprocess.token_mask import greedy, mask_rows


@dataclass
class _Batch:
    slots: list[Slot] = field(default_factory=list)
    cache: Any = None
    width: int = 0  # columns of the left-padded block
    lengths: list[int] = field(default_factory=list)  # real entries per row
    positions: torch.Tensor | None = None  # [rows] the same, on the device (the next position)
    written: torch.Tensor | None = None  # [rows] tokens chosen before `pending`, on the device
    mask: torch.Tensor | None = None  # [rows, width] 1 = real entry
    pending: torch.Tensor | None = None  # [rows] chosen, not yet fed nor consumed
    pending_logp: torch.Tensor | None = None  # [rows]
    logp: torch.Tensor | None = None  # [rows, longest answer] log-probs, on the device


class ContinuousDecoder:
    def __init__(self, model: Any, processor: Any, grammars: Any, stop_ids: set[int], slots: int,
                 alone: Callable[[ModelRequest], RawGeneration], min_new_tokens: int | None = None,
                 prefixes: PrefixStore | None = None):
        """`prefixes`: the engine's store of instructions' caches (None: every prompt prefilled whole)."""
        self.model = model
        self.processor = processor
        self.grammars = grammars
        self.stop_ids = set(stop_ids)
        self.slots = max(1, slots)
        self.alone = alone
        self.min_new_tokens = min_new_tokens or 0
        self.device = next(model.parameters()).device
        self.cuda = self.device.type == "cuda"
        self.cache_arg = cache_argument(model)
        self.prefixes = prefixes
        self.vocab = model.config.get_text_config().vocab_size
        self.stats = DecodeStats()
        self._joining: int | None = None  # a request whose cache is being merged
        self._gaps: list[tuple[Any, Any]] = []  # CUDA events: forward done, mask applied

    def run(self, requests: Sequence[ModelRequest]) -> list[RawGeneration]:
        started = time.perf_counter()
        queue = deque(range(len(requests)))
        self._longest = max((r.max_new_tokens for r in requests), default=1)
        done: dict[int, Slot | RawGeneration] = {}
        batch = _Batch()
        with torch.inference_mode():
            while queue or batch.slots:
                try:
                    self._fill(batch, queue, requests, done)
                    if batch.slots:
                        self._step(batch, done)
                except torch.cuda.OutOfMemoryError as exc:
                    batch = self._after_oom(batch, queue, requests, done, exc)
                except Exception:  # noqa: BLE001 - each request of the batch is answered alone
                    for index in self._drop_batch(batch):
                        if index not in done:
                            done[index] = self.alone(requests[index])
                    batch = _Batch()
        self._collect_gaps()
        seconds = (time.perf_counter() - started) / max(1, len(requests))
        tokenizer = self.grammars.tokenizer
        return [
            item.generation(tokenizer, seconds) if isinstance(item, Slot) else item
            for item in (done[i] for i in range(len(requests)))
        ]

    # -- admitting requests -------------------------------------------------------------------

    def _fill(self, batch: _Batch, queue: deque, requests: Sequence[ModelRequest], done: dict) -> None:
        while queue and len(batch.slots) < self.slots:
            index = queue.popleft()
            request = requests[index]
            try:
                cache, width, slot, token, logp = self._prefill(index, request)
            except torch.cuda.OutOfMemoryError:
                queue.appendleft(index)
                raise
            except Exception as exc:  # noqa: BLE001 - this request fails alone
                done[index] = failed(request, exc)
                continue
            self._joining = index
            self._join(batch, cache, width, slot, token, logp)
            self._joining = None

    def _prefill(self, index: int, request: ModelRequest):
        inputs = encode(self.processor, [request], str(self.device), self.model.dtype)
        width = int(inputs["input_ids"].shape[1])
        if self.prefixes is not None:
            out, computed = self.prefixes.prefill(inputs)
        else:
            out, computed = self.model(**inputs, use_cache=True, logits_to_keep=1), width
        cache = cache_of(out)
        matcher = self.grammars.matcher(request.json_schema) if request.json_schema else None
        slot = Slot(index, request, width, matcher)
        logits = out.logits[:, -1].float()
        self._apply(logits, [slot], self._fill_mask([slot], logits.shape[-1]))
        token, logp = greedy(logits)
        self.stats.prefills += 1
        self.stats.prompt_tokens += width
        self.stats.prompt_tokens_computed += computed
        return cache, width, slot, token, logp

    def _join(self, batch: _Batch, cache: Any, width: int, slot: Slot, token, logp) -> None:
        row_mask = torch.ones(1, width, dtype=torch.long, device=self.device)
        row_logp = torch.zeros(1, self._longest + 1, device=self.device)
        position = torch.tensor([width], device=self.device)
        if not batch.slots:
            batch.cache, batch.width, batch.mask, batch.logp = cache, width, row_mask, row_logp
            batch.pending, batch.pending_logp = token, logp
            batch.positions, batch.written = position, torch.zeros_like(position)
        else:
            new_width = merge_row(batch.cache, batch.width, cache, width)
            batch.mask = torch.cat([_left_pad(batch.mask, new_width), _left_pad(row_mask, new_width)])
            batch.width = new_width
            batch.logp = torch.cat([batch.logp, row_logp])
            batch.pending = torch.cat([batch.pending, token])
            batch.pending_logp = torch.cat([batch.pending_logp, logp])
            batch.positions = torch.cat([batch.positions, position])
            batch.written = torch.cat([batch.written, torch.zeros_like(position)])
        batch.slots.append(slot)
        batch.lengths.append(width)

    # -- one decode step ----------------------------------------------------------------------

    def _step(self, batch: _Batch, done: dict) -> None:
        rows = len(batch.slots)
        host = batch.pending.to("cpu", non_blocking=self.cuda)
        copied = _event(self.cuda)
        batch.logp[torch.arange(rows, device=self.device), batch.written] = batch.pending_logp
        batch.mask = torch.cat([batch.mask, batch.mask.new_ones(rows, 1)], dim=1)
        out = self.model(
            input_ids=batch.pending.unsqueeze(1), attention_mask=batch.mask, position_ids=batch.positions.unsqueeze(1),
            use_cache=True, logits_to_keep=1, **{self.cache_arg: batch.cache},
        )
        forward_done = _event(self.cuda)
        batch.width += 1
        batch.lengths = [n + 1 for n in batch.lengths]
        batch.positions, batch.written = batch.positions + 1, batch.written + 1
        host_started = time.perf_counter()
        if copied is not None:
            copied.synchronize()  # the token copy only, not the forward pass behind it
        check_loops = not self.min_new_tokens
        for slot, token in zip(batch.slots, host.tolist()):
            slot.consume(token, self.stop_ids, check_loops)
        going = [s for s in batch.slots if s.finish is None]
        mask = self._fill_mask(batch.slots, self.vocab)
        if self.cuda:
            self._gaps.append((forward_done, _event(True)))
        else:
            self.stats.mask_seconds += time.perf_counter() - host_started
        logits = out.logits[:, -1].float()
        self._apply(logits, batch.slots, mask)
        batch.pending, batch.pending_logp = greedy(logits)
        self.stats.decode_steps += 1
        self.stats.row_steps += rows
        self.stats.useful_row_steps += len(going)
        if len(going) < rows:
            self._leave(batch, done)

    def _fill_mask(self, slots: Sequence[Slot], vocab: int) -> tuple[torch.Tensor | None, list[int]]:
        """On the host: the bitmask of each unfinished constrained row for its next token."""
        import llguidance.torch as llt

        active = [(s.matcher, row) for row, s in enumerate(slots) if s.finish is None and s.matcher is not None]
        if not active:
            return None, []
        bitmask = llt.allocate_token_bitmask(len(slots), vocab)
        if len(active) > 1:
            llt.fill_next_token_bitmask_par(self.grammars.executor, active, bitmask)
        else:
            llt.fill_next_token_bitmask(active[0][0], bitmask, active[0][1])
        return bitmask, [row for _, row in active]

    def _apply(self, logits: torch.Tensor, slots: Sequence[Slot], mask: tuple[torch.Tensor | None, list[int]]) -> None:
        """Mask the rows to their grammars in place; hold back the stop tokens of rows shorter than
        `min_new_tokens` (the benchmarks' forced length)."""
        bitmask, rows = mask
        if rows:
            mask_rows(logits, bitmask, rows)
        if self.min_new_tokens:
            short = [row for row, s in enumerate(slots) if len(s.tokens) < self.min_new_tokens]
            if short:
                held = torch.tensor(short, device=logits.device).unsqueeze(1)
                stops = torch.tensor(sorted(self.stop_ids), device=logits.device).unsqueeze(0)
                logits[held, stops] = float("-inf")

    def _leave(self, batch: _Batch, done: dict) -> None:
        keep = [row for row, s in enumerate(batch.slots) if s.finish is None]
        ended = [row for row, s in enumerate(batch.slots) if s.finish is not None]
        longest = max(len(batch.slots[row].tokens) for row in ended)
        logprobs = batch.logp[torch.tensor(ended, device=self.device), :longest].tolist()  # one copy
        for row, values in zip(ended, logprobs):
            slot = batch.slots[row]
            slot.logprobs = values[: len(slot.tokens)]
            done[slot.index] = slot
        if not keep:
            batch.__init__()
            return
        lengths = [batch.lengths[row] for row in keep]
        cut = batch.width - max(lengths)
        index = torch.tensor(keep, device=self.device)
        batch.width = keep_rows(batch.cache, batch.width, index, cut)
        batch.mask = batch.mask[index, cut:]
        batch.pending, batch.pending_logp, batch.logp = batch.pending[index], batch.pending_logp[index], batch.logp[index]
        batch.positions, batch.written = batch.positions[index], batch.written[index]
        batch.slots = [batch.slots[row] for row in keep]
        batch.lengths = lengths

    # -- out of memory ------------------------------------------------------------------------

    def _drop_batch(self, batch: _Batch) -> list[int]:
        """The requests in hand when a step failed: the batch's, and one that was joining it."""
        indices = [slot.index for slot in batch.slots] + [i for i in [self._joining] if i is not None]
        self._joining = None
        return indices

    def _after_oom(self, batch: _Batch, queue: deque, requests, done: dict, exc: Exception) -> _Batch:
        # the batch's requests, and one that was joining it (the merge of its cache into the
        # batch is a step's largest allocation): all start again, in fewer slots
        indices = self._drop_batch(batch)
        batch = _Batch()
        torch.cuda.empty_cache()
        if self.slots == 1 and len(indices) <= 1:
            index = indices[0] if indices else queue.popleft()
            done[index] = failed(requests[index], exc)
        else:
            self.slots = max(1, self.slots // 2)
            self.stats.oom_halvings += 1
        for index in reversed(indices):
            if index not in done:
                queue.appendleft(index)
        return batch

    def _collect_gaps(self) -> None:
        if self._gaps:
            torch.cuda.synchronize()
            self.stats.mask_seconds += sum(a.elapsed_time(b) for a, b in self._gaps) / 1000
            self._gaps = []


def _left_pad(mask: torch.Tensor, width: int) -> torch.Tensor:
    if mask.shape[1] == width:
        return mask
    return torch.cat([mask.new_zeros(mask.shape[0], width - mask.shape[1]), mask], dim=1)


def _event(cuda: bool):
    if not cuda:
        return None
    event = torch.cuda.Event(enable_timing=True)
    event.record()
    return event
