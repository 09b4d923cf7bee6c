"""The served engine: requests go to one or more OpenAI-compatible servers (vLLM, started by
`docpipe serve-model`), many at once.

Each server gets its own pool of worker threads (its in-flight limit, by default twice
serve-model's `--max-num-seqs`, so its scheduler always has the next requests queued); they all take
requests from one queue, so a faster server takes more of them. A request that fails for good
(after the back-off and retries of engines/openai_server.py) becomes a RawGeneration with
finish reason "error": its document is recorded as model_error and read again by the next run,
while the others go on.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence

import httpx

from docpipe.core.types import ModelRequest, RawGeneration
from docpipe.engines.checkpoints import ModelChoice
from docpipe.engines.image_encoding import DEFAULT_ENCODING, encoding
from docpipe.engines.openai_messages import failed, parse_answer, request_body
from docpipe.engines.openai_server import RequestFailed, Retry, ServerInfo, post_with_retry


class OpenAIEngine:
    def __init__(self, servers: Sequence[ServerInfo], retry: Retry | None = None,
                 image_encoding: str = DEFAULT_ENCODING, extra_body: dict | None = None):
        """`servers` as engines.openai_server.check_servers returns them (checked at start);
        `extra_body` adds fields to every request (benchmarks force the answer's length with
        vLLM's min_tokens and ignore_eos)."""
        if not servers:
            raise ValueError("the served engine needs at least one server")
        self.servers = tuple(servers)
        self.name = servers[0].model
        self.choice = ModelChoice(self.name, servers[0].url, "served by " + ", ".join(s.url for s in servers))
        self.retry = retry or Retry()
        self.encoding = encoding(image_encoding)
        self.extra_body = dict(extra_body or {})
        self._clients: dict[str, httpx.Client] = {}  # one connection pool per server, made on first use

    def _client(self, server: ServerInfo) -> httpx.Client:
        if server.url not in self._clients:  # creating one costs ~0.1-0.7 s (TLS set-up): once per run
            limits = httpx.Limits(max_connections=server.max_in_flight, max_keepalive_connections=server.max_in_flight)
            self._clients[server.url] = httpx.Client(limits=limits)
        return self._clients[server.url]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def queue_depth(self) -> int:
        """Every server's requests in flight, so each keeps its batch full."""
        return sum(server.max_in_flight for server in self.servers)

    def generate(self, requests: Sequence[ModelRequest]) -> list[RawGeneration]:
        results: list[RawGeneration | None] = [None] * len(requests)
        work: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(requests)):
            work.put(index)
        threads = []
        for server in self.servers:
            client = self._client(server)
            for _ in range(min(server.max_in_flight, len(requests))):
                thread = threading.Thread(target=self._worker, args=(server, client, requests, work, results), daemon=True)
                thread.start()
                threads.append(thread)
        for thread in threads:
            thread.join()
        return [r if r is not None else failed(q, "not answered") for r, q in zip(results, requests)]

    def _worker(self, server: ServerInfo, client: httpx.Client, requests: Sequence[ModelRequest],
                work: queue.SimpleQueue[int], results: list[RawGeneration | None]) -> None:
        while True:
            try:
                index = work.get_nowait()
            except queue.Empty:
                return
            results[index] = self.answer(server, client, requests[index])

    def answer(self, server: ServerInfo, client: httpx.Client, request: ModelRequest) -> RawGeneration:
        """One request, never raising: a failure is the generation's error."""
        started = time.perf_counter()
        try:
            body = {**request_body(request, server.model, self.encoding), **self.extra_body}
            answer = post_with_retry(client, server.url, body, self.retry)
            return parse_answer(request, answer, time.perf_counter() - started)
        except RequestFailed as exc:
            return failed(request, str(exc), time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - a malformed answer fails its request alone
            return failed(request, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
