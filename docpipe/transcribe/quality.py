"""Quality signals of a transcript: token probabilities, and on pages with a text layer the
character error rate against it (a free check on born-digital pages)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

_MARKUP = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s?)|[*_`]+|^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$",
                     re.MULTILINE)


def plain_text(markdown: str) -> str:
    """Markdown reduced to its words: heading, list, quote and emphasis marks and table rules
    dropped, table pipes turned into spaces, whitespace collapsed."""
    text = _MARKUP.sub(" ", markdown).replace("|", " ")
    return " ".join(text.split())


def character_error_rate(transcript: str, reference: str) -> float | None:
    """Edit distance between the transcript's plain text and the reference (whitespace
    collapsed), divided by the reference's length; None for an empty reference."""
    ours, theirs = plain_text(transcript), " ".join(reference.split())
    if not theirs:
        return None
    return Levenshtein.distance(ours, theirs) / len(theirs)


def probability_summary(logprobs: Sequence[float]) -> tuple[float | None, float | None]:
    """(lowest, mean) token probability; (None, None) when the engine gave none."""
    if not logprobs:
        return None, None
    probs = [math.exp(v) for v in logprobs]
    return min(probs), sum(probs) / len(probs)
