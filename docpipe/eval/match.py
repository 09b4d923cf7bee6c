"""List fields (line items): pair labelled and predicted items optimally, then count.

Items have no identity and their order on the page says nothing the model must repeat, so the
pairing is the one that maximises the summed item similarity (the Hungarian method,
`scipy.optimize.linear_sum_assignment`). An item's similarity to another is the mean, over the
sub-fields its label gives, of 1 for an exact match (score.values_equal) and otherwise ANLS* of the
two values as text for text sub-fields (0 for amounts, numbers and dates: close is not right).

A labelled item counts as found (a true positive) when its partner matches it exactly on every
labelled sub-field. precision = found / predicted items, recall = found / labelled items, F1 their
harmonic mean, which is 2 * found / (labelled + predicted); a ratio whose denominator is 0 is
undefined (None): precision when nothing was predicted, recall when nothing was labelled, F1 when
neither was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment


class Counted:
    """Precision, recall and F1 of anything that counts `found`, `labelled` and `predicted`
    values (None where a denominator is 0)."""

    found: int
    labelled: int
    predicted: int

    @property
    def precision(self) -> float | None:
        return ratio(self.found, self.predicted)

    @property
    def recall(self) -> float | None:
        return ratio(self.found, self.labelled)

    @property
    def f1(self) -> float | None:
        return ratio(2 * self.found, self.labelled + self.predicted)


@dataclass(frozen=True)
class ListMatch(Counted):
    pairs: tuple[tuple[int, int], ...]  # (labelled index, predicted index) of the optimal pairing
    found: int  # pairs that match exactly
    labelled: int
    predicted: int


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def match_items(
    truth: Sequence[dict[str, Any]],
    predicted: Sequence[dict[str, Any]],
    similarity: Callable[[dict[str, Any], dict[str, Any]], float],
    exact: Callable[[dict[str, Any], dict[str, Any]], bool],
) -> ListMatch:
    if not truth or not predicted:
        return ListMatch((), 0, len(truth), len(predicted))
    scores = np.array([[similarity(t, p) for p in predicted] for t in truth], dtype=float)
    # exact pairs first: a tie in similarity must not pair an item away from its exact twin
    bonus = np.array([[1.0 if exact(t, p) else 0.0 for p in predicted] for t in truth])
    rows, cols = linear_sum_assignment(scores + bonus, maximize=True)
    pairs = tuple((int(r), int(c)) for r, c in zip(rows, cols, strict=True))
    found = sum(1 for r, c in pairs if bonus[r, c])
    return ListMatch(pairs, found, len(truth), len(predicted))
