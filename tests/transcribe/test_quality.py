"""Quality signals: character error rate against the text layer, token probabilities."""

from __future__ import annotations

import math

import pytest

from docpipe.transcribe.quality import character_error_rate, plain_text, probability_summary


def test_markdown_is_reduced_to_its_words():
    markdown = "# Invoice\n\n**Total:** 12.00\n\n| item | qty |\n|---|---:|\n| Anvil | 1 |\n- first\n2. second"
    assert plain_text(markdown) == "Invoice Total: 12.00 item qty Anvil 1 first second"


def test_character_error_rate_on_known_pairs():
    assert character_error_rate("INVOICE 42\nTotal 12.00", "INVOICE 42 Total 12.00") == 0.0
    assert character_error_rate("# INVOICE 42", "INVOICE 42") == 0.0  # markup is not an error
    assert character_error_rate("INVOICE 4Z", "INVOICE 42") == pytest.approx(1 / 10)
    assert character_error_rate("INVOICE", "INVOICE 42") == pytest.approx(3 / 10)
    assert character_error_rate("", "abcd") == 1.0
    assert character_error_rate("anything", "   ") is None


def test_probability_summary():
    assert probability_summary([]) == (None, None)
    lowest, mean = probability_summary([math.log(0.5), math.log(1.0)])
    assert lowest == pytest.approx(0.5) and mean == pytest.approx(0.75)
