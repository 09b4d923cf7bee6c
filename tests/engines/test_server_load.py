"""A served engine's load, read from its Prometheus /metrics text: vLLM's counts summed over its
engines, SGLang's names too, other metrics ignored, and None when the counts are not there."""

from __future__ import annotations

from docpipe.engines.served.server_load import Load, parse_metrics

VLLM = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="tiny-random"} 12.0
vllm:num_requests_running{engine="1",model_name="tiny-random"} 4.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="tiny-random"} 7.0
vllm:num_requests_waiting{engine="1",model_name="tiny-random"} 0.0
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="tiny-random"} 123456.0
"""

SGLANG = """\
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="m"} 30
# TYPE sglang:num_queue_reqs gauge
sglang:num_queue_reqs{model_name="m"} 2
"""


def test_vllm_counts_are_summed_over_its_engines():
    assert parse_metrics(VLLM) == Load(running=16, waiting=7)


def test_sglang_names_are_read_too():
    assert parse_metrics(SGLANG) == Load(running=30, waiting=2)


def test_no_counts_or_no_exposition_gives_none():
    assert parse_metrics("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 3.5\n") is None
    assert parse_metrics("<html>not found</html>") is None
