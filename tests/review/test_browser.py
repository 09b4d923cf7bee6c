"""`docpipe review`: the documents least certain first, each page with its values' boxes, and
corrections appended to the corrections table, applied by read_table(..., corrected=True) and
usable as ground truth by docpipe eval. The page is tried in a real browser (the system's headless
Chromium, driven by Selenium), and its API through Starlette's test client."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.cli.review_page import review_app
from docpipe.core.child_server import free_port
from docpipe.eval.report import evaluate
from docpipe.output.tables import read_all, read_table
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import SAMPLES
from tests.fakes import GroundTruthEngine

INVOICES = ["invoice_acme.pdf", "invoice_globex_2p.pdf", "invoice_initech_scan.png"]


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in INVOICES:
        shutil.copy(SAMPLES / name, folder / name)
    out = tmp_path / "out"
    with plain_stages() as stages:
        config = RunConfig(input=folder, out=out, budget=280, render_workers=0)
        execute(config, GroundTruthEngine(SAMPLES), NoProgress(), resolve_schema("invoice"), stages)
    return out


def _acme(out: Path) -> str:
    documents = read_table(out, "documents")
    return documents[documents["source_path"].str.endswith("invoice_acme.pdf")]["doc_id"].iloc[0]


def test_the_page_lists_documents_draws_boxes_and_keeps_corrections(out):
    client = TestClient(review_app(out, resolve_schema("invoice"), "ana"))
    listing = client.get("/").text
    assert all(name in listing for name in INVOICES)
    acme = _acme(out)
    page = client.get(f"/doc/{acme}").text
    assert page.count("class='box'") >= 10 and "invoice_number" in page
    image = client.get(f"/page/{acme}/1.png")
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"

    saved = client.post("/api/correct", json={"doc_id": acme, "field": "total", "new_value": "$1,600.00"})
    assert saved.status_code == 200
    item = client.post("/api/correct", json={"doc_id": acme, "field": "line_items", "list_index": 0,
                                             "item_field": "quantity", "new_value": "3"})
    assert item.status_code == 200
    refused = client.post("/api/correct", json={"doc_id": acme, "field": "total", "new_value": "lots"})
    assert refused.status_code == 422 and "not a money" in refused.text

    corrections = read_all(out, "corrections").sort_values("created_at")
    assert corrections[["field", "new_value", "reviewer"]].values.tolist() == [
        ["total", "$1,600.00", "ana"], ["line_items", "3", "ana"]]
    assert read_table(out, "invoice").set_index("doc_id").loc[acme, "total"] == 1545.8  # the record is kept
    fixed = read_table(out, "invoice", corrected=True).set_index("doc_id").loc[acme]
    assert fixed["total"] == 1600.0 and fixed["total_confidence"] == 1.0
    assert fixed["line_items"][0]["quantity"] == 3.0
    assert sorted(fixed["corrected"]) == ["line_items[0].quantity", "total"]


def test_a_reviewed_folder_is_ground_truth_for_eval(out):
    client = TestClient(review_app(out, resolve_schema("invoice"), "ana"))
    client.post("/api/correct", json={"doc_id": _acme(out), "field": "total", "new_value": "$1,600.00"})
    result = evaluate(out, out, "invoice")  # this run scored against its own reviewed documents
    assert result.documents == 1  # only the reviewed one is labelled
    outcomes = dict(zip(result.details["field"], result.details["outcome"]))
    assert outcomes["total"] == "mismatch" and outcomes["invoice_number"] == "match"


def test_bad_input_gets_one_clear_message(tmp_path, out):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(app, ["review", str(empty)])
    assert result.exit_code == 2 and "no records under" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["review", str(out), "--schema", "receipt"])
    assert result.exit_code == 2 and "no records of schema 'receipt'" in " ".join(result.output.split())


def _browser():
    from selenium import webdriver

    chromium, driver = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("no system Chromium with chromedriver (apt-get install chromium chromium-driver; .ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    from selenium.webdriver.chrome.service import Service

    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.mark.slow
def test_in_a_real_browser_see_the_boxes_correct_a_value_and_find_it_after_a_reload(out, tmp_path):
    import uvicorn
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(review_app(out, resolve_schema("invoice"), "ana"), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    browser = None
    try:
        while not server.started:
            time.sleep(0.05)
        browser = _browser()
        browser.get(f"http://127.0.0.1:{port}/")
        browser.find_element(By.LINK_TEXT, "invoice_acme.pdf").click()
        WebDriverWait(browser, 20).until(lambda b: b.execute_script(
            "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"))
        boxes = browser.find_elements(By.CSS_SELECTOR, ".box")
        assert len(boxes) >= 10 and all(b.is_displayed() for b in boxes)
        browser.save_screenshot(str(tmp_path / "review.png"))  # the test's artifact
        assert (tmp_path / "review.png").stat().st_size > 10_000

        current = browser.find_element(By.CSS_SELECTOR, "tr.value.current")
        field = current.get_attribute("data-field")
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys("e")
        edit = current.find_element(By.CSS_SELECTOR, "input.edit")
        WebDriverWait(browser, 5).until(lambda b: b.switch_to.active_element == edit)
        edit.send_keys("\ue009a")  # Ctrl-A: select the value the edit box starts with
        edit.send_keys("Corrected by review\n")
        WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "said").text == "saved")

        browser.refresh()
        shown = browser.find_element(By.CSS_SELECTOR, f"tr.value[data-field='{field}'] .shown").text
        assert shown == "Corrected by review"
    finally:
        if browser is not None:
            browser.quit()
        server.should_exit = True
        thread.join(timeout=10)
    corrections = read_all(out, "corrections")
    assert corrections[["field", "new_value"]].values.tolist() == [[field, "Corrected by review"]]
    fixed = read_table(out, "invoice", corrected=True).set_index("doc_id").loc[_acme(out)]
    assert fixed[field] == "Corrected by review" and fixed["corrected"] == [field]
    assert isinstance(pd.read_parquet(out / "corrections"), pd.DataFrame)
