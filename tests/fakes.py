"""Test engines: every method of the Engine protocol (engines/base.py), and answers without a model:
samples/ground_truth.json (what a perfect model would say), or one constant answer."""

from __future__ import annotations

import json
from pathlib import Path

from docpipe.core.types import RawGeneration
from docpipe.ingest.discover import sha256_file


class FakeEngine:
    """What every test engine shares: no model on a GPU, nothing to give back, nothing to say."""

    name = "fake"
    choice = None
    gpu = False  # pretend to hold this host's GPU (takes the model slot)

    def queue_depth(self):
        return 8

    def holds_gpu(self):
        return self.gpu

    def close(self):
        pass

    def notes(self):
        return []


class GroundTruthEngine(FakeEngine):
    name = "ground-truth"

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


class ConstantEngine(FakeEngine):
    """Answers every request with the same JSON: for tests about everything but the model."""

    name = "constant"

    def __init__(self, answer: str = "{}"):
        self.answer = answer
        self.requests = []

    def generate(self, requests):
        self.requests += list(requests)
        return [RawGeneration(r.doc_id, self.answer, 10, 2, "stop", 0.0, page_nos=r.page_nos) for r in requests]
