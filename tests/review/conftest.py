"""A run over three sample invoices (answered with their ground truth, each token with a known
probability, so every value has a confidence), and the review page over
it behind its guard, as `docpipe review` serves it on 127.0.0.1."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from docpipe.output.reading import read_table
from docpipe.review.app import build_review, review_app
from docpipe.review.guard import loopback_hosts
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import resolve_schema
from tests.conftest import SAMPLES
from tests.fakes import ProbableTruthEngine

INVOICES = ["invoice_acme.pdf", "invoice_globex_2p.pdf", "invoice_initech_scan.png"]
PORT = 8765  # the port the page pretends to listen on (TestClient opens no socket)
TOKEN, CSRF = "the-token-printed-once", "the-pages-csrf-token"
COOKIE = f"docpipe-review-{PORT}"


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in INVOICES:
        shutil.copy(SAMPLES / name, folder / name)
    out = tmp_path / "out"
    with plain_stages() as stages:
        config = RunConfig(input=folder, out=out, budget=280, render_workers=0)
        execute(config, ProbableTruthEngine(SAMPLES), NoProgress(), resolve_schema("invoice"), stages)
    return out


def page_for(out: Path, schemas=("invoice",), reviewer: str = "ana"):
    review = build_review(out, [resolve_schema(s) for s in schemas], reviewer, CSRF)
    return review_app(review, TOKEN, COOKIE, loopback_hosts(PORT))


def client_for(out: Path, **kw) -> TestClient:
    """A browser that opened the printed URL: it holds the cookie."""
    client = TestClient(page_for(out, **kw), base_url=f"http://127.0.0.1:{PORT}", follow_redirects=False)
    assert client.get(f"/?token={TOKEN}").status_code == 303
    return client


WRITE = {"X-Docpipe-Csrf": CSRF, "Origin": f"http://127.0.0.1:{PORT}"}  # what the page's script sends


def doc_of(out: Path, name: str) -> str:
    documents = read_table(out, "documents")
    return documents[documents["source_path"].str.endswith(name)]["doc_id"].iloc[0]


@contextlib.contextmanager
def page_in_a_browser(out: Path, schemas: Sequence[str]) -> Iterator[tuple[Any, int]]:
    """(a headless Chromium, the port) with the review page of OUT served on 127.0.0.1 by uvicorn,
    as `docpipe review` serves it; both stopped at the end."""
    import threading
    import time

    import uvicorn

    from docpipe.core.child_server import free_port

    port = free_port()
    review = build_review(out, [resolve_schema(s) for s in schemas], "ana", CSRF)
    server = uvicorn.Server(uvicorn.Config(review_app(review, TOKEN, f"docpipe-review-{port}", loopback_hosts(port)),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    browser = None
    try:
        while not server.started:
            time.sleep(0.05)
        browser = chromium()
        yield browser, port
    finally:
        if browser is not None:
            browser.quit()
        server.should_exit = True
        thread.join(timeout=10)


def chromium():
    """The system's headless Chromium under Selenium (skips, saying what to install, without it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("no system Chromium with chromedriver (apt-get install chromium chromium-driver; .ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)
