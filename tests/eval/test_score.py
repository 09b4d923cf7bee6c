"""The scorer on hand-made cases whose answers are known."""

from __future__ import annotations

import datetime as dt

import pytest

from docpipe.eval.match import match_items
from docpipe.eval.score import AMOUNT_TOLERANCE, score_field, score_record, values_equal
from docpipe.eval.sroie import score_sroie
from docpipe.schema.load import resolve_schema

INVOICE = resolve_schema("invoice")
FIELDS = {spec.name: spec for spec in INVOICE.fields}
ITEMS = [
    {"description": "Rocket skates", "quantity": 2, "unit_price": 349, "amount": 698},
    {"description": "Rubber band", "quantity": 5, "unit_price": 42.5, "amount": 212.5},
    {"description": "Anvil, 100 lb", "quantity": 1, "unit_price": 219.99, "amount": 219.99},
]
TRUTH = {
    "invoice_number": "INV-7",
    "invoice_date": "2026-03-03",
    "due_date": None,
    "seller_name": "Acme Industrial Supply Co.",
    "buyer_name": "Wile E. Coyote",
    "total": 1545.8,
    "line_items": ITEMS,
}


def _by_field(score):
    return {f.field: f for f in score.fields}


def test_a_perfect_record_scores_one_everywhere():
    score = score_record(INVOICE, TRUTH, dict(TRUTH))
    assert score.exact == 1.0 and score.anls == 1.0
    fields = _by_field(score)
    assert [f.outcome for f in score.fields] == ["match", "match", "empty", "match", "match", "match", "match"]
    assert fields["line_items"].precision == fields["line_items"].recall == fields["line_items"].f1 == 1.0
    assert set(fields) == set(TRUTH)  # unlabelled fields (seller_address, tax, ...) are not scored


def test_a_partial_record_loses_exactly_the_wrong_fields():
    predicted = dict(TRUTH, invoice_number="INV-1", total=1500.0)
    score = score_record(INVOICE, TRUTH, predicted)
    fields = _by_field(score)
    assert fields["invoice_number"].outcome == fields["total"].outcome == "mismatch"
    assert score.exact == pytest.approx(5 / 7)
    # ANLS* of "inv-7" against "inv-1": one edit in five characters
    assert fields["invoice_number"].anls == pytest.approx(0.8)
    assert fields["total"].anls == pytest.approx(1 - 3 / 7)  # "1545.80" vs "1500.00": 3 edits in 7


def test_swapped_fields_are_two_mismatches():
    predicted = dict(TRUTH, seller_name=TRUTH["buyer_name"], buyer_name=TRUTH["seller_name"])
    fields = _by_field(score_record(INVOICE, TRUTH, predicted))
    assert fields["seller_name"].outcome == fields["buyer_name"].outcome == "mismatch"
    assert fields["seller_name"].anls == 0.0 and fields["buyer_name"].anls == 0.0  # under ANLS's 0.5 threshold


def test_missing_and_extra_are_told_apart():
    predicted = dict(TRUTH, total=None, due_date="2026-04-02")
    fields = _by_field(score_record(INVOICE, TRUTH, predicted))
    missing, extra = fields["total"], fields["due_date"]
    assert (missing.outcome, missing.exact, missing.labelled, missing.predicted, missing.anls) == ("missing", False, 1, 0, 0.0)
    assert (extra.outcome, extra.exact, extra.labelled, extra.predicted, extra.anls) == ("extra", False, 0, 1, 0.0)
    assert missing.recall == 0.0 and missing.precision is None
    assert extra.precision == 0.0 and extra.recall is None


def test_no_record_at_all_means_every_labelled_value_is_missing():
    score = score_record(INVOICE, TRUTH, None)
    outcomes = [f.outcome for f in score.fields]
    assert outcomes.count("missing") == 6 and outcomes.count("empty") == 1
    assert score.exact == pytest.approx(1 / 7)  # the one labelled-empty field is right


def test_reordered_line_items_are_a_perfect_match():
    field = score_field(FIELDS["line_items"], ITEMS, list(reversed(ITEMS)))
    assert field.exact and (field.found, field.labelled, field.predicted) == (3, 3, 3)
    assert field.anls == 1.0


def test_line_items_wrong_and_missing_count_into_precision_and_recall():
    predicted = [dict(ITEMS[2]), dict(ITEMS[0], amount=699)]  # item 1 missing, item 0 off by one
    field = score_field(FIELDS["line_items"], ITEMS, predicted)
    assert (field.found, field.labelled, field.predicted) == (1, 3, 2)
    assert field.precision == pytest.approx(1 / 2) and field.recall == pytest.approx(1 / 3)
    assert field.f1 == pytest.approx(2 * 1 / (3 + 2))
    assert field.outcome == "mismatch" and not field.exact


def test_extra_line_items_lower_precision_only():
    predicted = [*ITEMS, {"description": "Gift wrap", "quantity": 1, "unit_price": 5, "amount": 5}]
    field = score_field(FIELDS["line_items"], ITEMS, predicted)
    assert field.recall == 1.0 and field.precision == pytest.approx(3 / 4) and not field.exact


@pytest.mark.parametrize("printed", ["1,545.80", "$1,545.80", "1545.8", 1545.8, "1545.80 USD", "1.545,80 €"])
def test_amounts_formatted_differently_are_equal(printed):
    assert score_field(FIELDS["total"], "1545.80", printed).exact


@pytest.mark.parametrize("printed", [1545.81, "1545.8025", 1545.8 + AMOUNT_TOLERANCE / 2])
def test_money_is_compared_exactly_and_numbers_within_half_a_cent(printed):
    assert not score_field(FIELDS["total"], "1545.80", printed).exact  # money: exact amounts
    quantity = FIELDS["line_items"].fields[1]
    assert quantity.kind == "number" and values_equal(quantity, 2.0, 2.0 + AMOUNT_TOLERANCE / 2)


def test_dates_are_compared_as_dates_and_text_casefolded():
    assert score_field(FIELDS["invoice_date"], "2026-03-03", dt.date(2026, 3, 3)).exact
    assert score_field(FIELDS["invoice_date"], "2026-03-03", "3 March 2026").exact
    assert not score_field(FIELDS["invoice_date"], "2026-03-03", "2026-03-04").exact
    assert score_field(FIELDS["seller_name"], "ACME  Industrial\nSupply", " acme industrial supply").exact


def test_the_hungarian_pairing_beats_greedy():
    # greedy takes (a, a') = 0.9 and is left with (b, b') = 0; the best total pairs a-b' and b-a'
    similarity = {("a", "a'"): 0.9, ("a", "b'"): 0.8, ("b", "a'"): 0.7, ("b", "b'"): 0.0}
    match = match_items(
        [{"id": "a"}, {"id": "b"}], [{"id": "a'"}, {"id": "b'"}],
        lambda t, p: similarity[(t["id"], p["id"])], lambda t, p: False,
    )
    assert set(match.pairs) == {(0, 1), (1, 0)}


def test_sroie_counts_strings_as_printed():
    labels = {"company": "BOOK TA .K SDN BHD", "date": "25/12/2018", "address": "NO.53, JALAN SAGU 18", "total": "9.00"}
    record = {"merchant_name": "Book  Ta .K Sdn Bhd", "date_raw": "25/12/2018", "date": dt.date(2018, 12, 25),
              "total_raw": "RM9.00", "total": 9.0, "merchant_address": None}
    verdicts = {v.field: v for v in score_sroie(labels, record)}
    assert verdicts["merchant_name"].correct and verdicts["date"].correct
    assert not verdicts["total"].correct and verdicts["total"].submitted  # "RM9.00" is not "9.00"
    assert not verdicts["merchant_address"].submitted and verdicts["merchant_address"].labelled
