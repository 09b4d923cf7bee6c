"""The patterns compile in llguidance (Rust regex syntax, `(?i:...)` included), quickly, and the
grammar accepts the printed forms the parsers read."""

from __future__ import annotations

import json
import time

import pytest

from docpipe.normalize.patterns import DATE, MONEY, NUMBER

llguidance = pytest.importorskip("llguidance")


@pytest.fixture(scope="module")
def tokenizer():
    """llguidance's byte tokenizer: every string is a sequence of byte tokens, no model needed
    (a real vocabulary is tested with the tiny model in tests/engines/test_constrained.py)."""
    return llguidance.LLTokenizer("byte")


@pytest.mark.parametrize("pattern, texts", [
    (MONEY, ["Rp 221.000", "A$190.00", "1.899,-", "12,50 Kč", "100 руб.", "pln 12,99", "(12.00)",
             "1 200 РУБ.", "35 złotych", "12,50 lei.", "US $ 12.50", "100 грн", "250 ден."]),
    (DATE, ["3. März 2026", "MÄRZ 3, 2026", "13NOV2017", "Mon, 3 March 2026", "20180304", "2018年2月11日"]),
    (NUMBER, ["1.5", "1,23,456"]),
], ids=["money", "date", "number"])
def test_llguidance_compiles_the_patterns_and_accepts_printed_forms(tokenizer, pattern, texts):
    lltok = tokenizer
    start = time.perf_counter()
    grammar = llguidance.LLMatcher.grammar_from_json_schema(
        {"type": "string", "pattern": pattern}, defaults={"whitespace_flexible": False})
    matcher = llguidance.LLMatcher(lltok, grammar, log_level=0)
    assert not matcher.is_error(), matcher.get_error()
    assert time.perf_counter() - start < 1.0  # measured: MONEY 0.01 s, DATE 0.03 s
    for text in texts:
        matcher = llguidance.LLMatcher(lltok, grammar, log_level=0)
        ids = lltok.tokenize_str(json.dumps(text, ensure_ascii=False))
        assert all(matcher.consume_token(i) for i in ids) and matcher.is_accepting(), text
