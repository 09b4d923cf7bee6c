"""The review page and the corrected reader on a real backlog: N invoice records (10^5 by default).

    python bench/review_scale.py                          # N = 100,000, as committed by runs (391 files)
    python bench/review_scale.py --compacted              # the same folder after `docpipe compact`
    python bench/review_scale.py --before <git rev>       # also the page as it was at that revision

The folder comes from bench/review_folder.py (seeded, built once under --work). Before the clock:
`reviewed` documents are marked done and `corrections` more values corrected through the page's own
API (as a reviewer's browser would), so the page and the reader apply real corrections. Then, with
the page served in-process (Starlette's test client: the whole app, guard, routing and HTML, no
socket), each figure is the median of --rounds requests, on 2 cores as they are:

  start        build the queue (the first read of the three tables), as `docpipe review` does before
               it prints its address
  index        GET /invoice/ (to review, least certain first, 50 a page), /?field=total&below=0.9,
               and the last page; `index after a write`: the first index after a correction file
               appeared (what a reviewer sees on going back)
  document     GET /invoice/doc/<id> of random documents (its record from its row group, its
               corrections applied, its page's HTML)
  correct      POST /api/invoice/correct (a value set: typed, written)
  read_table   docpipe.read_table(out, "invoice") and with corrected=True, alternating, the same
               rounds: what applying the corrections costs an analyst

With --before REV, afterwards, the same folder (its corrections included) is served by the page of
that revision (git worktree, in a subprocess, its own old API: no token, one schema), its index and
a document timed the same way (median of 3), and its read_table with and without corrected=True.
Figures print as a table and go as JSON to --results (bench/results/review_scale/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.review_folder import build  # noqa: E402


def _median_ms(call, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def measure(out: Path, rounds: int, reviewed: int, corrections: int, seed: int) -> dict:
    from starlette.testclient import TestClient

    from docpipe import read_table
    from docpipe.review.app import build_review, review_app
    from docpipe.review.guard import loopback_hosts
    from docpipe.schema.load import resolve_schema

    schema = resolve_schema("invoice")
    figures: dict[str, float | int] = {}
    started = time.perf_counter()
    review = build_review(out, [schema], "bench", "csrf")
    for backlog in review.backlogs.values():
        backlog.frame()
    figures["start_ms"] = round((time.perf_counter() - started) * 1000, 1)
    client = TestClient(review_app(review, "token", "cookie", loopback_hosts(8000)), base_url="http://127.0.0.1:8000")
    client.headers["Authorization"] = "token token"
    write = {"X-Docpipe-Csrf": "csrf"}
    frame = review.backlogs["invoice"].frame()
    rng = random.Random(seed)
    ids = frame["doc_id"].tolist()
    todo = frame[~frame["done"]]["doc_id"].tolist()
    for doc_id in rng.sample(todo, reviewed):  # before the clock: a reviewed backlog
        assert client.post("/api/invoice/correct", json={"doc_id": doc_id, "action": "done"}, headers=write).is_success
    for doc_id in rng.sample(ids, corrections):
        client.post("/api/invoice/correct", json={"doc_id": doc_id, "action": "set", "field": "total",
                                                  "new_value": "$1,234.56"}, headers=write)
    client.get("/invoice/")  # the tables' new files read once
    pages = -(-len(review.backlogs["invoice"].queue(__import__("docpipe.review.backlog", fromlist=["Filter"]).Filter()))
              // 50)
    figures["index_ms"] = _median_ms(lambda: client.get("/invoice/").raise_for_status(), rounds)
    figures["index_filtered_ms"] = _median_ms(
        lambda: client.get("/invoice/?field=total&below=0.9").raise_for_status(), rounds)
    figures["index_last_page_ms"] = _median_ms(lambda: client.get(f"/invoice/?page={pages}").raise_for_status(), rounds)
    picks = iter(rng.sample(ids, rounds * 3))
    figures["document_ms"] = _median_ms(lambda: client.get(f"/invoice/doc/{next(picks)}").raise_for_status(), rounds)

    def correct_then_index() -> None:
        client.post("/api/invoice/correct", json={"doc_id": next(picks), "action": "set", "field": "tax",
                                                  "new_value": "$1.00"}, headers=write).raise_for_status()

    figures["correct_ms"] = _median_ms(correct_then_index, rounds)
    after = []
    for _ in range(rounds):
        correct_then_index()
        begun = time.perf_counter()
        client.get("/invoice/").raise_for_status()
        after.append(time.perf_counter() - begun)
    figures["index_after_a_write_ms"] = round(statistics.median(after) * 1000, 1)
    plain, corrected = [], []
    for _ in range(max(3, rounds // 5)):  # side by side, alternating
        begun = time.perf_counter()
        read_table(out, "invoice")
        plain.append(time.perf_counter() - begun)
        begun = time.perf_counter()
        fixed = read_table(out, "invoice", corrected=True)
        corrected.append(time.perf_counter() - begun)
    figures["read_table_ms"] = round(statistics.median(plain) * 1000, 1)
    figures["read_table_corrected_ms"] = round(statistics.median(corrected) * 1000, 1)
    figures["records"] = len(ids)
    figures["documents_done"] = int(fixed["review_done"].sum())
    figures["values_reviewed"] = int(fixed["corrected"].map(len).sum())
    figures["files_per_table"] = len(list((out / "records" / "invoice").glob("*.parquet")))
    return figures


BEFORE = textwrap.dedent('''
    import json, random, statistics, sys, time
    from pathlib import Path
    from starlette.testclient import TestClient
    from docpipe.cli.review_page import review_app
    from docpipe.schema.load import resolve_schema
    out, rounds, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    client = TestClient(review_app(out, resolve_schema("invoice"), "bench"))
    def median_ms(call):
        times = []
        for _ in range(rounds):
            started = time.perf_counter(); call(); times.append(time.perf_counter() - started)
        return round(statistics.median(times) * 1000, 1)
    import pyarrow.parquet as pq
    ids = pq.read_table(out / "records" / "invoice", columns=["doc_id"]).column(0).to_pylist()
    picks = iter(random.Random(seed).sample(ids, rounds))
    from docpipe import read_table
    print(json.dumps({"index_ms": median_ms(lambda: client.get("/").raise_for_status()),
                      "document_ms": median_ms(lambda: client.get(f"/doc/{next(picks)}").raise_for_status()),
                      "read_table_ms": median_ms(lambda: read_table(out, "invoice")),
                      "read_table_corrected_ms": median_ms(lambda: read_table(out, "invoice", corrected=True))}))
''')


def before(rev: str, out: Path, rounds: int, seed: int) -> dict:
    """The page of revision `rev` over the same folder, in its own interpreter."""
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev], check=True)
        try:
            env = dict(os.environ, PYTHONPATH=str(tree))
            done = subprocess.run([sys.executable, "-c", BEFORE, str(out), str(rounds), str(seed)], env=env, cwd=folder,
                                  capture_output=True, text=True, check=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "docpipe-review-bench")
    parser.add_argument("--compacted", action="store_true", help="measure the folder after docpipe compact")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reviewed", type=int, default=200, help="documents marked done before the clock")
    parser.add_argument("--corrections", type=int, default=200, help="more values corrected before the clock")
    parser.add_argument("--before", metavar="REV", help="also time the page of this git revision (old API)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "review_scale")
    args = parser.parse_args()

    pristine = build(args.work / f"folder-{args.records}", args.records)
    out = args.work / "run"  # every measurement starts from the pristine folder: no earlier corrections
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(pristine, out)
    if args.compacted:
        from docpipe.output.compact import compact

        compact(out)
    record = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": platform.machine(),
              "cpus": os.cpu_count(), "compacted": args.compacted, "rounds": args.rounds,
              "reviewed_documents": args.reviewed, "corrected_values": args.corrections}
    record["now"] = measure(out, args.rounds, args.reviewed, args.corrections, args.seed)
    if args.before:  # on the same folder, corrections included
        record["before"] = {"revision": args.before, **before(args.before, out, min(args.rounds, 3), args.seed)}
    print(f"review page and corrected reader, {record['now']['records']:,} records "
          f"({record['now']['files_per_table']} files per table{', compacted' if args.compacted else ''}), "
          f"median of {args.rounds} (ms)")
    for name, value in record["now"].items():
        if name.endswith("_ms"):
            old = record.get("before", {}).get(name)
            print(f"  {name.removesuffix('_ms'):24s} {value:10,.1f}" + ("" if old is None else f"   before: {old:,.1f}"))
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = args.results / f"{stamp}-cpu{'-compacted' if args.compacted else ''}.json"
    path.write_text(json.dumps(record, indent=1))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
