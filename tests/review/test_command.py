"""`docpipe review` as a user starts it: it prints one address with the token, listens on loopback
only, and the address opens the page (the token then lives in a cookie); `--sample` fills the
random-sample queue."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from docpipe.core.child_server import free_port

pytestmark = pytest.mark.slow  # one light process (no Prefect, no model): the in-process lane takes it


def test_the_printed_address_opens_the_page_and_nothing_else_does(out):
    port = free_port()
    command = [sys.executable, "-m", "docpipe", "review", str(out), "--port", str(port), "--sample", "1",
               "--sample-above", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, env=dict(os.environ, COLUMNS="200"))
    try:
        printed, address = "", None
        deadline = time.monotonic() + 60
        while address is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            printed += line
            found = re.search(rf"http://127\.0\.0\.1:{port}/\?token=([\w-]+)", line)
            address = found.group(0) if found else None
        assert address is not None, printed
        assert "1 documents drawn at random" in printed
        for _ in range(100):  # uvicorn starts listening just after the address is printed
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/invoice/").status_code == 403  # no token
        with httpx.Client(follow_redirects=True) as browser:
            page = browser.get(address)
            assert page.status_code == 200 and "invoice_acme.pdf" in page.text
            assert "token" not in str(page.url)
            assert "random sample (1)" in browser.get(f"http://127.0.0.1:{port}/invoice/").text
            rebinding = browser.get(f"http://127.0.0.1:{port}/invoice/", headers={"Host": f"evil.example:{port}"})
            assert rebinding.status_code == 403
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=20)
