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


class SortingTruthEngine(FakeEngine):
    """A perfect reader of a mixed folder (samples/ whole): a sorting request is answered with the
    labelled class of the document its page belongs to (with --split: and whether the page is
    that document's first), an extraction request with that document's labelled fields. Every
    character has probability `probability`, or `unsure` for the documents named in `doubtful`
    (a class the model is unsure of). `asked` keeps (doc_id, pages, sorting?) per request."""

    name = "sorting-truth"

    def __init__(self, folder: Path, probability: float = 0.99, unsure: float = 0.3, doubtful: tuple[str, ...] = ()):
        self.documents: dict[str, list[tuple[int, int, str, dict]]] = {}
        for labels in sorted(folder.rglob("ground_truth.json")):
            for name, entry in json.loads(labels.read_text()).items():
                parts = entry.get("segments") or [{"pages": [1, 999], "schema": entry["schema"], "fields": entry["fields"]}]
                self.documents[sha256_file(labels.parent / name)] = [
                    (p["pages"][0], p["pages"][1], p["schema"], p["fields"]) for p in parts]
        self.doubtful = {sha256_file(folder / name) for name in doubtful}
        self.probability, self.unsure = probability, unsure
        self.asked: list[tuple[str, tuple[int, ...], bool]] = []

    def generate(self, requests):
        out = []
        for r in requests:
            sorting = '"document_type"' in (r.json_schema or "")
            self.asked.append((r.doc_id, tuple(r.page_nos), sorting))
            first = r.page_nos[0]
            start, _, schema, fields = next(s for s in self.documents[r.doc_id] if s[0] <= first <= s[1])
            if sorting:  # as the grammar holds a model: a class the run did not give is `other`
                allowed = _classes(r.json_schema)
                answer = {"document_type": schema if schema in allowed else "other"}
                if '"first_page"' in r.json_schema:
                    answer = {"first_page": first == start, **answer}
            else:
                answer = fields
            text = json.dumps(answer, separators=(",", ":"))
            q = self.unsure if r.doc_id in self.doubtful and sorting else self.probability
            out.append(RawGeneration(
                r.doc_id, text, 100 * len(r.images), len(text), "stop", 0.01,
                token_logprobs=tuple(math.log(q) for _ in text), token_ends=tuple(range(1, len(text) + 1)),
                constrained=r.json_schema is not None, page_nos=r.page_nos,
            ))
        return out


def _classes(json_schema: str) -> list[str]:
    """The classes a sorting request allows (the enum of its document_type)."""
    return json.loads(json_schema)["properties"]["document_type"]["enum"]
