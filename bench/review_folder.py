"""An output folder of N invoice records as a long run leaves it, for the review benchmarks.

N documents, one records file and one documents file per chunk of --chunk documents (as `docpipe
run` commits them), every record with all invoice fields typed and 2-8 line items, seeded random
values and confidences (skewed to 1, as a model's are) and a box per value. The documents' files
do not exist (their pages are not drawn) and nothing is read by a model: what is measured is what
the review page and the readers do with the tables.

    python bench/review_folder.py /tmp/review-100k --records 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
from pathlib import Path

from docpipe.output.rows import DocumentRow
from docpipe.output.tables import DOCUMENTS, records_schema, write_rows
from docpipe.schema.load import resolve_schema

def _confidence(rng: random.Random) -> float:
    return round(1 - rng.random() ** 6 * 0.9, 4) if rng.random() < 0.9 else round(rng.random(), 4)


def _box(rng: random.Random) -> dict:
    x0, y0 = rng.random() * 0.7, rng.random() * 0.9
    return {"page": 1, "x0": x0, "y0": y0, "x1": x0 + 0.2, "y1": y0 + 0.02, "source": "text_layer",
            "score": 100.0, "model_iou": None}


def _record(index: int, rng: random.Random, schema, names: list[str], at: dt.datetime) -> dict:
    row = {name: None for name in names}
    doc_id = hashlib.sha256(f"review-bench-{index}".encode()).hexdigest()
    amount = round(rng.uniform(10, 5000), 2)
    typed = {"invoice_number": f"INV-{index:07d}", "invoice_date": dt.date(2026, 1 + index % 12, 1 + index % 28),
             "due_date": dt.date(2026, 1 + (index + 1) % 12, 1 + index % 28), "seller_name": "Acme Lab Supplies",
             "seller_address": "1 Main St, Springfield", "buyer_name": f"Customer {index}",
             "buyer_address": "2 Side St, Shelbyville", "currency": "USD",
             "subtotal": amount, "tax": round(amount * 0.1, 2), "total": round(amount * 1.1, 2)}
    confidences = []
    for spec in schema.fields:
        if spec.kind == "list":
            continue
        row[spec.name] = typed[spec.name]
        if f"{spec.name}_raw" in row:
            row[f"{spec.name}_raw"] = str(typed[spec.name])
        row[f"{spec.name}_confidence"] = c = _confidence(rng)
        row[f"{spec.name}_page"] = 1
        row[f"{spec.name}_box"] = _box(rng)
        confidences.append(c)
    items = []
    for line in range(rng.randint(2, 8)):
        item = {}
        for sub in schema.fields[-1].fields:
            value = f"item {line}" if sub.kind == "text" else round(rng.uniform(1, 100), 2)
            item[sub.name] = value
            if sub.kind != "text":
                item[f"{sub.name}_raw"] = str(value)
            item[f"{sub.name}_box"] = _box(rng)
            item[f"{sub.name}_confidence"] = _confidence(rng)
        item["confidence"] = min(v for k, v in item.items() if k.endswith("_confidence"))
        item["page"] = 1
        items.append(item)
    row["line_items"], row["line_items_page"] = items, 1
    row["line_items_confidence"] = min(i["confidence"] for i in items)
    confidences.append(row["line_items_confidence"])
    row |= {"doc_id": doc_id, "work_key": f"wk-{doc_id[:16]}", "run_id": "bench", "schema_version": schema.version,
            "model": "bench", "budget": 560, "valid": rng.random() > 0.05, "lowest_confidence": min(confidences),
            "extracted_at": at, "date_order": "MDY", "date_order_rule": "currency: USD", "decimal_mark": ".",
            "decimal_rule": "'1,234.50'", "printed_currency": "USD"}
    return row


def build(out: Path, records: int, chunk: int = 256, seed: int = 0) -> Path:
    """Write the folder (once: an existing one with a documents table is kept as it is)."""
    if (out / "documents").is_dir():
        return out
    schema = resolve_schema("invoice")
    names = records_schema(schema).names
    rng = random.Random(seed)
    at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    size = 50_000
    for start in range(0, records, chunk):
        rows = [_record(i, rng, schema, names, at) for i in range(start, min(records, start + chunk))]
        tag = f"bench-c{start // chunk:05d}"
        write_rows(out, "invoice", rows, records_schema(schema), tag)
        documents = [DocumentRow(doc_id=r["doc_id"], work_key=r["work_key"], run_id="bench",
                                 source_path=f"/data/inbox/invoice_{i:07d}.pdf",
                                 size_bytes=size, kind="pdf", pages=1, schema="invoice", status="ok", budget=560,
                                 error_category=None, error_message=None, render_seconds=0.01, infer_seconds=0.1,
                                 finished_at=at) for i, r in enumerate(rows, start)]
        write_rows(out, "documents", documents, DOCUMENTS, tag)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=256)
    args = parser.parse_args()
    print(build(args.out, args.records, args.chunk))


if __name__ == "__main__":
    main()
