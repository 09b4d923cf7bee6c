"""The instructions' KV, computed once per schema: every page of a schema starts from a copy of it.

Every request of a schema begins with the same tokens: `<bos>`, the system turn with the
schema's instructions, and the user turn's opening up to its first image (engines/chat_turns.py).
The continuous engine prefills each request alone, so without this it computes those tokens once
per page; on the invoice schema they are most of a page's prompt (about 440 tokens of
instructions against 280 image tokens at budget 280).

`PrefixStore.prefill` splits a request's own token ids at its first image token (tokens before
it attend only to each other, causally, in any Gemma 4). The prefix's cache is computed once,
kept under its exact token ids, and each request then starts from a deep copy of it: only the
rest (images, ask, generation prompt) goes through the model, at positions after the prefix,
with the full attention mask and the full `mm_token_type_ids` (the bidirectional mask among image
tokens of the larger Gemma 4 models reads them by position from the start of the sequence, as in
transformers' own chunked prefill). The result is the cache and logits of the full prefill, up
to float rounding: tests/engines/test_prefix_store.py holds the tokens greedy-equal.

- Prefixes shorter than `MIN_PREFIX_TOKENS`, and requests without an image, are prefilled whole.
- At most `capacity` prefixes are kept, the least recently used dropped first.
- If the split prefill raises where the whole one does not (a transformers release that cannot
  continue a multimodal prefill from a cache), sharing is switched off for the engine's life and
  `disabled` says why; the request is answered from the whole prefill.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

import torch

from docpipe.engines.inprocess.kv_rows import cache_argument, cache_of

MIN_PREFIX_TOKENS = 32  # below this, the copy and the extra forward are not worth it
CAPACITY = 8  # prefixes kept: a run asks for one or two schemas, at one or two box counts


class PrefixStore:
    def __init__(self, model: Any, capacity: int = CAPACITY):
        self.model = model
        self.cache_arg = cache_argument(model)
        self.capacity = max(1, capacity)
        self.disabled: str | None = None
        self._caches: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self.prefix_prefills = 0  # prefixes computed (a miss), over the store's life

    def prefill(self, inputs: Any) -> tuple[Any, int]:
        """The model's output for the one-request `inputs` (processor outputs, no padding), its
        cache starting from a stored prefix where one applies; and the prompt tokens computed."""
        total = int(inputs["input_ids"].shape[1])
        split = 0 if self.disabled else self.split_at(inputs)
        if not split:
            return self._whole(inputs), total
        try:
            cache, computed = self._prefix_cache(inputs, split)
            rest = dict(inputs)
            rest["input_ids"] = inputs["input_ids"][:, split:]
            rest["position_ids"] = torch.arange(split, total, device=inputs["input_ids"].device).unsqueeze(0)
            out = self.model(**rest, use_cache=True, logits_to_keep=1, **{self.cache_arg: cache})
        except torch.cuda.OutOfMemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - decided below, against the whole prefill
            out = self._whole(inputs)  # raises if the request itself is bad: it fails alone
            self.disabled = f"prefix sharing off: {type(exc).__name__}: {exc}"
            self._caches.clear()
            return out, total
        return out, computed + total - split

    @staticmethod
    def split_at(inputs: Any) -> int:
        """Where the shared prefix ends: the first image token (0: no prefix worth sharing)."""
        types = inputs.get("mm_token_type_ids")
        if types is None or inputs["input_ids"].shape[0] != 1:
            return 0
        media = torch.nonzero(types[0]).flatten()
        if not media.numel():
            return 0
        split = int(media[0])
        return split if split >= MIN_PREFIX_TOKENS else 0

    def _whole(self, inputs: Any) -> Any:
        return self.model(**inputs, use_cache=True, logits_to_keep=1)

    def _prefix_cache(self, inputs: Any, split: int) -> tuple[Any, int]:
        """A copy of the cache of `inputs`' first `split` tokens, computed on first use; and the
        tokens computed for it (0 when it was stored)."""
        ids = inputs["input_ids"][:, :split]
        key = tuple(ids[0].tolist())
        cache, computed = self._caches.get(key), 0
        if cache is None:
            out = self.model(input_ids=ids, attention_mask=inputs["attention_mask"][:, :split],
                             use_cache=True, logits_to_keep=1)
            cache = cache_of(out)
            self._caches[key] = cache
            self.prefix_prefills += 1
            computed = split
            while len(self._caches) > self.capacity:
                self._caches.popitem(last=False)
        self._caches.move_to_end(key)
        return copy.deepcopy(cache), computed
