"""Test engines: every method of the Engine protocol (engines/base.py), and answers without a model:
samples/ground_truth.json (what a perfect model would say), or one constant answer."""

from __future__ import annotations

import json
import math
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


class ProbableTruthEngine(FakeEngine):
    """Ground truth as the answer; token i (one character each) has probability q ** (i % 9), with
    q = 0.9 for half the documents (their least certain field falls under 0.5: auto reads them
    again at a higher budget) and 0.97 for the others."""

    name = "probable-truth"

    def __init__(self, samples: Path):
        truth = json.loads((samples / "ground_truth.json").read_text())
        self.answers = {sha256_file(samples / name): entry["fields"] for name, entry in truth.items()}

    def generate(self, requests):
        out = []
        for r in requests:
            fields = self.answers.get(r.doc_id)
            text = json.dumps(fields, separators=(",", ":")) if fields else "no idea"
            q = 0.9 if int(r.doc_id[:2], 16) % 2 else 0.97
            logprobs = tuple(math.log(q ** (i % 9)) for i in range(len(text)))
            out.append(RawGeneration(
                r.doc_id, text, 100 * len(r.images), len(text), "stop", 0.01,
                token_logprobs=logprobs, token_ends=tuple(range(1, len(text) + 1)),
                constrained=r.json_schema is not None, page_nos=r.page_nos,
            ))
        return out
