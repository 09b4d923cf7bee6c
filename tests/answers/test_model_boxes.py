"""`--boxes model`: the model writes a box_2d beside every value. The grammar takes exactly four
integers from 0 to 1000 (and, for several images, an image number that exists); a fake engine's
boxes round-trip into the records table turned into page coordinates; where the text layer also
found the value, its box is kept and the overlap with the model's recorded."""

from __future__ import annotations

import json
import math

import llguidance
import llguidance.hf
import pandas as pd
import pymupdf
import pytest

from docpipe.answers.model_boxes import combine, iou, model_box
from docpipe.answers.validate import validate_generation
from docpipe.core.types import Box, ModelRequest, RawGeneration
from docpipe.engines.tiny_checkpoint import build_processor
from docpipe.ingest.discover import sha256_file
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.kinds import Kind
from docpipe.schema.load import resolve_schema
from docpipe.schema.prompt import build_prompt
from docpipe.schema.spec import FieldSpec, Schema
from tests.conftest import SAMPLES
from tests.fakes import GroundTruthEngine


@pytest.fixture(scope="module")
def tokenizer():
    hf = build_processor().tokenizer
    return hf, llguidance.hf.from_tokenizer(hf, n_vocab=len(hf), eos_token=[hf.eos_token_id])


def _accepts(tokenizer, json_schema: dict, text: str) -> bool:
    """Whether the grammar of `json_schema` lets an answer write all of `text`."""
    hf, ll = tokenizer
    grammar = llguidance.LLMatcher.grammar_from_json_schema(json_schema, defaults={"whitespace_flexible": False})
    matcher = llguidance.LLMatcher(ll, grammar, log_level=0)
    tokens = hf.encode(text, add_special_tokens=False)
    return matcher.validate_tokens(tokens) == len(tokens)


def test_the_grammar_takes_boxes_on_the_grid_and_refuses_anything_else(tokenizer):
    schema = resolve_schema("receipt").json_schema(boxes=1)
    first = schema["properties"]
    name = next(iter(first))
    start = f'{{"{name}":"X","{name}_box_2d":'
    assert _accepts(tokenizer, schema, start + "[0,0,1000,1000]")
    assert _accepts(tokenizer, schema, start + "[12,345,678,999]")
    assert _accepts(tokenizer, schema, start + "null")
    assert not _accepts(tokenizer, schema, start + "[0,0,1001,5]")  # off the grid
    assert not _accepts(tokenizer, schema, start + "[0,0,-1,5]")
    assert not _accepts(tokenizer, schema, start + "[0,0,10,5,7]")  # five numbers
    assert not _accepts(tokenizer, schema, start + "[0,0,10]]")  # three
    assert not _accepts(tokenizer, schema, start + "[0.5,0,10,5]")  # not an integer
    assert not _accepts(tokenizer, schema, f'{{"{name}":"X","other":')  # the box's key comes next


def test_with_several_images_the_box_names_one_that_exists(tokenizer):
    schema = resolve_schema("receipt").json_schema(boxes=2)
    name = next(iter(schema["properties"]))
    start = f'{{"{name}":"X","{name}_box_page":'
    assert _accepts(tokenizer, schema, start + f'2,"{name}_box_2d":[1,2,3,4]')
    assert not _accepts(tokenizer, schema, start + "3")
    assert not _accepts(tokenizer, schema, start + "0")


def test_without_boxes_asked_the_schema_and_prompt_are_as_before():
    invoice = resolve_schema("invoice")
    assert not any("_box" in key for key in json.dumps(invoice.json_schema()).split('"'))
    assert "box_2d" not in build_prompt(invoice)
    assert "box_2d" in build_prompt(invoice, 1) and "_box_page" not in build_prompt(invoice, 1)
    assert "_box_page" in build_prompt(invoice, 3)


def test_a_model_box_turns_from_yx_on_the_grid_into_page_coordinates():
    box = model_box({"total": "9", "total_box_2d": [100, 200, 300, 600]}, "total", (4,), 0.5)
    assert box == Box(4, 0.2, 0.1, 0.6, 0.3, "model", 50.0)
    pages = (3, 4)
    box = model_box({"total_box_page": 2, "total_box_2d": [300, 600, 100, 200]}, "total", pages, None)
    assert (box.page, box.x0, box.y0, box.x1, box.y1) == (4, 0.2, 0.1, 0.6, 0.3)  # corners in any order
    for bad in ([1, 2, 3], [1, 2, 3, 1001], ["1", 2, 3, 4], None, [True, 1, 2, 3]):
        assert model_box({"total_box_2d": bad}, "total", (1,), None) is None
    assert model_box({"total_box_page": 3, "total_box_2d": [1, 2, 3, 4]}, "total", pages, None) is None


def test_the_text_layers_box_wins_and_the_disagreement_is_recorded():
    text = Box(1, 0.1, 0.1, 0.3, 0.2, "text_layer", 100.0)
    close = Box(1, 0.1, 0.1, 0.3, 0.25, "model", 90.0)
    far = Box(1, 0.6, 0.6, 0.8, 0.7, "model", 90.0)
    missing = Box(None, None, None, None, None, "no_text_layer", None)
    got = combine({("a",): text, ("b",): text, ("c",): missing}, {("a",): close, ("b",): far, ("c",): close})
    assert got[("a",)].source == "text_layer" and got[("a",)].model_iou == pytest.approx(2 / 3, abs=1e-3)  # 0.02 of 0.03
    assert got[("b",)].source == "text_layer" and got[("b",)].model_iou == 0.0
    assert got[("c",)] == close
    assert iou(text, Box(2, 0.1, 0.1, 0.3, 0.2, "model", None)) == 0.0  # another page


def test_the_boxs_tokens_give_the_boxs_score_and_never_the_values_confidence():
    text = '{"total":"9.50","total_box_2d":[100,200,300,600]}'
    box_at = text.index("[")
    logprobs = [math.log(0.1) if box_at <= i < len(text) - 1 else 0.0 for i in range(len(text))]
    generation = RawGeneration("d", text, 10, len(text), "stop", 0.0, page_nos=(1,),
                               token_logprobs=logprobs, token_ends=list(range(1, len(text) + 1)))
    schema = Schema("one", 1, "one", "", (FieldSpec("total", Kind.MONEY),))
    record = validate_generation(schema, generation)
    assert record.confidence[("total",)] == 1.0 and record.lowest_confidence == 1.0
    assert record.boxes[("total",)] == Box(1, 0.2, 0.1, 0.6, 0.3, "model", 10.0)


def _drawn(path, text: str) -> tuple[int, list[int]] | None:
    """Where the PDF draws `text`, as Gemma's box_2d on its page: (page, [y1, x1, y2, x2])."""
    with pymupdf.open(path) as doc:
        for page in doc:
            w, h = page.rect.width, page.rect.height
            for r in page.search_for(text):
                return page.number + 1, [round(1000 * r.y0 / h), round(1000 * r.x0 / w),
                                         round(1000 * r.y1 / h), round(1000 * r.x1 / w)]
    return None


class BoxingEngine(GroundTruthEngine):
    """The right values, each with a box: where the PDF draws it (`far`: the opposite corner of
    the page instead), or a fixed box on a scan. Checks every answer against its request's grammar."""

    def __init__(self, samples, tokenizer, far: bool = False):
        super().__init__(samples)
        self.tokenizer, self.far = tokenizer, far
        names = json.loads((samples / "ground_truth.json").read_text())
        self.paths = {sha256_file(samples / name): samples / name for name in names}
        self.requests: list[ModelRequest] = []
        self.checked = 0  # answers the request's grammar accepted

    def _boxed(self, path, values: dict, pages: tuple[int, ...], boxes: bool) -> dict:
        out = {}
        for name, value in values.items():
            if isinstance(value, list):
                out[name] = [self._boxed(path, item, pages, boxes) for item in value]
                continue
            out[name] = value if value is None or isinstance(value, str) else str(value)  # typed kinds: as printed
            if not boxes:
                continue
            where = _drawn(path, str(value)) if value is not None and path.suffix == ".pdf" else None
            if value is not None and path.suffix != ".pdf":
                where = (pages[0], [100, 200, 150, 600])
            if len(pages) > 1:
                out[f"{name}_box_page"] = None if where is None else pages.index(where[0]) + 1
            box = None if where is None else where[1]
            if box is not None and self.far:
                box = [1000 - box[2], 1000 - box[3], 1000 - box[0], 1000 - box[1]]
            out[f"{name}_box_2d"] = box
        return out

    def generate(self, requests):
        self.requests += list(requests)
        out = []
        for r in requests:
            entry = self.answers[r.doc_id]
            asked = json.loads(r.json_schema)
            boxes = "_box_2d" in r.json_schema  # asked for (auto asks only on scans)
            values = self._boxed(self.paths[r.doc_id], entry["fields"], r.page_nos, boxes)
            text = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
            if entry["schema"] == asked["title"]:  # a receipt's answer does not fit the invoice grammar
                assert _accepts(self.tokenizer, asked, text), text
                self.checked += 1
            out.append(RawGeneration(r.doc_id, text, 100, 50, "stop", 0.01, page_nos=r.page_nos))
        return out


def _run(tmp_path, engine, boxes: str = "model", **settings) -> pd.DataFrame:
    config = RunConfig(input=SAMPLES, out=tmp_path / "out", budget=280, render_workers=0, boxes=boxes,
                       exclude=("packet/**",), **settings)  # the six samples: the packet is for sorting
    with plain_stages() as stages:
        execute(config, engine, NoProgress(), resolve_schema("invoice"), stages)
    return pd.read_parquet(tmp_path / "out" / "records" / "invoice")  # each record names its file


def test_model_boxes_round_trip_into_the_records_table(tmp_path, tokenizer):
    engine = BoxingEngine(SAMPLES, tokenizer)
    records = _run(tmp_path, engine)
    assert {len(r.page_nos) for r in engine.requests} == {1, 2}  # the two-page invoice was one request
    two_pages = next(r for r in engine.requests if len(r.page_nos) == 2)
    assert "invoice_number_box_page" in json.loads(two_pages.json_schema)["properties"]
    assert "box_2d" in engine.requests[0].instructions
    assert engine.checked == 4  # every invoice's answer, boxes and all, is one the grammar lets through

    scan = records[records["source_path"].str.endswith("invoice_initech_scan.png")].iloc[0]
    box = scan["invoice_number_box"]
    assert box["source"] == "model" and box["page"] == 1
    assert (box["x0"], box["y0"], box["x1"], box["y1"]) == pytest.approx((0.2, 0.1, 0.6, 0.15))
    assert all(item["description_box"]["source"] == "model" for item in scan["line_items"])

    acme = records[records["source_path"].str.endswith("invoice_acme.pdf")].iloc[0]
    box = acme["invoice_number_box"]
    assert box["source"] == "text_layer" and box["model_iou"] > 0.7  # the same place, seen twice

    globex = records[records["source_path"].str.endswith("invoice_globex_2p.pdf")].iloc[0]
    pages_of_items = {item["description_box"]["page"] for item in globex["line_items"]}
    assert pages_of_items == {1, 2}


def test_a_model_box_that_disagrees_is_recorded_and_the_text_layers_kept(tmp_path, tokenizer):
    records = _run(tmp_path, BoxingEngine(SAMPLES, tokenizer, far=True))
    acme = records[records["source_path"].str.endswith("invoice_acme.pdf")].iloc[0]
    box = acme["invoice_number_box"]
    assert box["source"] == "text_layer" and box["model_iou"] == 0.0 and box["score"] >= 80


def test_asking_for_boxes_is_other_work_than_not(tmp_path, tokenizer):
    """A folder read without boxes is other work than with them (the prompt differs): left as it
    was unless told to read it again (no silent backfill), then read again."""
    config = RunConfig(input=SAMPLES, out=tmp_path / "out", budget=280, render_workers=0)
    with plain_stages() as stages:
        execute(config, GroundTruthEngine(SAMPLES), NoProgress(), resolve_schema("invoice"), stages)
    engine = BoxingEngine(SAMPLES, tokenizer)
    _run(tmp_path, engine)
    assert not engine.requests
    _run(tmp_path, engine, reread="older")
    assert {engine.paths[r.doc_id].name for r in engine.requests} >= {"invoice_acme.pdf", "invoice_initech_scan.png"}


def test_auto_asks_the_model_for_boxes_only_on_pages_without_a_text_layer(tmp_path, tokenizer):
    engine = BoxingEngine(SAMPLES, tokenizer)
    records = _run(tmp_path, engine, boxes="auto")
    asked = {engine.paths[r.doc_id].name: "_box_2d" in r.json_schema for r in engine.requests}
    assert asked == {name: not name.endswith(".pdf") for name in asked} and len(asked) == 6
    scan = records[records["source_path"].str.endswith("invoice_umbrella_scan.tif")].iloc[0]
    assert scan["invoice_number_box"]["source"] == "model"
