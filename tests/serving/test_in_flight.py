"""Requests in flight follow the server's own limit, read from its /metrics: twice what it runs at
once (this server: --max-num-seqs 16), from above and from below; --max-in-flight fixes it."""

from __future__ import annotations

import time

import urllib3
from PIL import Image

from docpipe.core.types import ModelRequest
from docpipe.engines.served.in_flight import InFlightWindow
from docpipe.engines.served.openai_engine import OpenAIEngine
from docpipe.engines.served.openai_server import ServerInfo, check_servers
from docpipe.engines.served.server_load import Load, metrics_url, parse_metrics

FORCED = {"ignore_eos": True}  # with min_tokens: every answer as long as asked


def _requests(count: int, tokens: int = 48) -> list[ModelRequest]:
    page = Image.new("RGB", (224, 224), "white")
    return [ModelRequest(f"d{i}", (page,), f"Page {i}.", 70, tokens, None, (1,)) for i in range(count)]


def test_the_servers_metrics_say_what_runs_and_waits(vllm_server):
    text = urllib3.request("GET", metrics_url(vllm_server.base_url), timeout=10).data.decode()
    assert parse_metrics(text) == Load(running=0, waiting=0)  # idle, and both counts published


def test_the_window_settles_at_twice_the_servers_batch_from_above_and_below(vllm_server):
    # long answers, so that the server is full (and requests wait) for several of the window's
    # looks at /metrics (every 0.5 s). From above, one look at a full server settles it. From
    # below, the window doubles only at a look where (nearly) every request of its window is
    # running and none waits: on a loaded host such looks are rarer, so calls go on (the window
    # carries over) until it has settled or five minutes have passed. (When every request had to
    # be running, none still in the server's front end, this took 133-191 s on a loaded 2-core
    # host; with an eighth of the window allowed on its way, 9 s.)
    for start, requests in ((256, 48), (4, 64)):
        server = ServerInfo(vllm_server.base_url, "tiny-random", start, fixed_in_flight=False)
        engine = OpenAIEngine([server], extra_body=FORCED | {"min_tokens": 160})
        window = engine.windows[server.url]
        deadline = time.monotonic() + 300
        while window.busiest != vllm_server.max_num_seqs and time.monotonic() < deadline:
            answers = engine.generate(_requests(requests, 160))
            assert all(a.error is None for a in answers), [a.error for a in answers if a.error][:3]
        engine.close()
        assert window.busiest == vllm_server.max_num_seqs, (start, window)
        assert window.limit == 2 * vllm_server.max_num_seqs, (start, window)
        assert engine.queue_depth() == 2 * window.limit


def test_max_in_flight_fixes_the_window(vllm_server):
    [server] = check_servers((vllm_server.base_url,), "tiny-random", 3)
    engine = OpenAIEngine([server], extra_body=FORCED | {"min_tokens": 48})
    assert all(a.error is None for a in engine.generate(_requests(12)))
    assert engine.windows[server.url].limit == 3 and not engine.windows[server.url].adaptive


def test_the_window_rules():
    window = InFlightWindow(256)
    window.observe(Load(running=10, waiting=246), ours=256)  # still admitting: a floor, not the limit
    assert window.limit == 20
    window.observe(Load(running=16, waiting=4), ours=20)
    assert window.limit == 32
    window.observe(Load(running=12, waiting=2), ours=14)  # fewer running later: the limit stays
    assert window.limit == 32
    window.observe(None, ours=32)  # no metrics this time
    assert window.limit == 32
    grow = InFlightWindow(8)
    grow.observe(Load(running=8, waiting=0), ours=8)  # all ours run and none wait: room for more
    assert grow.limit == 16
    grow.observe(Load(running=5, waiting=0), ours=5)  # a chunk's tail: no reason to grow
    assert grow.limit == 16
    # metrics that lag (a busy host; requests still in the server's front end): the server shows
    # fewer running than docpipe has sent, and nothing waiting yet: no sign of room, no growth
    grow.observe(Load(running=4, waiting=0), ours=16)
    assert grow.limit == 16
    # requests that replace finished ones are in the server's front end for a moment: with one of
    # sixteen (or eight of sixty-four) on its way, and none waiting, there is still room
    grow.observe(Load(running=15, waiting=0), ours=16)
    assert grow.limit == 32
    busy = InFlightWindow(64)
    busy.observe(Load(running=56, waiting=0), ours=64)
    assert busy.limit == 128
    busy.observe(Load(running=100, waiting=0), ours=128)  # 28 on their way: more than an eighth
    assert busy.limit == 128
    fixed = InFlightWindow(3, adaptive=False)
    fixed.observe(Load(running=3, waiting=0), ours=3)
    assert fixed.limit == 3
