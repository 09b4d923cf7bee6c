"""The review page is its reviewer's alone: every try a web page, a rebinding DNS name or another
local user could make is refused (403) and writes nothing; the page's own requests pass."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.output.tables import read_all
from tests.review.conftest import COOKIE, CSRF, PORT, TOKEN, WRITE, client_for, doc_of, page_for

ORIGIN = f"http://127.0.0.1:{PORT}"


def _corrections(out):
    return read_all(out, "corrections")


def test_the_printed_url_gives_a_cookie_and_nothing_opens_without_it(out):
    anonymous = TestClient(page_for(out), base_url=ORIGIN, follow_redirects=False)
    for path in ("/", "/invoice/", f"/invoice/doc/{doc_of(out, 'invoice_acme.pdf')}",
                 f"/page/{doc_of(out, 'invoice_acme.pdf')}/1.png", "/invoice/calibration"):
        refused = anonymous.get(path)
        assert refused.status_code == 403 and "invoice_acme" not in refused.text, path
    assert anonymous.get("/?token=guessed").status_code == 403
    welcomed = anonymous.get(f"/invoice/?show=all&token={TOKEN}")
    assert welcomed.status_code == 303 and welcomed.headers["location"] == "/invoice/?show=all"  # token gone from the URL
    cookie = welcomed.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    anonymous.cookies.set(COOKIE, TOKEN)
    assert "invoice_acme.pdf" in anonymous.get("/invoice/?show=all").text
    script = TestClient(page_for(out), base_url=ORIGIN)  # a script passes the token in a header instead
    assert script.get("/invoice/", headers={"Authorization": f"token {TOKEN}"}).status_code == 200
    assert script.get("/invoice/", headers={"Authorization": "token nope"}).status_code == 403


def test_a_rebinding_host_name_is_refused_even_with_the_cookie(out):
    client = client_for(out)
    for host in (f"attacker.example:{PORT}", "127.0.0.1:9999", f"127.0.0.1.nip.io:{PORT}"):
        refused = client.get("/invoice/?show=all", headers={"Host": host})
        assert refused.status_code == 403 and "invoice_acme" not in refused.text, host
    assert client.get("/invoice/", headers={"Host": f"localhost:{PORT}"}).status_code == 200


def test_a_cross_site_form_cannot_write_ground_truth(out):
    client = client_for(out)  # the reviewer's browser: its cookie goes with every request to 127.0.0.1
    acme = doc_of(out, "invoice_acme.pdf")
    body = f'{{"doc_id": "{acme}", "action": "set", "field": "total", "new_value": "999999.00"}}'
    tries = [
        ({"Content-Type": "text/plain", "Origin": "http://evil.example"}, body),  # the form of the issue
        ({"Content-Type": "text/plain", "X-Docpipe-Csrf": CSRF, "Origin": ORIGIN}, body),  # not JSON
        ({"Content-Type": "application/x-www-form-urlencoded"}, "doc_id=" + acme),
        ({"Content-Type": "application/json"}, body),  # JSON but no CSRF token
        ({"Content-Type": "application/json", "Origin": "http://127.0.0.1:9999", "X-Docpipe-Csrf": CSRF}, body),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "same-site", "X-Docpipe-Csrf": CSRF}, body),
        ({"Content-Type": "application/json", "X-Docpipe-Csrf": "guessed", "Origin": ORIGIN}, body),
    ]
    for headers, content in tries:
        answer = client.post("/api/invoice/correct", content=content, headers=headers)
        assert answer.status_code == 403, (headers, answer.text)
        assert "saved" not in answer.text
    assert _corrections(out).empty  # nothing was written
    stranger = TestClient(page_for(out), base_url=ORIGIN)  # JSON with the CSRF token but no cookie or token
    assert stranger.post("/api/invoice/correct", content=body, headers={"Content-Type": "application/json",
                                                                         "X-Docpipe-Csrf": CSRF}).status_code == 403
    assert _corrections(out).empty
    saved = client.post("/api/invoice/correct", content=body, headers={"Content-Type": "application/json", **WRITE})
    assert saved.status_code == 200 and _corrections(out)["new_value"].tolist() == ["999999.00"]


def test_every_answer_forbids_framing_caching_and_foreign_scripts(out):
    client = client_for(out)
    for path in ("/invoice/", f"/invoice/doc/{doc_of(out, 'invoice_acme.pdf')}", "/static/review.js"):
        headers = client.get(path).headers
        policy = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
        assert policy["frame-ancestors"] == "'none'" and policy["script-src"] == "'self'"
        assert policy["default-src"] == "'none'" and policy["style-src"] == "'self'"
        assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"
    page = client.get(f"/invoice/doc/{doc_of(out, 'invoice_acme.pdf')}").text
    assert "<script>" not in page and "<script src='/static/review.js'>" in page  # no inline script to inject into


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5"])
def test_listening_beyond_this_machine_needs_to_be_asked_for(out, host):
    result = CliRunner().invoke(app, ["review", str(out), "--host", host])
    assert result.exit_code == 2 and "--allow-remote" in " ".join(result.output.split())
