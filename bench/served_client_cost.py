"""docpipe's own CPU cost per page on the served path: encode, request, parse, validate, write.

    python bench/served_client_cost.py --pages 256 --in-flight 64

Both ways of handing pages over are measured side by side in one run: inside the request (a data
URL, --encoding, JPEG by default) and as files in a folder the server reads (--media-dir, PPM).

To isolate the client's cost, the server here is a stub (a plain HTTP server in another process
that answers every chat completion at once with the same canned answer: samples/ground_truth.json's
invoice for invoice_acme.pdf, compact JSON, one log-prob entry per 4 characters, as a real server
sends it). This is a benchmark of the client alone; the tests use a real vLLM server. Rendering is
done before the clock starts (both engines need it; bench/render_rate.py measures it).

Printed: the median and range over --repeat sittings (this machine's CPU time is noisy) of the
CPU milliseconds per page of the docpipe process (time.process_time, all its threads),
split into the request round trip (encode + HTTP + parse, engines/served/openai_engine.py), the rest of
the chunk (requests built, answers validated and merged) and writing the chunk's Parquet files;
and pages per second through the stub.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import re
import shutil
import statistics
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = "stub-model"


def canned_answer() -> bytes:
    truth = json.loads((ROOT / "samples" / "ground_truth.json").read_text())["invoice_acme.pdf"]["fields"]
    text = json.dumps(truth, separators=(",", ":"))
    pieces = [text[i:i + 4] for i in range(0, len(text), 4)]
    entries = [{"token": p, "logprob": -0.01, "bytes": list(p.encode()), "top_logprobs": []} for p in pieces]
    entries.append({"token": "<eos>", "logprob": 0.0, "bytes": list(b"<eos>"), "top_logprobs": []})
    answer = {
        "id": "stub", "object": "chat.completion", "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "logprobs": {"content": entries}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 400, "completion_tokens": len(entries), "total_tokens": 400 + len(entries)},
    }
    return json.dumps(answer).encode()


def serve_stub(port: int, ready) -> None:
    answer = canned_answer()
    models = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body in separate writes: no 40 ms delayed-ACK wait

        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._send(models)

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            for url in re.findall(rb'"url":"file://([^"]+)"', body):  # read as vLLM does
                try:
                    Path(url.decode()).read_bytes()
                except OSError:
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            self._send(answer)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.request_queue_size = 1024  # every client connection at once (the default is 5)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    ready.set()
    server.serve_forever()


@contextlib.contextmanager
def running_stub(port: int = 0):
    """The stub in a process of its own while the block runs: yields (its process, its /v1 URL)."""
    from docpipe.core.child_server import free_port

    port = port or free_port()
    ready = multiprocessing.Event()
    stub = multiprocessing.Process(target=serve_stub, args=(port, ready), daemon=True)
    stub.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the stub server did not start")
        yield stub, f"http://127.0.0.1:{port}/v1"
    finally:
        stub.terminate()
        stub.join()


def documents(folder: Path, count: int) -> None:
    """`count` distinct one-page PDFs (invoice_acme.pdf with a different trailing comment)."""
    source = (ROOT / "samples" / "invoice_acme.pdf").read_bytes()
    for i in range(count):
        (folder / f"doc{i:05d}.pdf").write_bytes(source + f"\n%bench {i}\n".encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=256)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--budget", type=int, default=280)
    parser.add_argument("--encoding", default="jpeg")
    parser.add_argument("--repeat", type=int, default=3, help="sittings per transport, taken in turn (median and range printed)")
    parser.add_argument("--port", type=int, default=0, help="stub port (0: a free one)")
    args = parser.parse_args(argv)
    from docpipe.core.child_server import free_port

    port = args.port or free_port()
    ready = multiprocessing.Event()
    stub = multiprocessing.Process(target=serve_stub, args=(port, ready), daemon=True)
    stub.start()
    ready.wait(30)
    work = Path(tempfile.mkdtemp(prefix="docpipe-client-cost-"))
    try:
        media = Path(tempfile.mkdtemp(prefix="docpipe-media-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
        rendered_by_key, sittings = {}, {"request": [], "files": []}
        for sitting in range(args.repeat):  # in turn, so a noisy minute disturbs both
            for transport in sittings:
                media_dir = media if transport == "files" else None
                sittings[transport].append(measure(args, port, work / f"{transport}{sitting}", media_dir, rendered_by_key))
        sample = next(iter(rendered_by_key.values())).usable_pages[0].image
        print(f"pages={args.pages} size={sample.width}x{sample.height} budget={args.budget} "
              f"in_flight={args.in_flight} sittings={args.repeat} date={time.strftime('%Y-%m-%d')}")
        names = {"request": f"pages in the request ({args.encoding})", "files": "pages as files (--media-dir, PPM)"}
        print("| median [range] | " + " | ".join(names[t] for t in sittings) + " |")
        print("|---|" + "---|" * len(sittings))
        for step in sittings["request"][0]:
            cells = []
            for runs in sittings.values():
                values = sorted(run[step] for run in runs)
                middle, bold = statistics.median(values), step.startswith("total")
                cell = f"{middle:.2f} [{values[0]:.2f}-{values[-1]:.2f}]" if "pages/s" not in step else f"{middle:.0f}"
                cells.append(f"**{cell}**" if bold else cell)
            print(f"| {step} | " + " | ".join(cells) + " |")
        shutil.rmtree(media, ignore_errors=True)
    finally:
        stub.terminate()
        stub.join()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def measure(args, port: int, work: Path, media_dir: Path | None, rendered_by_key: dict) -> dict[str, str]:
    """One transport's figures: the whole served path through `pipeline`, with the stub."""
    from docpipe.core.page_image import encoding
    from docpipe.engines.served.media_files import MediaFolder
    from docpipe.engines.served.openai_engine import OpenAIEngine
    from docpipe.engines.served.openai_server import check_servers
    from docpipe.ingest.discover import discover
    from docpipe.ingest.limits import RenderOptions
    from docpipe.ingest.render import render_document
    from docpipe.run import pipeline
    from docpipe.run.config import RunConfig
    from docpipe.schema.load import resolve_schema

    (work / "in").mkdir(parents=True)
    documents(work / "in", args.pages)
    config = RunConfig(input=work / "in", out=work / "out", schema_name="invoice", budget=args.budget,
                       engine="openai", base_urls=(f"http://127.0.0.1:{port}/v1",), image_encoding=args.encoding,
                       media_dir=media_dir)
    servers = check_servers(config.base_urls, MODEL, args.in_flight, media_dir)
    engine = OpenAIEngine(servers, image_encoding=args.encoding, media_dir=media_dir)
    run = pipeline.start_run(config, resolve_schema("invoice"), engine.name)
    items = pipeline.plan(run, discover(config.input)).pending
    rendered = [render_document(i.source, args.budget, RenderOptions()) for i in items]
    rendered_by_key.update({i.key: d for i, d in zip(items, rendered)})
    pages = sum(len(d.usable_pages) for d in rendered)

    started = time.process_time()
    if media_dir is None:
        enc = encoding(args.encoding)
        for doc in rendered:
            enc.data_url(doc.usable_pages[0].image)
    else:
        folder = MediaFolder(media_dir)
        for doc in rendered:
            folder.write(1, 0, doc.usable_pages[0].image)
        folder.remove_all()
    encode_ms = 1000 * (time.process_time() - started) / pages

    infer_cpu = [0.0]

    def infer(requests):
        begun = time.process_time()
        answers = engine.generate(requests)
        infer_cpu[0] += time.process_time() - begun
        return answers

    warm = pipeline.ChunkState(list(items[:8]), seq=1)  # imports, compiled patterns, connections
    pipeline.answer_chunk(run, warm, lambda r, t, b: rendered[:8], engine.generate)
    state = pipeline.ChunkState(list(items))
    wall, cpu = time.perf_counter(), time.process_time()
    pipeline.answer_chunk(run, state, lambda r, t, b: rendered, infer)
    answered = time.process_time()
    stats = pipeline.RunStats()
    pipeline.write_chunk(run, state, stats)
    cpu_end, wall_end = time.process_time(), time.perf_counter()
    engine.close()
    assert stats.records_valid == pages, f"{stats.records_valid} of {pages} records valid"
    if media_dir is not None:
        assert not list(media_dir.iterdir()), "page files left behind"
    per = 1000 / pages
    return {
        "request round trip, CPU ms/page (page out + HTTP + parse)": infer_cpu[0] * per,
        "of which the page alone (encode, or write the file)": encode_ms,
        "build requests, validate and merge answers": (answered - cpu - infer_cpu[0]) * per,
        "write the chunk's Parquet files": (cpu_end - answered) * per,
        "total client CPU, ms/page": (cpu_end - cpu) * per,
        "pages/s through the stub (wall)": pages / (wall_end - wall),
    }


if __name__ == "__main__":
    raise SystemExit(main())
