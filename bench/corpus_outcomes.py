"""Run the pipeline over ../shared/corpus (rendering for real, a constant answer instead of a
model) and print how each folder's files ended: status and category counts, slowest renders.

    python bench/corpus_outcomes.py [--corpus ../shared/corpus] [--out /tmp/corpus-out]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docpipe.ingest.passwords import read_passwords  # noqa: E402
from docpipe.run.config import RunConfig  # noqa: E402
from docpipe.run.environment import quiet_defaults  # noqa: E402
from tests.fakes import ConstantEngine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--out", type=Path, default=Path("/tmp/docpipe-corpus-out"))
    args = parser.parse_args()
    quiet_defaults()
    from docpipe.flows.ingest import ingest

    shutil.rmtree(args.out, ignore_errors=True)
    passwords = read_passwords(args.corpus / "weird_pdfs" / "passwords.tsv")
    for folder in ("weird_pdfs", "kie", "born_digital"):
        started = time.perf_counter()
        config = RunConfig(input=args.corpus / folder, out=args.out / folder, budget=70, passwords=passwords)
        result = ingest(config, engine=ConstantEngine())
        documents = pd.read_parquet(args.out / folder / "documents")
        print(f"\n## {folder}: {len(documents)} files, {result.stats.pages} pages read, "
              f"{time.perf_counter() - started:.1f} s")
        counts = documents.fillna({"error_category": "-"}).groupby(["status", "error_category"]).size()
        print(counts.to_string())
        slow = documents.nlargest(3, "render_seconds")[["source_path", "render_seconds"]]
        slow["source_path"] = slow["source_path"].str.rsplit("/", n=1).str[-1]
        print("slowest renders:\n" + slow.to_string(index=False))


if __name__ == "__main__":
    main()
