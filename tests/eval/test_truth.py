"""Labels: docpipe's formats and the adapters for the public ones in ../shared/corpus/kie."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from docpipe.eval.score import score_record
from docpipe.eval.truth import for_schema, load_truth
from docpipe.schema.load import resolve_schema
from tests.conftest import SAMPLES, corpus_file


def test_the_one_file_format_and_a_folder_of_one_file_per_document_agree(tmp_path):
    one_file = load_truth(SAMPLES / "ground_truth.json")
    assert {t.key for t in one_file} == set(json.loads((SAMPLES / "ground_truth.json").read_text()))
    assert [t for t in load_truth(SAMPLES) if t.pages is None] == one_file  # a folder holding the one file
    packet = [t for t in load_truth(SAMPLES) if t.pages is not None]  # and samples/packet's labels
    assert [(t.key, t.pages, t.schema) for t in packet] == [
        ("scanned_batch.pdf", (1, 1), "invoice"), ("scanned_batch.pdf", (2, 2), "receipt"),
        ("scanned_batch.pdf", (3, 4), "invoice")]
    assert packet[2].label == "scanned_batch.pdf#p3-4"
    for truth in one_file:  # per document, named after the document's stem, with or without "schema"
        entry = {"schema": truth.schema, "fields": truth.fields} if truth.schema == "invoice" else truth.fields
        (tmp_path / f"{truth.key.rsplit('.', 1)[0]}.json").write_text(json.dumps(entry))
    folder = {t.key: t for t in load_truth(tmp_path)}
    assert set(folder) == {t.key.rsplit(".", 1)[0] for t in one_file}
    assert folder["invoice_acme"].schema == "invoice" and folder["receipt_cafe"].schema == ""
    invoice = resolve_schema("invoice")
    kept, other = for_schema(list(folder.values()), "invoice", {f.name for f in invoice.fields})
    assert sorted(t.key for t in kept) == ["invoice_acme", "invoice_globex_2p", "invoice_initech_scan", "invoice_umbrella_scan"]
    assert sorted(t.key for t in other) == ["receipt_cafe", "receipt_grocery_scan"]  # fields not in invoice


def _kie(folder: str):
    corpus_file("kie/manifest.tsv")
    return load_truth(corpus_file("kie/manifest.tsv").parent / folder)


def test_sroie_keys_become_receipt_fields():
    corpus_file("kie/sroie/sroie_000.json")
    truths = {t.key: t for t in _kie("sroie")}
    assert len(truths) == 18 and {t.schema for t in truths.values()} == {"receipt"}
    first = truths["sroie_000"]
    assert first.format == "sroie"
    assert first.fields == {
        "merchant_name": "BOOK TA .K (TAMAN DAYA) SDN BHD",
        "date": "25/12/2018",
        "merchant_address": "NO.53 55,57 & 59, JALAN SAGU 18, TAMAN DAYA, 81100 JOHOR BAHRU, JOHOR.",
        "total": "9.00",
    }
    assert first.original["company"] == "BOOK TA .K (TAMAN DAYA) SDN BHD"


def test_funsd_pairs_become_the_forms_question_answer_list():
    corpus_file("kie/funsd/funsd_82092117.kv.json")
    truths = {t.key: t for t in _kie("funsd")}
    assert len(truths) == 12 and {t.schema for t in truths.values()} == {"form"}  # entity JSONs skipped
    pairs = truths["funsd_82092117"].fields["fields"]
    assert len(pairs) == 9 and pairs[0] == {"key": "TO:", "value": "George Baroody"}


def test_invoice2data_expected_json_becomes_invoice_fields():
    corpus_file("kie/invoices/AmazonWebServices.json")
    truths = {t.key: t for t in _kie("invoices")}
    assert len(truths) == 8 and {t.schema for t in truths.values()} == {"invoice"}
    assert truths["AmazonWebServices"].fields == {
        "seller_name": "Amazon Web Services", "total": 4.11, "subtotal": 4.11, "invoice_date": "2014-08-03",
        "invoice_number": "42183017", "currency": "USD",
    }
    assert truths["AzureInterior"].fields["due_date"] == "2023-04-04"
    assert truths["AzureInterior"].fields["tax"] == 16.94


@pytest.mark.parametrize("folder", ["sroie", "funsd", "invoices"])
def test_every_corpus_label_types_and_scores_perfectly_against_itself(folder):
    corpus_file("kie/manifest.tsv")
    for truth in _kie(folder):
        schema = resolve_schema(truth.schema)
        score = score_record(schema, truth.fields, truth.fields)
        assert score.exact == 1.0 and score.anls == 1.0, truth.key


def test_sroie_dates_type_day_first():
    corpus_file("kie/sroie/sroie_000.json")
    from docpipe.eval.score import typed

    receipt = {f.name: f for f in resolve_schema("receipt").fields}
    assert typed(receipt["date"], _kie_one("sroie", "sroie_000").fields["date"]) == dt.date(2018, 12, 25)


def _kie_one(folder: str, key: str):
    return next(t for t in _kie(folder) if t.key == key)
