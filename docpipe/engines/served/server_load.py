"""How busy a served engine is, read from its Prometheus `/metrics`: the requests it is decoding
now and those queued behind them. vLLM publishes `vllm:num_requests_running` and
`vllm:num_requests_waiting` (summed over its engines), SGLang `sglang:num_running_reqs` and
`sglang:num_queue_reqs`. A server without them gives None: its in-flight limit then stays fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import urllib3
from urllib3.exceptions import HTTPError

RUNNING = frozenset({"vllm:num_requests_running", "sglang:num_running_reqs"})
WAITING = frozenset({"vllm:num_requests_waiting", "sglang:num_queue_reqs"})


@dataclass(frozen=True)
class Load:
    running: int  # requests being decoded now (at most the server's batch: vLLM's --max-num-seqs)
    waiting: int  # requests it holds but has no room for yet


def parse_metrics(text: str) -> Load | None:
    """The running and waiting counts in a Prometheus text exposition (read by prometheus_client's
    own parser), or None without them."""
    from prometheus_client.parser import text_string_to_metric_families

    running = waiting = 0.0
    seen = False
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in RUNNING:
                    running, seen = running + sample.value, True
                elif sample.name in WAITING:
                    waiting, seen = waiting + sample.value, True
    except ValueError:  # not an exposition prometheus_client can read
        return None
    return Load(int(running), int(waiting)) if seen else None


def metrics_url(api_url: str) -> str:
    """`http://host:port/v1` -> `http://host:port/metrics`."""
    return api_url.removesuffix("/v1") + "/metrics"


def read_load(pool: urllib3.HTTPConnectionPool, api_url: str, headers: dict[str, str]) -> Load | None:
    """The server's load now, or None when it publishes none (or does not answer)."""
    try:
        response = pool.request("GET", metrics_url(api_url), headers=headers, timeout=5.0)
    except (HTTPError, OSError):
        return None
    if response.status != 200:
        return None
    return parse_metrics(response.data.decode("utf-8", errors="replace"))
