"""Peak memory of a whole `docpipe run`, as a user starts it: the CLI process, the temporary
Prefect server it starts, the render workers, every process under it, on a folder answered by the
instant stub server of bench/served_client_cost.py (not counted).

    python bench/scale.py --sizes 20000 --scans 40 --work /tmp/scalework    # makes the folder
    python bench/cli_memory.py /tmp/scalework/docs-20000-scans-40x27/base

Every 0.2 s it sums the proportional set size (PSS: a page shared by n processes counts 1/n in
each) of the process tree under `docpipe run`, and keeps the peak of the sum and of each kind of
process (the run, the Prefect server, render workers: by command line). It prints those and the
run's exit status and seconds, and writes them as JSON to --results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from served_client_cost import MODEL, running_stub  # bench/served_client_cost.py

from bench.tiny_vllm import commit, write_result  # noqa: E402

SAMPLE_SECONDS = 0.2


def kind(process) -> str:
    """What a process of the tree is, from its command line."""
    line = " ".join(process.cmdline())
    if "prefect" in line and "server" in line or "uvicorn" in line:
        return "prefect server"
    if process.pid == os.getpid():
        return "bench"
    if "docpipe" in line and " run " in f" {line} ":
        return "run"
    return "worker or helper"


class PeakPss(threading.Thread):
    def __init__(self, root_pid: int):
        super().__init__(daemon=True)
        self.root_pid, self.stopping = root_pid, threading.Event()
        self.peak_total = 0
        self.peak_by_kind: dict[str, int] = {}
        self.at_peak: dict[str, int] = {}

    def sample(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.root_pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        by_kind: dict[str, int] = {}
        for process in tree:
            try:
                pss = process.memory_full_info().pss
                name = kind(process)
            except psutil.Error:
                continue
            by_kind[name] = by_kind.get(name, 0) + pss
        total = sum(by_kind.values())
        if total > self.peak_total:
            self.peak_total, self.at_peak = total, by_kind
        for name, pss in by_kind.items():
            self.peak_by_kind[name] = max(self.peak_by_kind.get(name, 0), pss)

    def run(self) -> None:
        while not self.stopping.wait(SAMPLE_SECONDS):
            self.sample()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="the documents to read")
    parser.add_argument("--budget", type=int, default=560)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "cli_memory")
    args = parser.parse_args(argv)

    documents = sum(1 for _ in args.folder.iterdir())
    with running_stub() as (_, url), tempfile.TemporaryDirectory(prefix="docpipe-cli-memory-") as out:
        command = [str(Path(sys.executable).parent / "docpipe"), "run", str(args.folder), "--schema", "invoice",
                   "--out", out, "--engine", "openai", "--base-url", url, "--model", MODEL,
                   "--budget", str(args.budget)]
        began = time.perf_counter()
        run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        sampler = PeakPss(run.pid)
        sampler.start()
        _, errors = run.communicate()
        seconds = time.perf_counter() - began
        sampler.stopping.set()
    mib = 2**20
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "commit": commit(), "host": platform.node(),
        "cpus": os.cpu_count(), "folder": str(args.folder), "documents": documents, "budget": args.budget,
        "exit_status": run.returncode, "seconds": seconds,
        "peak_pss_mib": sampler.peak_total / mib,
        "at_the_peak_mib": {k: v / mib for k, v in sampler.at_peak.items()},
        "peak_by_kind_mib": {k: v / mib for k, v in sampler.peak_by_kind.items()},
        "stderr_tail": errors[-2000:],
    }
    print(f"docpipe run on {documents} files: exit {run.returncode} in {seconds:.0f} s")
    print(f"peak PSS of the process tree: {result['peak_pss_mib']:.0f} MiB")
    for name in sorted(result["peak_by_kind_mib"]):
        print(f"  {name:18} at the peak {result['at_the_peak_mib'].get(name, 0):6.0f} MiB, "
              f"its own peak {result['peak_by_kind_mib'][name]:6.0f} MiB")
    write_result(args.results, result)
    return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
