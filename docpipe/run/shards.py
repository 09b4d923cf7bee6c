"""Which documents a run owns: shards by content hash, and files settled long enough to read.

`docpipe submit --shards N` starts N runs over one folder; run i owns the documents whose content
hash, as a number, is i modulo N. The split needs no coordination, is stable across reruns (a
file keeps its shard wherever it is copied), and copies of one file fall into one shard, where
they are read once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from docpipe.core.types import SourceDocument


def shard_of(doc_id: str, count: int) -> int:
    return int(doc_id[:16], 16) % count


def in_shard(documents: Sequence[SourceDocument], index: int, count: int) -> list[SourceDocument]:
    if count == 1:
        return list(documents)
    return [d for d in documents if shard_of(d.doc_id, count) == index]


def settled(documents: Sequence[SourceDocument], seconds: float) -> tuple[list[SourceDocument], list[SourceDocument]]:
    """(ready, still being written): a file is still being written when its size changed since it
    was hashed, or it was modified less than `seconds` ago. Such a file waits for the next run."""
    ready, waiting = [], []
    now = time.time()
    for doc in documents:
        try:
            stat = doc.path.stat()
        except OSError:
            ready.append(doc)  # gone or unreadable: discover's row says so
            continue
        if doc.failure is None and (stat.st_size != doc.size_bytes or now - stat.st_mtime < seconds):
            waiting.append(doc)
        else:
            ready.append(doc)
    return ready, waiting
