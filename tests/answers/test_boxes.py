"""A box for every value, from the page's text layer: on the born-digital samples each value that
is printed as it is stored lands on the rectangle where the PDF draws it (found independently with
PyMuPDF's exact phrase search); a value printed on two pages takes the model's page; a value that
is not printed gets no box and says so; a scanned page says it has no text layer."""

from __future__ import annotations

import json

import pandas as pd
import pymupdf
import pytest

from docpipe.answers.boxes import MIN_SCORE, locate
from docpipe.core.types import Word
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import SAMPLES
from tests.fakes import GroundTruthEngine

TOLERANCE = 0.01  # of the page's width or height


@pytest.fixture(scope="module")
def invoices(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("boxes") / "out"
    config = RunConfig(input=SAMPLES, out=out, budget=280, render_workers=0, exclude=("packet/**",))
    with plain_stages() as stages:
        execute(config, GroundTruthEngine(SAMPLES), NoProgress(), resolve_schema("invoice"), stages)
    documents = pd.read_parquet(out / "documents")[["doc_id", "source_path"]]
    records = pd.read_parquet(out / "records" / "invoice")  # each names the file it was read from
    assert records.merge(documents, on="doc_id", suffixes=("", "_read")).eval("source_path == source_path_read").all()
    return records


def _drawn(path, text: str) -> list[tuple[int, tuple[float, float, float, float]]]:
    """Where the PDF draws `text` exactly: (page, normalised rectangle) for each occurrence."""
    found = []
    with pymupdf.open(path) as doc:
        for page in doc:
            w, h = page.rect.width, page.rect.height
            for r in page.search_for(text):
                found.append((page.number + 1, (r.x0 / w, r.y0 / h, r.x1 / w, r.y1 / h)))
    return found


def test_values_printed_as_stored_land_where_the_pdf_draws_them(invoices):
    truth = json.loads((SAMPLES / "ground_truth.json").read_text())
    checked = 0
    for row in invoices.itertuples():
        name = row.source_path.rsplit("/", 1)[-1]
        if not name.endswith(".pdf") or truth[name]["schema"] != "invoice":
            continue
        for field, value in truth[name]["fields"].items():
            if not isinstance(value, str):
                continue
            drawn = _drawn(row.source_path, value)
            if len(drawn) != 1:  # not printed as stored (dates, addresses), or printed twice
                continue
            page, rect = drawn[0]
            box = getattr(row, f"{field}_box")
            assert box["source"] == "text_layer" and box["page"] == page, (name, field, box)
            got = (box["x0"], box["y0"], box["x1"], box["y1"])
            assert all(abs(a - b) <= TOLERANCE for a, b in zip(got, rect)), (name, field, got, rect)
            checked += 1
    assert checked >= 4  # the names and numbers of the two born-digital invoices that print them as stored


def test_line_items_carry_a_box_per_field(invoices):
    acme = invoices[invoices["source_path"].str.endswith("invoice_acme.pdf")].iloc[0]
    boxes = [item["description_box"] for item in acme["line_items"]]
    assert boxes and all(b["source"] == "text_layer" and b["score"] >= MIN_SCORE for b in boxes)
    assert [b["y0"] for b in boxes] == sorted(b["y0"] for b in boxes)  # one row under the other


def test_a_scanned_page_has_no_text_layer_to_box_from(invoices):
    scan = invoices[invoices["source_path"].str.endswith("invoice_initech_scan.png")].iloc[0]
    assert scan["invoice_number_box"]["source"] == "no_text_layer" and scan["invoice_number_box"]["page"] is None


def _words(*texts: str, y: float = 0.5) -> tuple[Word, ...]:
    return tuple(Word(t, 0.1 * i, y, 0.1 * i + 0.08, y + 0.02) for i, t in enumerate(texts))


def test_a_value_on_two_pages_takes_the_models_page():
    pages = {1: _words("Total", "$12.00", y=0.9), 2: _words("Total", "$12.00", y=0.3)}
    assert locate("$12.00", [2, 1], pages).page == 2
    assert locate("$12.00", [1, 2], pages).page == 1


def test_a_value_that_is_not_printed_gets_no_box_and_says_so():
    box = locate("ACME-0001", [1], {1: _words("Invoice", "INV-2026-0142")})
    assert (box.source, box.page, box.x0) == ("not_found", None, None) and box.score < MIN_SCORE


def test_a_value_over_several_words_and_lines_is_one_box():
    words = _words("Ship", "to:", "88", "Mesa", "Vista", "Drive,") + tuple(
        Word(t, 0.1 * i, 0.55, 0.1 * i + 0.08, 0.57) for i, t in enumerate(["Desert", "Flats,", "AZ"]))
    box = locate("88 Mesa Vista Drive, Desert Flats, AZ", [1], {1: words})
    assert box.source == "text_layer" and (box.x0, box.y0, box.x1, box.y1) == (0.0, 0.5, 0.58, 0.57)


def test_an_address_beside_a_column_of_labels_is_boxed_whole(invoices):
    # invoice_acme prints the seller's address over three lines, the last ('USA') level with the
    # 'Invoice No.' label of the right-hand column: words are read block by block, not by height
    acme = invoices[invoices["source_path"].str.endswith("invoice_acme.pdf")].iloc[0]
    box = acme["seller_address_box"]
    [(page, usa)] = [hit for hit in _drawn(acme["source_path"], "USA") if hit[1][1] < 0.2]
    assert box["source"] == "text_layer" and box["score"] == 100.0
    assert box["page"] == page and abs(box["y1"] - usa[3]) <= TOLERANCE  # down to its last line
