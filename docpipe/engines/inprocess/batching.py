"""Which requests share a generate call.

Requests in one batch share one visual budget (one processor call) and are padded to the longest
prompt, and every row decodes until the longest answer ends. So requests are grouped by budget
and number of images (same visual tokens per row), ordered by prompt length inside a group (little
padding), then cut into batches of at most `batch_size`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from docpipe.core.types import ModelRequest


def plan_batches(requests: Sequence[ModelRequest],
                 batch_size: int | Callable[[ModelRequest], int]) -> list[list[int]]:
    """Indices of `requests`, batch by batch; `batch_size` may depend on the request's shape."""
    size_of = batch_size if callable(batch_size) else (lambda _: batch_size)
    key = lambda i: (requests[i].budget, len(requests[i].images), len(requests[i].prompt), i)  # noqa: E731
    order = sorted(range(len(requests)), key=key)
    batches: list[list[int]] = []
    for index in order:
        request = requests[index]
        if batches:
            last = requests[batches[-1][0]]
            same_shape = (last.budget, len(last.images)) == (request.budget, len(request.images))
            if same_shape and len(batches[-1]) < max(1, size_of(last)):
                batches[-1].append(index)
                continue
        batches.append([index])
    return batches
