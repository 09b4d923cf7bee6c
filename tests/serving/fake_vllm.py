"""A stand-in for `python -m vllm.entrypoints.openai.api_server`, shaped like vLLM's processes:
an API server answering /health and /v1/models on --port, and an engine process in the same
process group (vLLM's EngineCore outlives a killed API server). It loads no model, so tests of a
server's lifetime need no vLLM environment and no cold start.

Used as DOCPIPE_VLLM_PYTHON through a one-line shell wrapper (see `fake_vllm_python`), which
passes vLLM's command line through unchanged."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _engine() -> None:
    while True:
        time.sleep(60)


def _serve(port: int, name: str) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"data": [{"id": name}]}).encode() if self.path == "/v1/models" else b"{}"
            self.send_response(200 if self.path in ("/health", "/v1/models") else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    # the engine process: a child, so in this process group, as vLLM's are
    subprocess.Popen([sys.executable, __file__, "--engine"])
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def main(argv: list[str]) -> None:
    if argv[:1] == ["--engine"]:
        _engine()
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("-m")
    parser.add_argument("--port", type=int)
    parser.add_argument("--served-model-name")
    known, _ = parser.parse_known_args(argv)
    _serve(known.port, known.served_model_name)


if __name__ == "__main__":
    main(sys.argv[1:])
