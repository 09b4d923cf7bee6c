"""How many requests docpipe keeps in flight on one server, taken from the server's own limit.

vLLM does not publish its `--max-num-seqs` (only its development mode does), but its /metrics
show the limit at work: while requests wait, the number running is what the server can decode at
once (its batch, or fewer when its KV cache is full). The window keeps twice that in flight, so
the scheduler always has the next requests queued when a row finishes; while nothing waits and
(nearly) every request docpipe sent is running, the server has room for more, and the window
doubles. "Nearly": a request sent to replace one just finished is still in the server's front end
(its image decoded, its prompt tokenized) for a moment; with many in flight some always are, so
up to an eighth of the window (at least one) may be on its way.
`--max-in-flight` fixes the window instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from docpipe.engines.served.server_load import Load

CEILING = 4096  # requests in flight per server at most: each holds a page image in the server's memory


@dataclass
class InFlightWindow:
    limit: int  # requests in flight now
    adaptive: bool = True  # False: --max-in-flight was given
    ceiling: int = CEILING
    busiest: int = 0  # most requests the server was seen running while others waited

    def observe(self, load: Load | None, ours: int) -> None:
        """Adjust to the server's load; `ours`: docpipe's requests in flight on it now."""
        if not self.adaptive or load is None:
            return
        if load.waiting > 0 and load.running > 0:  # full: its limit is what it runs
            self.busiest = max(self.busiest, load.running)
            self._set(2 * self.busiest)
        elif load.waiting == 0 and ours >= self.limit and load.running >= ours - max(1, ours // 8):
            # nearly all of ours running and none waiting: it has room. (Far fewer running than
            # ours: many are not decoding yet, still in the server's front end, or its metrics lag
            # behind; that shows no room, and growing then overshoots. An overshoot is undone at
            # the next look at a full server: the window is then twice what it runs.)
            self._set(2 * self.limit)

    def _set(self, limit: int) -> None:
        self.limit = max(1, min(self.ceiling, limit))
