"""docs/benchmarks.md's measured figures, rebuilt from the result files in bench/results/.

Every figure between the markers below comes from one JSON file that bench/slot_use.py wrote;
the table names the file. Run after adding result files:

    python bench/results_table.py            # rewrite the section in docs/benchmarks.md
    python bench/results_table.py --check    # exit 1 if the section is not what the files give
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- results:begin (bench/results_table.py writes this section) -->"
END = "<!-- results:end -->"
HEADER = ("| run (file) | device | model | budget | variant | slots | pages | answer tokens min/mean/max "
          "| pages/s | output tok/s | slot use | mask wait | peak GiB | x plain | % of floor |")


def _percent(value) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def rows_of(path: Path) -> list[str]:
    record = json.loads(path.read_text())
    lengths = record["answer_lengths"]
    rows = []
    for v in record["variants"]:
        forced = not v["constrained"]
        answer = (f"{record['forced_output_tokens']} (forced, free)" if forced
                  else f"{lengths['min']}/{lengths['mean']}/{lengths['max']} (constrained)")
        ratio = "" if v.get("ratio_to_plain") is None else f"{v['ratio_to_plain']}"
        rows.append(
            f"| {path.name} | {record['device']} | {record['model']['name']} | {record['budget']} | {v['variant']} "
            f"| {v['slots']} | {v['pages']} | {answer} | {v['pages_per_second']:.3f} | {v['output_tokens_per_second']:.1f} "
            f"| {_percent(v['slot_use'])} | {_percent(v['mask_wait_share'])} | {v['peak_memory_gib']:.2f} | {ratio} "
            f"| {_percent(v.get('share_of_floor'))} |"
        )
    return rows


def section(results: Path) -> str:
    files = sorted(results.glob("*.json"))
    rows = [row for path in files for row in rows_of(path)]
    return "\n".join([BEGIN, "", HEADER, _rule(), *rows, "", END])


def _rule() -> str:
    return "|" + "---|" * (HEADER.count("|") - 1)


def rewrite(doc: str, new_section: str) -> str:
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"docs/benchmarks.md lacks the markers {BEGIN!r} ... {END!r}")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + new_section + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--doc", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    doc_path = Path(args.doc)
    doc = doc_path.read_text()
    new = rewrite(doc, section(Path(args.results)))
    if args.check:
        if new != doc:
            print(f"{doc_path} is out of date: run python bench/results_table.py", file=sys.stderr)
            return 1
        return 0
    doc_path.write_text(new)
    print(f"rewrote the figures in {doc_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
