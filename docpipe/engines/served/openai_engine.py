"""The served engine: requests go to one or more OpenAI-compatible servers (vLLM, started by
`docpipe serve-model`), many at once.

Each server has its own lane: a connection pool and worker threads, as many as its in-flight
window (engines/served/in_flight.py: twice what the server runs at once, read from its /metrics while a
call is under way, unless --max-in-flight fixes it). All lanes take requests from one queue, so a
faster server takes more of them. A request that fails for good (after the back-off and retries of
engines/served/openai_server.py) becomes a RawGeneration with finish reason "error": its document is
recorded as model_error and read again by the next run, while the others go on.

A server that cannot be reached (down, restarting) is another matter: its lane puts the request
back and closes for the rest of the call, so the other servers take its work. When no server is
left, `generate` raises EngineUnreachable with the answers it got; the pipeline keeps them and
Prefect retries the chunk with back-off (`--engine-retries`), asking only for the rest.

Page images travel inside the request (a data URL, core/page_image.py), or, with
--media-dir, as files on the server's host (engines/served/media_files.py).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import urllib3

from docpipe.core.errors import EngineUnreachable
from docpipe.core.types import ModelRequest, RawGeneration
from docpipe.engines.checkpoints import ModelChoice
from docpipe.core.page_image import DEFAULT_ENCODING, as_pil, data_url, encoding
from docpipe.engines.served.in_flight import CEILING, InFlightWindow
from docpipe.engines.served.media_files import MediaFolder
from docpipe.engines.served.openai_messages import failed, parse_answer, request_body
from docpipe.engines.served.openai_server import (
    RequestFailed,
    Retry,
    ServerInfo,
    ServerUnreachable,
    connection_pool,
    headers,
    post_with_retry,
)
from docpipe.engines.served.server_load import read_load

WATCH_SECONDS = 0.5  # how often a lane reads its server's load during a call


class OpenAIEngine:
    def __init__(self, servers: Sequence[ServerInfo], retry: Retry | None = None,
                 image_encoding: str = DEFAULT_ENCODING, extra_body: dict | None = None,
                 media_dir: Path | None = None):
        """`servers` as engines.served.openai_server.check_servers returns them (checked at start);
        `extra_body` adds fields to every request (benchmarks force the answer's length with
        vLLM's min_tokens and ignore_eos); `media_dir`: pages go as files there (check_servers
        has checked that every server reads them)."""
        if not servers:
            raise ValueError("the served engine needs at least one server")
        self.servers = tuple(servers)
        self.name = servers[0].model
        self.choice = ModelChoice(self.name, servers[0].url, "served by " + ", ".join(s.url for s in servers))
        self.retry = retry or Retry()
        self.encoding = encoding(image_encoding)
        self.extra_body = dict(extra_body or {})
        self.media = MediaFolder(media_dir) if media_dir is not None else None
        self.windows = {s.url: InFlightWindow(s.max_in_flight, adaptive=not s.fixed_in_flight) for s in servers}
        self._pools: dict[str, urllib3.HTTPConnectionPool] = {}

    def _pool(self, server: ServerInfo) -> urllib3.HTTPConnectionPool:
        if server.url not in self._pools:
            self._pools[server.url] = connection_pool(server.url, CEILING)
        return self._pools[server.url]

    def holds_gpu(self) -> bool:
        return False  # the model is the servers'

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        if self.media is not None:
            self.media.remove_all()

    def notes(self) -> list[str]:
        """A line per server for the end of a run, when there is something to say: the requests
        kept in flight and why (a server never seen full sent the run nothing to learn from:
        nothing is said of it)."""
        lines = []
        for url, window in self.windows.items():
            if not window.adaptive:
                lines.append(f"{url}: {window.limit} requests in flight (--max-in-flight)")
            elif window.busiest:
                lines.append(f"{url}: {window.limit} requests in flight, twice the {window.busiest} it ran at once "
                             "(read from its /metrics; --max-in-flight sets it)")
        return lines

    def queue_depth(self) -> int:
        """Twice every server's window: a chunk's last requests then leave the servers' batches
        full for most of the chunk (the next chunk's requests cannot refill them)."""
        return 2 * sum(window.limit for window in self.windows.values())

    def generate(self, requests: Sequence[ModelRequest]) -> list[RawGeneration]:
        """One generation per request; raises EngineUnreachable (with the answers it has) when
        some requests could reach no server."""
        results: list[RawGeneration | None] = [None] * len(requests)
        work: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(requests)):
            work.put(index)
        call = _Call(requests, results, work)
        call.lanes = [_Lane(self, server, call) for server in self.servers]
        for lane in call.lanes:
            lane.start()
        call.finished.wait()
        for lane in call.lanes:
            lane.join()
        if call.unreachable and any(r is None for r in results):
            missing = sum(r is None for r in results)
            raise EngineUnreachable(
                f"no server could be reached for {missing} of {len(requests)} requests: "
                + "; ".join(call.unreachable.values()), answered=results)
        return [r if r is not None else failed(q, "not answered") for r, q in zip(results, requests)]

    def answer(self, server: ServerInfo, pool: urllib3.HTTPConnectionPool, request: ModelRequest) -> RawGeneration:
        """One request: a failure is the generation's error, except a server that could not be
        reached (ServerUnreachable is raised: the request is for another server or attempt)."""
        started = time.perf_counter()
        slot = self.media.take() if self.media is not None else None
        try:
            if slot is not None:
                urls = [MediaFolder.url(self.media.write(slot, i, as_pil(image))) for i, image in enumerate(request.images)]
            else:  # pages the render workers encoded already go as they are
                urls = [data_url(image, self.encoding) for image in request.images]
            body = {**request_body(request, server.model, urls), **self.extra_body}
            answer = post_with_retry(pool, server.url, body, self.retry)
            return parse_answer(request, answer, time.perf_counter() - started)
        except ServerUnreachable:
            raise
        except RequestFailed as exc:
            return failed(request, str(exc), time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - a malformed answer fails its request alone
            return failed(request, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
        finally:
            if slot is not None:
                self.media.give(slot)


class _Call:
    """One generate call's requests, answers and work queue, shared by the lanes."""

    def __init__(self, requests: Sequence[ModelRequest], results: list, work: queue.SimpleQueue[int]):
        self.requests, self.results, self.work = requests, results, work
        self.lanes: list[_Lane] = []
        self.unreachable: dict[str, str] = {}  # server url -> why, for the lanes closed in this call
        self.left = len(requests)
        self.lock = threading.Lock()
        self.finished = threading.Event()
        if not requests:
            self.finished.set()

    def done_one(self) -> None:
        with self.lock:
            self.left -= 1
            if self.left == 0:
                self.finished.set()

    def give_back(self, lane: _Lane, index: int, why: str) -> None:
        """`lane`'s server could not be reached for request `index`: the request goes back to the
        queue and the lane closes; the lanes left take it, or, when none is left, the call ends."""
        with self.lock:
            self.work.put(index)
            lane.closed = True
            self.unreachable[lane.server.url] = why
            open_lanes = [other for other in self.lanes if not other.closed]
            if not open_lanes:
                self.finished.set()
        for other in open_lanes:
            other.wake()


class _Lane:
    """One server's workers during a call: as many threads as its window, which a watcher thread
    adjusts from the server's load (more threads when the window grows; when it shrinks, a
    thread over the window stops after its request)."""

    def __init__(self, engine: OpenAIEngine, server: ServerInfo, call: _Call):
        self.engine, self.server, self.call = engine, server, call
        self.window = engine.windows[server.url]
        self.pool = engine._pool(server)
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.watcher: threading.Thread | None = None
        self.workers = 0  # threads taking requests now
        self.busy = 0  # requests in flight now
        self.closed = False  # its server could not be reached: it takes no more requests in this call

    def start(self) -> None:
        self._grow()
        if self.window.adaptive:
            self.watcher = threading.Thread(target=self._watch, daemon=True)
            self.watcher.start()

    def join(self) -> None:
        if self.watcher is not None:
            self.watcher.join()  # then no thread is added any more
        for thread in self.threads:
            thread.join()

    def wake(self) -> None:
        """Requests were given back by a closed lane: take them (threads may have ended on an
        empty queue)."""
        self._grow()

    def _grow(self) -> None:
        with self.lock:
            if self.closed:
                return
            wanted = min(self.window.limit, self.call.work.qsize()) - self.workers
            for _ in range(max(0, wanted)):
                self.workers += 1
                thread = threading.Thread(target=self._work, daemon=True)
                thread.start()
                self.threads.append(thread)

    def _work(self) -> None:
        call = self.call
        while True:
            with self.lock:
                if self.closed or self.workers > self.window.limit:
                    self.workers -= 1
                    return
                try:
                    index = call.work.get_nowait()
                except queue.Empty:
                    self.workers -= 1
                    return
                self.busy += 1
            try:
                call.results[index] = self.engine.answer(self.server, self.pool, call.requests[index])
            except ServerUnreachable as exc:
                with self.lock:
                    self.busy -= 1
                call.give_back(self, index, str(exc))
                continue
            with self.lock:
                self.busy -= 1
            call.done_one()

    def _watch(self) -> None:
        with connection_pool(self.server.url, 1) as metrics:
            while not self.call.finished.wait(WATCH_SECONDS) and not self.closed:
                load = read_load(metrics, self.server.url, headers())
                with self.lock:
                    self.window.observe(load, self.busy)
                self._grow()
