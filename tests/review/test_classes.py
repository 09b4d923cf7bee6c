"""Reviewing a sorted folder: each document a packet holds is a record of its own in its schema's
queue, shown with its own pages; the classes tab lists every segment (those not extracted too),
least certain first; a corrected or accepted class is a correction of `segments`, applied by
read_table(corrected=True) and ground truth for eval (eval/truth.reviewed_truths)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from docpipe.eval.sorting import score_sorting
from docpipe.eval.truth import load_truth
from docpipe.output.reading import read_table
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.run.tasks.choose import task_for
from tests.conftest import SAMPLES
from tests.fakes import SortingTruthEngine
from tests.review.conftest import WRITE, client_for


@pytest.fixture
def sorted_out(tmp_path) -> Path:
    """The packet, and the cafe receipt which the model is unsure of (not extracted)."""
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES / "packet", folder)
    shutil.copy(SAMPLES / "receipt_cafe.pdf", folder / "receipt_cafe.pdf")
    out = tmp_path / "out"
    config = RunConfig(input=folder, out=out, render_workers=0, schemas=("invoice", "receipt"), split=True)
    engine = SortingTruthEngine(folder, doubtful=("receipt_cafe.pdf",))
    engine.documents.update(SortingTruthEngine(SAMPLES).documents)  # the cafe receipt's labels too
    with plain_stages() as stages:
        execute(config, engine, NoProgress(), task_for(config), stages)
    return out


def test_a_packets_documents_are_reviewed_as_records_of_their_own_with_their_pages(sorted_out):
    client = client_for(sorted_out, schemas=("invoice", "receipt"))
    queue = client.get("/invoice/?order=file").text
    keys = re.findall(r"/invoice/doc/([0-9a-f]{64}~\d+)", queue)
    assert len(keys) == 2 and "scanned_batch.pdf (page 1)" in queue and "scanned_batch.pdf (pages 3-4)" in queue
    second = client.get(f"/invoice/doc/{keys[1]}").text
    doc_id = keys[1].split("~")[0]
    assert re.findall(rf"/page/{doc_id}/(\d+)\.png", second) == ["3", "4"]  # its own pages, not the packet's
    assert "sorted as <b>invoice</b>" in second and f"/~classes/doc/{keys[1]}" in second
    # a value set on the second invoice is that record's, not the first's
    saved = client.post("/api/invoice/correct", headers=WRITE,
                        json={"doc_id": keys[1], "action": "set", "field": "invoice_number", "new_value": "X-1"})
    assert saved.status_code == 200, saved.text
    corrected = read_table(sorted_out, "invoice", corrected=True).set_index("segment")
    assert corrected.loc[3, "invoice_number"] == "X-1" and corrected.loc[1, "invoice_number"] != "X-1"
    assert pd.read_parquet(sorted_out / "corrections")["segment"].tolist() == [3]


def test_the_classes_tab_lists_every_segment_and_a_corrected_class_is_ground_truth(sorted_out):
    client = client_for(sorted_out, schemas=("invoice", "receipt"))
    queue = client.get("/~classes/").text
    keys = re.findall(r"/~classes/doc/([0-9a-f]{64}~\d+)", queue)
    assert len(keys) == 4  # the packet's three documents, and the cafe receipt (not extracted)
    cafe = keys[0]  # least certain first
    page = client.get(f"/~classes/doc/{cafe}").text
    assert "sorted as <b>receipt</b> (0.30; below --class-threshold" in page
    assert "<option value='other'>" in page and "/static/classes.js" in page
    refused = client.post("/api/~classes/correct", headers=WRITE, json={"doc_id": cafe, "action": "set", "new_value": "form"})
    assert refused.status_code == 422 and "invoice, receipt, other" in refused.json()["error"]
    assert client.post("/api/~classes/correct", json={"doc_id": cafe, "action": "accept"}).status_code == 403  # no CSRF
    assert client.post("/api/~classes/correct", headers=WRITE, json={"doc_id": cafe, "action": "set",
                                                                     "new_value": "invoice"}).status_code == 200
    segments = read_table(sorted_out, "segments", corrected=True).set_index("name")
    assert segments.loc["receipt_cafe.pdf", ["doc_class", "model_class", "class_rule"]].tolist() == [
        "invoice", "receipt", "reviewed"]
    assert "reviewed: <b>invoice</b>" in client.get(f"/~classes/doc/{cafe}").text
    # the reviewed folder as labels: the cafe receipt is an invoice now, and the run said receipt
    labels = [t for t in load_truth(sorted_out) if not t.fields]
    assert [(t.key, t.schema, t.pages) for t in labels] == [("receipt_cafe.pdf", "invoice", (1, 1))]
    scored = score_sorting(sorted_out, labels)
    assert scored.class_accuracy == 0.0 and scored.confusion.loc["invoice", "receipt"] == 1


@pytest.mark.slow
def test_in_a_real_browser_a_class_is_corrected_with_the_list_and_accepted_with_a(sorted_out):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.review.conftest import TOKEN, page_in_a_browser

    with page_in_a_browser(sorted_out, ["invoice", "receipt"]) as (browser, port):
        browser.get(f"http://127.0.0.1:{port}/?token={TOKEN}")
        browser.find_element(By.PARTIAL_LINK_TEXT, "classes").click()
        links = browser.find_elements(By.CSS_SELECTOR, "table.documents a")
        assert links[0].text == "receipt_cafe.pdf" and len(links) == 4  # least certain first
        links[0].click()
        WebDriverWait(browser, 20).until(lambda b: b.execute_script(
            "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"))
        Select(browser.find_element(By.ID, "class")).select_by_value("invoice")
        cafe = browser.current_url
        browser.find_element(By.ID, "save-class").click()  # saved: on to the next class not reviewed
        WebDriverWait(browser, 10).until(lambda b: b.current_url != cafe and b.execute_script(
            "return document.readyState") == "complete")
        browser.find_element(By.TAG_NAME, "body").send_keys("a")  # the next one's class accepted
        WebDriverWait(browser, 10).until(lambda b: len(read_table(sorted_out, "corrections")) == 2)
    corrections = read_table(sorted_out, "corrections")
    assert corrections["action"].tolist() == ["set", "accept"] and corrections["new_value"].iloc[0] == "invoice"
    assert (corrections["schema"] == "segments").all() and (corrections["field"] == "doc_class").all()
