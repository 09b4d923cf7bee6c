"""The sorting's instructions and key, and the rules that cut pages into segments (docpipe/classify)."""

from __future__ import annotations

import dataclasses

from docpipe.classify.prompt import answer_json_schema, instructions, sorting_key
from docpipe.classify.segments import split_pages, whole_document
from docpipe.core.types import PageClass
from docpipe.schema.load import load_schema, resolve_schema


def _page(n, label, starts=None, confidence=0.9):
    return PageClass(n, label, confidence, starts, 0.9)


def test_pages_join_while_the_model_says_they_continue_the_same_class():
    pages = [_page(1, "invoice", True), _page(2, "invoice", False), _page(3, "receipt", False),
             _page(4, "invoice", True), _page(5, "other", False), _page(6, "other", False), _page(7, None)]
    cut = split_pages(pages, threshold=0.5, max_pages=50)
    assert [(s.page_from, s.page_to, s.label, s.schema) for s in cut] == [
        (1, 2, "invoice", "invoice"),
        (3, 3, "receipt", "receipt"),  # a change of class starts a document, whatever `starts` says
        (4, 4, "invoice", "invoice"),
        (5, 5, "other", None), (6, 6, "other", None),  # a page that fits nothing is its own segment
        (7, 7, "other", None),  # an unreadable answer too
    ]
    assert cut[-1].rule.startswith("unreadable answer")
    assert [s.number for s in cut] == [1, 2, 3, 4, 5, 6]


def test_a_segment_is_as_sure_as_its_least_sure_page_and_is_cut_at_the_page_cap():
    pages = [_page(1, "invoice", True, 0.9), _page(2, "invoice", False, 0.4), _page(3, "invoice", False, 0.9)]
    [one] = split_pages(pages, threshold=0.5, max_pages=50)
    assert one.confidence == 0.4 and one.schema is None and one.rule.startswith("below --class-threshold 0.5 (0.40)")
    capped = split_pages(pages, threshold=0.3, max_pages=2)
    assert [(s.page_from, s.page_to) for s in capped] == [(1, 2), (3, 3)]
    assert capped[0].rule == "model; cut at --segment-max-pages 2" and capped[1].rule == "model"


def test_a_document_not_split_is_one_segment_over_its_pages():
    segment = whole_document(_page(1, "receipt"), [1, 2, 3], threshold=0.5)
    assert (segment.page_from, segment.page_to, segment.schema, segment.rule) == (1, 3, "receipt", "model")


def test_the_grammar_allows_only_the_classes_and_never_null():
    shape = answer_json_schema(["invoice", "receipt"], split=True)
    assert shape["properties"]["document_type"]["enum"] == ["invoice", "receipt", "other"]
    assert shape["properties"]["first_page"]["type"] == "boolean"
    assert list(shape["properties"]) == ["first_page", "document_type"]


def test_a_hint_guides_sorting_only(tmp_path):
    path = tmp_path / "receipt.yaml"
    path.write_text(resolve_schema("receipt").source + "hint: Printed on a till roll, narrow.\n", encoding="utf-8")
    hinted, plain = load_schema(path), resolve_schema("receipt")
    assert hinted.hint == "Printed on a till roll, narrow." and hinted.fingerprint == plain.fingerprint
    invoice = resolve_schema("invoice")
    text = instructions([invoice, hinted], split=False)
    assert "- receipt: receipt. A till receipt from a shop, restaurant or service. Printed on a till roll, narrow." in text
    assert "- other:" in text
    keys = {sorting_key([invoice, s], False, 140, 0.5, 1, 50) for s in (hinted, plain)}
    assert len(keys) == 2  # another hint is another sorting: read again
    bumped = dataclasses.replace(plain, version=plain.version + 1)
    assert sorting_key([invoice, bumped], False, 140, 0.5, 1, 50) != sorting_key([invoice, plain], False, 140, 0.5, 1, 50)
