"""`docpipe show OUT SCHEMA` as a person reads it, on the rendered text at 80 and 120 columns: every
row names its document by its file, nothing is cut (values are whole or wrapped), the fields left
out are named; `--doc NAME` shows one document's every value with as printed, page and box."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import SAMPLES
from tests.fakes import GroundTruthEngine

INVOICES = ["invoice_acme.pdf", "invoice_globex_2p.pdf", "invoice_initech_scan.png", "invoice_umbrella_scan.tif"]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("show")
    for path in INVOICES:
        (folder / path).write_bytes((SAMPLES / path).read_bytes())
    out = folder / "out"
    with plain_stages() as stages:
        config = RunConfig(input=folder, out=out, budget=280, render_workers=0)
        execute(config, GroundTruthEngine(SAMPLES), NoProgress(), resolve_schema("invoice"), stages)
    return out


def _show(out: Path, width: int, *args: str) -> str:
    result = CliRunner().invoke(app, ["show", str(out), "invoice", *args], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.output


def _cells(text: str, column: int) -> dict[str, str]:
    """{field: its cell in `column`, the wrapped pieces joined without spaces} of a --doc table."""
    cells, field, list_field = {}, None, None
    for line in text.splitlines():
        parts = line.split("│")
        if len(parts) < 8:
            continue
        name = parts[1].strip()
        if name.startswith("["):  # a list item's field, under its list's row
            name = f"{list_field}{name}"
        elif name:
            list_field = name
        field = name or field
        cells[field] = cells.get(field, "") + parts[column].replace(" ", "")
    return cells


@pytest.mark.parametrize("width", [80, 120])
def test_every_row_names_its_document_and_nothing_is_cut(out, width):
    text = _show(out, width)
    assert all(len(line) <= width for line in text.splitlines())
    assert "…" not in text and "..." not in text
    for name in INVOICES:
        assert name in text  # whole, on one line
    truth = json.loads((SAMPLES / "ground_truth.json").read_text())
    for name in INVOICES:  # the first value column is shown whole (wrapped at most)
        number = truth[name]["fields"]["invoice_number"]
        assert number in text.replace("\n", "")
    assert "not shown here:" in text and "--doc FILE_NAME" in text


@pytest.mark.parametrize("width", [80, 120])
def test_one_document_whole_with_every_value_as_printed_page_and_box(out, width):
    text = _show(out, width, "--doc", "invoice_acme.pdf")
    assert "…" not in text
    assert all(len(line) <= width for line in text.splitlines())
    values, boxes = _cells(text, 2), _cells(text, 6)
    fields = json.loads((SAMPLES / "ground_truth.json").read_text())["invoice_acme.pdf"]["fields"]
    for name, value in fields.items():
        assert name in values  # every field has its row, its name whole
        if isinstance(value, str):
            assert values[name] == value.replace(" ", ""), (name, value)  # whole or wrapped, never cut
    assert values["line_items"] == f"{len(fields['line_items'])}items"
    assert values["line_items[0].description"] == fields["line_items"][0]["description"].replace(" ", "")
    assert boxes["invoice_number"].startswith("p1") and "text_layer" in boxes["invoice_number"]


def test_a_confidence_is_shown_whole_at_80_columns(out):
    """Two decimals fit the column: "0.96", not "0.9…" (a float's every digit did not)."""
    from rich.console import Console

    import docpipe
    from docpipe.cli.show_records import print_document

    frame = docpipe.read_table(out, "invoice")
    frame["invoice_number_confidence"] = 0.956789123
    row = frame[frame["source_path"].str.endswith("invoice_acme.pdf")].iloc[0]
    console = Console(width=80, record=True, file=io.StringIO())
    print_document(console, "invoice", frame, row, "invoice_acme.pdf")
    text = console.export_text()
    assert "…" not in text
    assert _cells(text, 4)["invoice_number"] == "0.96"


def test_an_unknown_document_is_one_clear_message(out):
    result = CliRunner().invoke(app, ["show", str(out), "invoice", "--doc", "nope.pdf"])
    assert result.exit_code == 2 and "no document 'nope.pdf'" in result.output and "invoice_acme.pdf" in result.output


def test_other_tables_show_one_documents_rows_and_messages_whole(out, tmp_path):
    shown = CliRunner().invoke(app, ["show", str(out), "pages", "--doc", "invoice_globex_2p.pdf"],
                               env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "(2 rows)" in shown.output  # its two pages, not every page of the folder
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage\n")
    with plain_stages() as stages:
        execute(RunConfig(input=folder, out=tmp_path / "out", budget=280, render_workers=0),
                GroundTruthEngine(SAMPLES), NoProgress(), resolve_schema("invoice"), stages)
    errors = CliRunner().invoke(app, ["show", str(tmp_path / "out"), "errors"], env={"COLUMNS": "100"})
    message = " ".join(errors.output.replace("│", " ").split())
    assert errors.exit_code == 0 and "…" not in errors.output
    assert "the PDF is damaged and no page could be recovered" in message  # whole, wrapped, not cut
