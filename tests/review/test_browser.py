"""`docpipe review` in a real browser (the system's headless Chromium, driven by Selenium), as a
reviewer uses it: the printed address (with its token) opens the queue; a document shows its pages
with a box on every value; a click on a value lights its box and a click on a box selects its value;
`e` opens the edit box (shown only while editing) with the typed result previewed, Enter saves;
`d` marks the document done and goes to the next of the queue; the correction is there after a
reload and in the tables. Plus the command's own messages for bad input."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.output.tables import read_all
from docpipe.output.reading import read_table
from tests.review.conftest import TOKEN, doc_of, page_in_a_browser


def test_bad_input_gets_one_clear_message(tmp_path, out):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(app, ["review", str(empty)])
    assert result.exit_code == 2 and "no records under" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["review", str(out), "--schema", "receipt"])
    assert result.exit_code == 2 and "no records of schema 'receipt'" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["review", str(out), "--schema", "nonsense"])
    assert result.exit_code == 2 and "unknown schema 'nonsense'" in " ".join(result.output.split())


@pytest.mark.slow
def test_in_a_real_browser_review_a_document_and_find_the_correction_after_a_reload(out, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    acme = doc_of(out, "invoice_acme.pdf")
    with page_in_a_browser(out, ["invoice"]) as (browser, port):
        browser.get(f"http://127.0.0.1:{port}/")
        assert "refused" in browser.page_source  # no token, no page
        browser.get(f"http://127.0.0.1:{port}/?token={TOKEN}")  # the printed address
        assert "token" not in browser.current_url and browser.current_url.endswith("/invoice/")
        links = browser.find_elements(By.CSS_SELECTOR, "table.documents a")
        assert sorted(a.text for a in links) == ["invoice_acme.pdf", "invoice_globex_2p.pdf", "invoice_initech_scan.png"]
        order = [a.get_attribute("href") for a in links]
        browser.find_element(By.LINK_TEXT, "invoice_acme.pdf").click()
        WebDriverWait(browser, 20).until(lambda b: b.execute_script(
            "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"))
        boxes = browser.find_elements(By.CSS_SELECTOR, ".box")
        assert len(boxes) >= 10 and all(b.is_displayed() for b in boxes)
        assert not any(i.is_displayed() for i in browser.find_elements(By.CSS_SELECTOR, "input.edit"))
        browser.save_screenshot(str(tmp_path / "review.png"))  # the test's artifact
        assert (tmp_path / "review.png").stat().st_size > 10_000

        total = browser.find_element(By.CSS_SELECTOR, "tr.value[data-field='total']")
        total.click()  # a value: its box lights up
        lit = browser.find_elements(By.CSS_SELECTOR, ".box.lit")
        assert [b.get_attribute("data-key") for b in lit] == ["total||"]
        box = browser.find_element(By.CSS_SELECTOR, ".box[data-key='invoice_number||']")
        browser.execute_script("arguments[0].click()", box)  # a box: its value is selected
        current = browser.find_element(By.CSS_SELECTOR, "tr.value.current")
        assert current.get_attribute("data-field") == "invoice_number"

        total.click()
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys("e")
        edit = total.find_element(By.CSS_SELECTOR, "input.edit")
        WebDriverWait(browser, 5).until(lambda b: b.switch_to.active_element == edit and edit.is_displayed())
        edit.send_keys("\ue009a")  # Ctrl-A: select the value the edit box starts with
        edit.send_keys("$1,600.00")
        preview = total.find_element(By.CSS_SELECTOR, ".preview")
        WebDriverWait(browser, 10).until(lambda b: "1,600.00" in preview.text)  # the typed result, before saving
        edit.send_keys("\n")
        WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "said").text == "saved")
        assert total.find_element(By.CSS_SELECTOR, ".shown").text == "1,600.00" and not edit.is_displayed()

        browser.refresh()
        shown = browser.find_element(By.CSS_SELECTOR, "tr.value[data-field='total'] .shown").text
        assert shown == "1,600.00"
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys("d")  # done: every other value accepted, on to the next document of the queue
        after_acme = order[order.index(next(h for h in order if acme in h)) + 1]
        WebDriverWait(browser, 10).until(lambda b: b.current_url.split("?")[0] == after_acme.split("?")[0])
    corrections = read_all(out, "corrections")
    assert corrections[corrections["action"] == "set"][["field", "new_value"]].values.tolist() == [["total", "$1,600.00"]]
    fixed = read_table(out, "invoice", corrected=True).set_index("doc_id").loc[acme]
    assert fixed["total"] == 1600.0 and bool(fixed["review_done"]) and "total" in list(fixed["corrected"])
