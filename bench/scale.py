"""Scale: what a run costs as the folder grows, and whether a rerun costs what is new or what is there.

    python bench/scale.py                                   # N = 100, 1000, 10000
    python bench/scale.py --sizes 100,1000,10000,100000 --simulate-to 1000000 --plot docs/scale.png

For each N, N distinct one-page invoice PDFs (one PyMuPDF template, a 7-digit number changed in
its uncompressed content stream, so every file has its own sha256; cached per N under --work) go
through docpipe's served engine (`--engine openai`, built by engines/factory.py as `docpipe run`
builds it) pointed at the instant stub server of bench/served_client_cost.py (a plain HTTP server
in another process that answers every request at once with one canned invoice). So what is
measured is docpipe itself: the stub's CPU is not counted (it is reported beside, as the stub's).
The run is docpipe.run.protocol.execute with plain stages, as `docpipe run` does, with --budget
(560), --chunk (512 documents per chunk), --render-workers (docpipe's default, 2 processes) and
schema invoice. Python's imports and the stub's start are paid before the clock, by a warm-up run
of 4 documents: they are a process's, not a document's.

Measured for each N, into a fresh output folder:

- first run: wall seconds and documents/s; docpipe's CPU milliseconds per document by stage, from
  the Stages functions handed to execute, each wrapped (generically: *args/**kwargs) to add up
  time.thread_time() (the CPU of the thread that runs it), unless said otherwise:
    discover  the discover stage (list, stat, hash and sniff the files, OUT's file index); it and
              plan run before anything else of the run is in flight, so theirs is the whole
              process's CPU during the call (time.process_time, less the sampling thread's):
              that counts the threads discover hashes new files in;
    plan      the plan stage (read the documents table's finished work keys, the work keys);
    claim     the main thread between plan and the first chunk: the render pool's start, claiming
              every pending document (OUT/_claims), the check of what another run committed;
    render    the render stage in its thread (handing documents to the pool, getting pages back),
              plus the CPU of the render worker processes (user + system, read with psutil every
              50 ms while they live: they are idle after a run's last render, so nothing is lost
              at the end but what fits in 50 ms). The render pool is measured as docpipe runs it
              by default; --render-workers 0 renders in this process and shows what the pool's
              isolation costs (pages sent between processes: its IPC threads are in other);
    request   the engine's generate: the calling thread's CPU in the infer stage, plus every
              request's own thread (the engine's `answer`, wrapped on the engine object: the
              page's data URL, HTTP, the answer's parsing; where docpipe encodes pages as they
              are rendered, the JPEG encoding is render's);
    validate  the rest of the main thread from the first chunk on: requests built, answers
              validated and merged, chunk bookkeeping, the claims released at the end;
    write     the write stage in its thread (the chunk's Parquet files);
    other     the rest of the process's CPU (time.process_time(), all its threads, less the
              sampling thread's own): before discover (the lease, recovery of dead runs' files,
              the file index opened), the lease's renewal thread, the render pool's own IPC
              threads (documents out, pages back), the engine's load watcher;
  and total = the process's CPU + the render workers' CPU. Per-stage wall seconds are kept in the
  JSON too (threads overlap: they do not add up to the run's seconds).
- peak resident memory: the process's RSS plus its child processes' (the render pool's fork
  server and workers; not the stub), sampled every 50 ms (shared pages of the workers are counted
  once per process: an upper bound), and the main process's alone;
- a rerun with nothing new, and a rerun after 1% more documents (at least 1) were added: seconds
  (and the same CPU split, in the JSON);
- the Parquet files under the output folder and `docpipe.read_table(out, "invoice")` seconds,
  before and after `docpipe.output.compact.compact(out)` (its seconds too).

The figures are printed as a table (a column per N) and written as JSON to
--results/<UTC time>-cpu.json (bench/results/scale/ by default). --plot PATH draws CPU ms per
document by stage and the reruns' seconds against N (log x). --simulate-to M adds columns past the
largest measured N, up to M by powers of ten, marked "simulated": every total (seconds, CPU
seconds by stage, file and document counts) on the line a + b*N through its two largest measured
sizes (held at its last value where it fell between them; with one measured size, proportional to
N), documents/s and the per-document costs derived from those, memory held at its largest measured
value (a run holds at most three chunks, so memory is flat once N passes three chunks: 1536
documents at --chunk 512). They are not measurements: a cost that grows faster than N shows only
in measured columns.

This machine's CPU time is noisy and the stub shares its cores: read the split, not the third digit.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from render_memory import write_scans  # bench/render_memory.py
from served_client_cost import MODEL, serve_stub  # bench/served_client_cost.py

from docpipe.core.child_server import free_port

STAGES = ("discover", "plan", "claim", "render", "request", "validate", "write", "other")
PLACEHOLDER = "@@@@@@@"  # 7 digits: the document's number, in the template's invoice number and reference
WARMUP_DOCUMENTS = 4
SAMPLE_SECONDS = 0.05


# ---- the documents ---------------------------------------------------------------------------

def template() -> tuple[bytes, bytes]:
    """A one-page invoice PDF with its content stream uncompressed, and the placeholder as it is
    written there (hex glyphs): replacing it by as many other characters keeps every offset."""
    import pymupdf

    lines = [
        "ACME INDUSTRIAL SUPPLY CO.",
        "1200 Foundry Road, Suite 4, Springfield, IL 62704, USA",
        "",
        f"INVOICE   INV-2026-{PLACEHOLDER}",
        "Invoice date: 2026-03-03        Due date: 2026-04-02",
        "",
        "Bill to: Wile E. Coyote Enterprises LLC",
        "88 Mesa Vista Drive, Desert Flats, AZ 85001, USA",
        "",
        "Rocket-powered roller skates            2 x 349.00       698.00",
        "Giant rubber band, industrial grade     5 x 42.50        212.50",
        "Anvil, 100 lb cast iron                 1 x 219.99       219.99",
        "Assembly labour (hours)               3.5 x 85.00        297.50",
        "",
        "Subtotal 1,427.99     Tax 117.81     Total USD 1,545.80",
        f"Reference {PLACEHOLDER}",
    ]
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)  # A4
    page.insert_text((60, 80), "\n".join(lines), fontsize=11, fontname="helv")
    data = doc.tobytes(expand=255, garbage=0)  # streams uncompressed
    marker = PLACEHOLDER.encode().hex().encode()
    if data.count(marker) != 2:
        raise RuntimeError("the placeholder is not in the template's content stream as hex glyphs")
    return data, marker


def write_documents(folder: Path, numbers: range, data: bytes, marker: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        (folder / f"inv{number:07d}.pdf").write_bytes(data.replace(marker, f"{number:07d}".encode().hex().encode()))


def generated(work: Path, size: int, scans: int = 0, megapixels: float = 27.0) -> tuple[Path, Path]:
    """(N documents and `scans` large scans, 1% more), generated once per N under `work` (reused
    while the template and the counts are the same)."""
    data, marker = template()
    extra = max(1, size // 100)
    folder = work / (f"docs-{size}" + (f"-scans-{scans}x{megapixels:g}" if scans else ""))
    stamp = f"{hashlib.sha256(data).hexdigest()} {size} {extra} {scans} {megapixels}"
    done = folder / "complete"
    if not (done.is_file() and done.read_text() == stamp):
        shutil.rmtree(folder, ignore_errors=True)
        began = time.perf_counter()
        write_documents(folder / "base", range(size), data, marker)
        write_documents(folder / "extra", range(size, size + extra), data, marker)
        write_scans(folder / "base", scans, megapixels)
        done.write_text(stamp)
        print(f"generated {size} + {extra} documents in {folder} ({time.perf_counter() - began:.1f} s)", flush=True)
    return folder / "base", folder / "extra"


def link_all(source: Path, target: Path) -> int:
    """Hard links (a copy where links fail) of `source`'s files in `target`: a run's input folder."""
    target.mkdir(parents=True, exist_ok=True)
    names = os.listdir(source)
    for name in names:
        try:
            os.link(source / name, target / name)
        except OSError:
            shutil.copyfile(source / name, target / name)
    return len(names)


# ---- the measuring ---------------------------------------------------------------------------

class Sampler(threading.Thread):
    """RSS of this process and its children (not `exclude`), and the children's CPU, every 50 ms."""

    def __init__(self, exclude: set[int]):
        super().__init__(daemon=True, name="scale-sampler")
        import psutil

        self.me = psutil.Process()
        self.exclude = exclude
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.child_cpu: dict[int, float] = {}  # pid -> its last seen CPU seconds (user + system)
        self.peak = self.peak_main = self.peak_pss = 0

    def sample(self) -> None:
        import psutil

        rss = main = self.me.memory_info().rss
        pss = self.me.memory_full_info().pss
        seen = {}
        for child in self.me.children(recursive=True):
            if child.pid in self.exclude:
                continue
            try:
                with child.oneshot():
                    times, child_rss = child.cpu_times(), child.memory_info().rss
                    child_pss = child.memory_full_info().pss
            except psutil.Error:  # gone meanwhile
                continue
            seen[child.pid] = times.user + times.system
            rss, pss = rss + child_rss, pss + child_pss
        with self.lock:
            self.child_cpu.update(seen)
            self.peak, self.peak_main = max(self.peak, rss), max(self.peak_main, main)
            self.peak_pss = max(self.peak_pss, pss)

    def run(self) -> None:
        while not self.stopping.wait(SAMPLE_SECONDS):
            self.sample()

    def start_window(self) -> dict[int, float]:
        self.sample()
        with self.lock:
            self.peak, self.peak_main, self.peak_pss = 0, 0, 0
        self.sample()
        with self.lock:
            return dict(self.child_cpu)

    def end_window(self, start: dict[int, float]) -> tuple[float, int, int, int]:
        """(children's CPU seconds since `start`, peak RSS with children, peak RSS of this process,
        peak PSS with children: shared pages counted once over the tree)."""
        self.sample()
        with self.lock:
            cpu = sum(seconds - start.get(pid, 0.0) for pid, seconds in self.child_cpu.items())
            return cpu, self.peak, self.peak_main, self.peak_pss

    def own_cpu(self) -> float:
        """This thread's CPU seconds so far (read from another thread: Linux's per-thread clock)."""
        return time.clock_gettime(time.pthread_getcpuclockid(self.ident))


class StageClock:
    """CPU (time.thread_time of the calling thread) and wall seconds of wrapped calls, by name."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.wall: dict[str, float] = defaultdict(float)
        self.lock = threading.Lock()
        self.marks: dict[str, float] = {}  # main-thread CPU at moments of the run

    def timed(self, name: str, fn, mark: str | None = None, cpu_clock=time.thread_time):
        """`fn` wrapped: its CPU by `cpu_clock` (the calling thread's by default) and its wall
        seconds added to `name`; with `mark`, the calling thread's CPU at its end noted."""
        def wrapper(*args, **kwargs):
            cpu, wall = cpu_clock(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = cpu_clock() - cpu
                with self.lock:
                    self.cpu[name] += spent
                    self.wall[name] += time.perf_counter() - wall
                    if mark is not None:
                        self.marks[mark] = time.thread_time()

        return wrapper


def timed_stages(pool: ThreadPoolExecutor, clock: StageClock, process_cpu):
    """protocol.plain_stages with every stage function wrapped by `clock`: the render ahead and the
    write behind run, timed, in `pool`'s threads (as plain_stages runs them in its own pool).
    Discover and plan run before anything else of the run is in flight: they are timed by
    `process_cpu` (the whole process's), which counts the threads discover hashes files in."""
    from docpipe.run import pipeline, protocol

    defaults = protocol.Stages(render_ahead=None, write_behind=None)
    render_in_pool = clock.timed("render", pipeline.render)
    write_in_pool = clock.timed("write", protocol.write)

    def render_ahead(*args, **kwargs):
        with clock.lock:  # called by the main thread: the first call starts the first chunk
            clock.marks.setdefault("first_chunk", time.thread_time())
        return pool.submit(render_in_pool, *args, **kwargs)

    return dataclasses.replace(
        defaults,
        render_ahead=render_ahead,
        write_behind=lambda *args, **kwargs: pool.submit(write_in_pool, *args, **kwargs),
        discover=clock.timed("discover", defaults.discover, cpu_clock=process_cpu),
        plan=clock.timed("plan", defaults.plan, mark="plan_end", cpu_clock=process_cpu),
        render=clock.timed("render_main", defaults.render),  # later budget rounds (auto), main thread
        infer=clock.timed("infer_main", defaults.infer),
    )


def measured_run(config, schema, sampler: Sampler, stub_pid: int) -> dict:
    """One docpipe run of `config` (protocol.execute with timed plain stages), and its figures."""
    import psutil

    from docpipe.engines.factory import build_engine
    from docpipe.run import protocol
    from docpipe.run.progress import NoProgress

    engine = build_engine(config.model, config.batch_size, **config.engine_settings())
    clock = StageClock()
    engine.answer = clock.timed("request_threads", engine.answer)  # each request, in its own thread
    stub = psutil.Process(stub_pid)
    stub_before = sum(stub.cpu_times()[:2])
    children_before = sampler.start_window()
    sampler_before = sampler.own_cpu()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="docpipe-stage") as pool:
        stages = timed_stages(pool, clock, lambda: time.process_time() - sampler.own_cpu())
        wall, process, main_start = time.perf_counter(), time.process_time(), time.thread_time()
        result = protocol.execute(config, engine, NoProgress(), schema, stages)
        main_end, seconds = time.thread_time(), time.perf_counter() - wall
    process = time.process_time() - process - (sampler.own_cpu() - sampler_before)
    children, peak, peak_main, peak_pss = sampler.end_window(children_before)
    stub_cpu = sum(stub.cpu_times()[:2]) - stub_before
    engine.close()

    cpu, marks = clock.cpu, clock.marks
    stage = {
        "discover": cpu["discover"],
        "plan": cpu["plan"],
        "claim": 0.0,
        "render": cpu["render"] + cpu["render_main"] + children,
        "request": cpu["infer_main"] + cpu["request_threads"],
        "validate": 0.0,
        "write": cpu["write"],
    }
    if "first_chunk" in marks:  # main thread: plan's end -> first chunk -> the run's end
        stage["claim"] = marks["first_chunk"] - marks.get("plan_end", main_start)
        stage["validate"] = max(0.0, main_end - marks["first_chunk"] - cpu["infer_main"] - cpu["render_main"])
    stage["other"] = max(0.0, process - (sum(stage.values()) - children))
    stats = result.stats
    run = {
        "documents_found": stats.found,
        "documents_processed": stats.processed,
        "documents_already_done": stats.already_done,
        "records_valid": stats.records_valid,
        "seconds": seconds,
        "cpu_seconds": {**stage, "total": process + children, "process": process, "render_workers": children},
        "wall_seconds_by_stage": {"discover": clock.wall["discover"], "plan": clock.wall["plan"],
                                  "render (its thread)": clock.wall["render"], "request": clock.wall["infer_main"],
                                  "write (its thread)": clock.wall["write"]},
        "peak_rss_mib": peak / 2**20,
        "peak_rss_main_mib": peak_main / 2**20,
        "peak_pss_mib": peak_pss / 2**20,
        "stub_cpu_seconds": stub_cpu,
    }
    return with_rates(run)


def with_rates(run: dict) -> dict:
    """A run's figures with those derived from its counts, seconds and CPU seconds: documents/s,
    CPU ms per document processed (None when none was) and per document in the folder."""
    cpu, processed, found = run["cpu_seconds"], run["documents_processed"], run["documents_found"]
    run["documents_per_second"] = processed / run["seconds"] if run["seconds"] > 0 else 0.0
    for key, count in (("cpu_ms_per_document", processed), ("cpu_ms_per_document_in_folder", found)):
        run[key] = {name: 1000 * cpu[name] / count for name in STAGES} if count else None
        run[key + "_total"] = 1000 * cpu["total"] / count if count else None
    return run


def parquet_files(out: Path) -> int:
    return sum(1 for _ in out.rglob("*.parquet"))


def timed_read(out: Path) -> tuple[float, int]:
    import docpipe

    began = time.perf_counter()
    rows = len(docpipe.read_table(out, "invoice"))
    return time.perf_counter() - began, rows


def run_config(args, input_dir: Path, out: Path, url: str):
    from docpipe.run.config import RunConfig

    return RunConfig(input=input_dir, out=out, schema_name="invoice", model=MODEL, budget=args.budget,
                     chunk_size=args.chunk, engine="openai", base_urls=(url,), max_in_flight=args.in_flight,
                     render_workers=args.render_workers)


def one_size(args, size: int, work: Path, out_root: Path, url: str, stub_pid: int, sampler: Sampler,
             scans: int | None = None) -> dict:
    """N documents (and the large scans: --scans, unless `scans`): a first run, a rerun with
    nothing new, a rerun with 1% more, reads and compaction."""
    scans = args.scans if scans is None else scans
    from docpipe.output.compact import compact
    from docpipe.schema.load import resolve_schema

    base, extra = generated(work, size, scans, args.scan_megapixels)
    folder = out_root / f"scale-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    input_dir, out = folder / "input", folder / "out"
    link_all(base, input_dir)
    config, schema = run_config(args, input_dir, out, url), resolve_schema("invoice")
    print(f"N={size}: first run", flush=True)
    first = measured_run(config, schema, sampler, stub_pid)
    again = measured_run(config, schema, sampler, stub_pid)
    added = link_all(extra, input_dir)
    more = measured_run(config, schema, sampler, stub_pid)
    for name, run, processed in (("first run", first, size + scans), ("rerun", again, 0), ("rerun +1%", more, added)):
        if run["documents_processed"] != processed:
            raise RuntimeError(f"N={size}, {name}: {run['documents_processed']} documents processed, not {processed}")
    files_before = parquet_files(out)
    read_before, rows = timed_read(out)
    began = time.perf_counter()
    compact(out)
    compact_seconds = time.perf_counter() - began
    files_after = parquet_files(out)
    read_after, rows_after = timed_read(out)
    if not rows == rows_after == size + scans + added:
        raise RuntimeError(f"N={size}: read_table gave {rows} rows, then {rows_after}, not {size + scans + added}")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "documents": size, "scans": scans, "simulated": False, "documents_added": added,
        "first_run": first, "rerun_nothing_new": again, "rerun_one_percent_new": more,
        "read_table_rows": rows,
        "parquet_files_before_compact": files_before, "read_table_seconds_before_compact": read_before,
        "compact_seconds": compact_seconds,
        "parquet_files_after_compact": files_after, "read_table_seconds_after_compact": read_after,
    }


# ---- the extrapolation -----------------------------------------------------------------------

def _flatten(value, path=()):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, (*path, key))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path, value


def _put(target: dict, path: tuple, value) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


RUNS = ("first_run", "rerun_nothing_new", "rerun_one_percent_new")


def simulate(measured: list[dict], up_to: int) -> list[dict]:
    """Columns past the largest measured N, by powers of ten up to `up_to` (see the module's
    docstring): totals on a line through the two largest sizes, rates derived, memory held."""
    if not measured:
        return []
    ordered = sorted(measured, key=lambda m: m["documents"])
    targets, size = [], ordered[-1]["documents"]
    while size * 10 <= up_to:
        size *= 10
        targets.append(size)
    if up_to > ordered[-1]["documents"] and (not targets or targets[-1] != up_to):
        targets.append(up_to)
    n2, last = ordered[-1]["documents"], dict(_flatten(_totals(ordered[-1])))
    n1, before = (ordered[-2]["documents"], dict(_flatten(_totals(ordered[-2])))) if len(ordered) > 1 else (None, {})
    simulated = []
    for n in targets:
        entry: dict = {}
        for path, y2 in last.items():
            if any("rss" in str(key) for key in path):
                value = y2  # memory: held (at most three chunks in memory, whatever N)
            elif path in before:
                slope = (y2 - before[path]) / (n2 - n1)
                value = y2 + slope * (n - n2) if slope > 0 else y2
            else:
                value = y2 * n / n2
            _put(entry, path, round(value) if isinstance(y2, int) else value)
        entry["documents"], entry["simulated"] = n, True
        for run in RUNS:
            cpu = entry[run]["cpu_seconds"]
            cpu["total"] = sum(cpu[name] for name in STAGES)  # the stages' lines, added up
            cpu["process"] = cpu["total"] - cpu["render_workers"]
            with_rates(entry[run])
        simulated.append(entry)
    return simulated


def _totals(entry: dict) -> dict:
    """An entry without its derived figures (rates and per-document costs: derived again)."""
    derived = ("documents_per_second", "cpu_ms_per_document", "cpu_ms_per_document_in_folder")
    return {key: ({k: v for k, v in value.items() if not k.startswith(derived)} if key in RUNS else value)
            for key, value in entry.items()}


# ---- the report ------------------------------------------------------------------------------

ROWS = [
    ("first run: seconds", lambda e: e["first_run"]["seconds"], "{:.1f}"),
    ("first run: documents/s", lambda e: e["first_run"]["documents_per_second"], "{:.1f}"),
    *[(f"CPU ms/document: {name}", (lambda e, n=name: e["first_run"]["cpu_ms_per_document"][n]), "{:.2f}")
      for name in STAGES],
    ("CPU ms/document: total", lambda e: e["first_run"]["cpu_ms_per_document_total"], "{:.2f}"),
    ("  of which render workers", lambda e: 1000 * e["first_run"]["cpu_seconds"]["render_workers"]
     / max(1, e["first_run"]["documents_processed"]), "{:.2f}"),
    ("peak RSS MiB (with children)", lambda e: e["first_run"]["peak_rss_mib"], "{:.0f}"),
    ("peak RSS MiB (main process)", lambda e: e["first_run"]["peak_rss_main_mib"], "{:.0f}"),
    ("peak PSS MiB (with children)", lambda e: e["first_run"].get("peak_pss_mib", float("nan")), "{:.0f}"),
    ("rerun, nothing new: seconds", lambda e: e["rerun_nothing_new"]["seconds"], "{:.2f}"),
    ("  its discover / plan CPU s", lambda e: (e["rerun_nothing_new"]["cpu_seconds"]["discover"],
                                              e["rerun_nothing_new"]["cpu_seconds"]["plan"]), "{:.2f} / {:.2f}"),
    ("rerun, +1% new: documents", lambda e: e["documents_added"], "{:d}"),
    ("rerun, +1% new: seconds", lambda e: e["rerun_one_percent_new"]["seconds"], "{:.2f}"),
    ("  its discover / plan / claim CPU s", lambda e: tuple(e["rerun_one_percent_new"]["cpu_seconds"][k] for k in
                                                          ("discover", "plan", "claim")), "{:.2f} / {:.2f} / {:.2f}"),
    ("Parquet files before compact", lambda e: e["parquet_files_before_compact"], "{:d}"),
    ("read_table(invoice) s before", lambda e: e["read_table_seconds_before_compact"], "{:.3f}"),
    ("compact seconds", lambda e: e["compact_seconds"], "{:.2f}"),
    ("Parquet files after compact", lambda e: e["parquet_files_after_compact"], "{:d}"),
    ("read_table(invoice) s after", lambda e: e["read_table_seconds_after_compact"], "{:.3f}"),
]


def table(entries: list[dict]) -> str:
    heads = [f"{e['documents']:,}" + (" (simulated)" if e["simulated"] else "") for e in entries]
    lines = ["| figure | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(entries)]
    for label, get, fmt in ROWS:
        cells = []
        for entry in entries:
            value = get(entry)
            cells.append(fmt.format(*value) if isinstance(value, tuple) else fmt.format(value))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(entries: list[dict], path: Path, settings: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [e for e in entries if not e["simulated"]]
    simulated = [e for e in entries if e["simulated"]]
    figure, (cost, reruns) = plt.subplots(1, 2, figsize=(12, 4.5))

    def draw(axes, label, get, color):
        xs = [e["documents"] for e in measured]
        axes.plot(xs, [get(e) for e in measured], "o-", color=color, label=label)
        if simulated and measured:
            tail = [measured[-1], *simulated]
            axes.plot([e["documents"] for e in tail], [get(e) for e in tail], "o--", color=color,
                      markerfacecolor="none")

    colors = plt.get_cmap("tab10").colors
    for i, name in enumerate(STAGES):
        draw(cost, name, lambda e, n=name: e["first_run"]["cpu_ms_per_document"][n], colors[i % 10])
    draw(cost, "total", lambda e: e["first_run"]["cpu_ms_per_document_total"], "black")
    cost.set(xscale="log", xlabel="documents in the folder (N)", ylabel="CPU ms per document (first run)",
             title="docpipe's CPU per document, by stage")
    draw(reruns, "rerun, nothing new", lambda e: e["rerun_nothing_new"]["seconds"], colors[0])
    draw(reruns, "rerun, 1% new", lambda e: e["rerun_one_percent_new"]["seconds"], colors[1])
    draw(reruns, "read_table, before compact", lambda e: e["read_table_seconds_before_compact"], colors[2])
    reruns.set(xscale="log", yscale="log", xlabel="documents in the folder (N)", ylabel="seconds",
               title="reruns and reads")
    for axes in (cost, reruns):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    note = settings + ("; dashed, hollow: simulated (extrapolated)" if simulated else "")
    figure.suptitle(note, fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _git(*args: str) -> str | None:
    """A read-only git query about the tree measured (the commit, the files changed since)."""
    import subprocess

    try:
        done = subprocess.run(["git", *args], check=False, cwd=ROOT, capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


# ---- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    from docpipe.ingest.limits import DEFAULT_WORKERS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000", help="documents per folder, comma-separated")
    parser.add_argument("--budget", type=int, default=560)
    parser.add_argument("--chunk", type=int, default=512, help="documents per chunk (--chunk-size)")
    parser.add_argument("--render-workers", type=int, default=DEFAULT_WORKERS,
                        help="render processes (0: render in this process)")
    parser.add_argument("--in-flight", type=int, default=None, help="requests in flight (default: docpipe's)")
    parser.add_argument("--work", default=None, help="folder for the generated documents, reused by later runs "
                        "(default: a temporary folder, removed at the end)")
    parser.add_argument("--out", default=None, help="folder for the runs' input and output folders (default: WORK/runs)")
    parser.add_argument("--keep", action="store_true", help="keep each N's input and output folders")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results" / "scale"), help="folder for the JSON")
    parser.add_argument("--plot", default=None, help="write a PNG plot here")
    parser.add_argument("--simulate-to", type=int, default=None, help="extrapolate past the largest N up to this")
    parser.add_argument("--port", type=int, default=0, help="stub port (0: a free one)")
    parser.add_argument("--scans", type=int, default=0, help="large one-page scans added to each folder")
    parser.add_argument("--scan-megapixels", type=float, default=27.0,
                        help="pixels of each scan (27: a 25 MB JPEG of noise, as badly compressible as a colour scan)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 1:
        parser.error("--sizes: positive numbers, comma-separated")

    temporary = args.work is None
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="docpipe-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    out_root = Path(args.out) if args.out else work / "runs"
    port = args.port or free_port()
    ready = multiprocessing.Event()
    stub = multiprocessing.Process(target=serve_stub, args=(port, ready), daemon=True)
    stub.start()
    sampler = None
    try:
        if not ready.wait(30):
            raise RuntimeError("the stub server did not start")
        url = f"http://127.0.0.1:{port}/v1"
        sampler = Sampler({stub.pid})
        sampler.start()
        # imports, the render pool's fork server, the stub's first answers: before the clock
        one_size(args, WARMUP_DOCUMENTS, work, out_root / "warmup", url, stub.pid, sampler, scans=0)
        measured = [one_size(args, size, work, out_root, url, stub.pid, sampler) for size in sorted(set(sizes))]
    finally:
        if sampler is not None:
            sampler.stopping.set()
        stub.terminate()
        stub.join()
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
        elif not args.keep:
            shutil.rmtree(out_root, ignore_errors=True)

    simulated = simulate(measured, args.simulate_to) if args.simulate_to else []
    entries = measured + simulated
    settings = (f"budget {args.budget}, chunk {args.chunk}, render workers {args.render_workers}, "
                f"in flight {args.in_flight or 'default'}, schema invoice, served engine -> instant stub, "
                + (f"{args.scans} scans of {args.scan_megapixels:g} megapixels in each folder, " if args.scans else "")
                + f"{os.cpu_count()} CPUs")
    stamp = dt.datetime.now(dt.UTC)
    print(f"docpipe scale: {settings}, {stamp:%Y-%m-%d}")
    print(table(entries))
    if simulated:
        print("columns marked (simulated) are extrapolated from the two largest measured sizes, not measured")
    result = {
        "date": stamp.isoformat(timespec="seconds"),
        "command": "python bench/scale.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "commit": _git("rev-parse", "HEAD"),
        "changed_since_commit": (_git("diff", "--name-only", "HEAD") or "").split(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "memory_gib": _memory_gib()},
        "settings": {"budget": args.budget, "chunk_size": args.chunk, "render_workers": args.render_workers,
                     "scans": args.scans, "scan_megapixels": args.scan_megapixels,
                     "max_in_flight": args.in_flight, "schema": "invoice", "engine": "openai (stub server)",
                     "warmup_documents": WARMUP_DOCUMENTS, "sample_seconds": SAMPLE_SECONDS},
        "stages": list(STAGES),
        "sizes": measured,
        "simulated": simulated,
    }
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{stamp:%Y%m%dT%H%M%S}-cpu.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"figures: {path}")
    if args.plot:
        plot(entries, Path(args.plot), settings)
        print(f"plot: {args.plot}")
    return 0


def _memory_gib() -> float:
    import psutil

    return psutil.virtual_memory().total / 2**30


if __name__ == "__main__":
    raise SystemExit(main())
