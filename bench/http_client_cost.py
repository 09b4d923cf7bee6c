"""CPU cost of one chat-completion round trip through each Python HTTP client, side by side.

    python bench/http_client_cost.py --requests 1024 --threads 16 --body-kb 150

Why the served engine uses urllib3 (engines/served/openai_server.py): the same POST of a request-sized
body and the same answer (served_client_cost.py's stub and canned invoice answer) through httpx,
urllib3 and the standard library's http.client, each with its own kept-alive connection per
thread, `--threads` threads at once. Printed: CPU milliseconds per request of this process
(time.process_time, all threads; answer parsed with orjson) and requests per second.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import queue
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))


def clients(port: int, threads: int) -> dict:
    """name -> a factory of one thread's `post(body) -> answer`."""
    import httpx
    import orjson
    import urllib3

    path, headers = "/v1/chat/completions", {"Content-Type": "application/json"}
    httpx_client = httpx.Client(limits=httpx.Limits(max_connections=threads, max_keepalive_connections=threads))
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=threads, block=True, retries=False)

    def with_httpx():
        return lambda body: orjson.loads(httpx_client.post(f"http://127.0.0.1:{port}{path}", content=body,
                                                            headers=headers).content)

    def with_urllib3():
        return lambda body: orjson.loads(pool.urlopen("POST", path, body=body, headers=headers).data)

    def with_http_client():
        connection = http.client.HTTPConnection("127.0.0.1", port)

        def post(body):
            connection.request("POST", path, body=body, headers=headers)
            return orjson.loads(connection.getresponse().read())
        return post

    return {"httpx": with_httpx, "urllib3": with_urllib3, "http.client": with_http_client}


def measure(make, body: bytes, requests: int, threads: int) -> tuple[float, float]:
    work: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(requests):
        work.put(index)

    def worker():
        post = make()
        while True:
            try:
                work.get_nowait()
            except queue.Empty:
                return
            post(body)

    cpu, wall = time.process_time(), time.perf_counter()
    running = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return 1000 * (time.process_time() - cpu) / requests, requests / (time.perf_counter() - wall)


def main(argv: list[str] | None = None) -> int:
    import orjson
    from served_client_cost import serve_stub

    from docpipe.core.child_server import free_port

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--body-kb", type=int, default=150, help="request body size (a JPEG page as base64: ~150)")
    parser.add_argument("--repeat", type=int, default=3, help="sittings per client, taken in turn")
    args = parser.parse_args(argv)

    port, ready = free_port(), multiprocessing.Event()
    stub = multiprocessing.Process(target=serve_stub, args=(port, ready), daemon=True)
    stub.start()
    ready.wait(30)
    try:
        body = orjson.dumps({"model": "stub-model", "padding": "x" * (args.body_kb * 1024)})
        makers = clients(port, args.threads)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in makers}
        for name, make in makers.items():
            measure(make, body, args.threads * 4, args.threads)  # connections open, code warm
        for _ in range(args.repeat):
            for name, make in makers.items():
                results[name].append(measure(make, body, args.requests, args.threads))
        print(f"requests={args.requests} threads={args.threads} body={args.body_kb} KB sittings={args.repeat} "
              f"date={time.strftime('%Y-%m-%d')}")
        print("| client | CPU ms/request, median [range] | requests/s (median) |")
        print("|---|---|---|")
        for name, runs in results.items():
            cpu = sorted(r[0] for r in runs)
            rate = sorted(r[1] for r in runs)[len(runs) // 2]
            print(f"| {name} | {cpu[len(cpu) // 2]:.2f} [{cpu[0]:.2f}-{cpu[-1]:.2f}] | {rate:.0f} |")
    finally:
        stub.terminate()
        stub.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
