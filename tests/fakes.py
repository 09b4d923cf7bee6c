"""A test engine that answers with samples/ground_truth.json: what a perfect model would say."""

from __future__ import annotations

import json
from pathlib import Path

from docpipe.core.types import RawGeneration
from docpipe.ingest.discover import sha256_file


class GroundTruthEngine:
    name = "ground-truth"

    def queue_depth(self):
        return 8

    def __init__(self, samples: Path):
        truth = json.loads((samples / "ground_truth.json").read_text())
        self.answers = {sha256_file(samples / name): entry for name, entry in truth.items()}
        self.calls = 0

    def generate(self, requests):
        self.calls += len(requests)
        out = []
        for r in requests:
            entry = self.answers.get(r.doc_id)
            text = json.dumps(entry["fields"]) if entry else "no idea"
            out.append(RawGeneration(r.doc_id, text, 100, 50, "stop", 0.01, page_nos=r.page_nos))
        return out


class ConstantEngine:
    """Answers every request with the same JSON: for tests about everything but the model."""

    name = "constant"

    def queue_depth(self):
        return 8

    def __init__(self, answer: str = "{}"):
        self.answer = answer
        self.requests = []

    def generate(self, requests):
        self.requests += list(requests)
        return [RawGeneration(r.doc_id, self.answer, 10, 2, "stop", 0.0, page_nos=r.page_nos) for r in requests]
