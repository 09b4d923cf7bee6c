"""The served engine's token offsets: where each token ends in the answer's text, as the local
engine counts them (the characters of the bytes so far; a character split over tokens ends with
its last byte), for any text and any split of its bytes into tokens."""

from __future__ import annotations

import bisect
import itertools

from hypothesis import given
from hypothesis import strategies as st

from docpipe.engines.served.openai_messages import token_offsets


def _whole_characters(text: str, pieces: list[bytes]) -> tuple[int, ...]:
    """By definition, counted on the characters rather than by decoding: after each token, the
    number of characters of `text` whose last byte is among the bytes written so far."""
    last_bytes = list(itertools.accumulate(len(ch.encode()) for ch in text))  # where each character ends
    written = itertools.accumulate(len(piece) for piece in pieces)
    return tuple(bisect.bisect_right(last_bytes, n) for n in written)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:])] or [b""]


@given(st.text(max_size=60), st.lists(st.integers(min_value=0, max_value=400), max_size=30))
def test_offsets_follow_the_bytes_of_any_split(text, cuts):
    pieces = _split(text.encode(), cuts)
    entries = [{"token": p.decode("utf-8", errors="replace"), "bytes": list(p)} for p in pieces]
    assert token_offsets(entries, text) == _whole_characters(text, pieces)


def test_ascii_answer_and_a_character_split_over_two_tokens():
    entries = [{"token": t, "bytes": list(t.encode())} for t in ['{"a', '":"', 'x"}']]
    assert token_offsets(entries, '{"a":"x"}') == (3, 6, 9)
    euro = "€".encode()  # three bytes: the character ends with the token holding its last byte
    entries = [{"token": "", "bytes": list(euro[:2])}, {"token": "€", "bytes": list(euro[2:])}, {"token": "1", "bytes": [49]}]
    assert token_offsets(entries, "€1") == (0, 1, 2)


def test_without_bytes_the_token_strings_count():
    entries = [{"token": "ab"}, {"token": "c"}]
    assert token_offsets(entries, "abc") == (2, 3)
