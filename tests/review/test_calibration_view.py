"""Calibration from a reviewed folder: `docpipe calibration OUT` and the page's own view."""

from __future__ import annotations

import pyarrow.parquet as pq
from typer.testing import CliRunner

from docpipe.cli.app import app
from tests.review.conftest import WRITE, client_for, doc_of


def test_the_command_and_the_page_from_a_reviewed_folder(out):
    client = client_for(out)
    acme, globex = doc_of(out, "invoice_acme.pdf"), doc_of(out, "invoice_globex_2p.pdf")
    client.post("/api/invoice/correct", json={"doc_id": acme, "action": "set", "field": "total",
                                              "new_value": "$1,600.00"}, headers=WRITE)
    client.post("/api/invoice/correct", json={"doc_id": globex, "action": "done"}, headers=WRITE)
    page = client.get("/invoice/calibration")
    assert page.status_code == 200 and "reviewed values" in page.text
    image = client.get("/invoice/calibration.png")
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    result = CliRunner().invoke(app, ["calibration", str(out)])
    assert result.exit_code == 0, result.output
    folder = out / "eval" / "invoice"
    bins = pq.read_table(folder / "calibration_bins.parquet").to_pandas()
    reviewed = int(bins["reviewed"].sum())
    assert reviewed > 10 and int(reviewed - bins["right"].sum()) == 1  # the total was wrong, the rest right
    assert (folder / "calibration.png").stat().st_size > 5_000
    assert "reviewed values" in " ".join(result.output.split())
