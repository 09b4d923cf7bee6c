"""Calibration from reviews: the share right per confidence bin, and the estimated error rate of the
values nobody reviewed, with intervals that hold the truth and widen where reviews are few."""

from __future__ import annotations

import numpy as np
import pandas as pd
from docpipe.eval.calibration import EDGES, bin_of, calibrate


def _world(seed: int, reviewed_per_bin: int, error_by_bin: dict[int, float], values_per_bin: int = 2000):
    """Values spread over the bins; each bin's values wrong at its rate; `reviewed_per_bin` of each
    bin reviewed (chosen at random, so the estimate's assumption holds)."""
    rng = np.random.default_rng(seed)
    confidence, wrong = [], []
    for b in range(len(EDGES) - 1):
        low, high = EDGES[b], EDGES[b + 1]
        values = rng.uniform(low, min(high, 0.99999), values_per_bin)
        confidence.append(values)
        wrong.append(rng.random(values_per_bin) < error_by_bin.get(b, 0.0))
    confidence, wrong = np.concatenate(confidence), np.concatenate(wrong)
    chosen = np.concatenate([rng.choice(np.flatnonzero(bin_of(confidence) == b), reviewed_per_bin, replace=False)
                             for b in range(len(EDGES) - 1)]) if reviewed_per_bin else np.array([], dtype=int)
    reviewed = pd.DataFrame({"doc_id": [str(i) for i in chosen], "confidence": confidence[chosen],
                             "right": ~wrong[chosen]})
    unreviewed = np.ones(len(confidence), bool)
    unreviewed[chosen] = False
    return confidence, wrong, reviewed, unreviewed


def test_the_estimated_error_rate_of_unreviewed_values_holds_the_truth():
    errors = {0: 0.6, 1: 0.35, 2: 0.2, 3: 0.12, 4: 0.06, 5: 0.03, 6: 0.02, 7: 0.01, 8: 0.004}
    confidence, wrong, reviewed, unreviewed = _world(1, 200, errors)
    bins, thresholds = calibrate(confidence, reviewed)
    assert bins["reviewed"].tolist() == [200] * 9
    assert bins["unreviewed"].sum() == unreviewed.sum()
    true_share = 1 - np.array([errors[b] for b in range(9)])
    inside = (bins["share_right_low"] <= true_share) & (true_share <= bins["share_right_high"])
    assert inside.sum() >= 8  # 95% intervals: at most one of nine misses, by chance
    for row in thresholds.itertuples():
        chosen = unreviewed & (confidence >= row.threshold)
        truth = wrong[chosen].mean()
        assert row.unreviewed == chosen.sum()
        assert row.error_rate_low <= truth <= row.error_rate_high, (row, truth)
        assert abs(row.estimated_error_rate - truth) < 0.03
    rates = thresholds["estimated_error_rate"].to_numpy()
    assert (np.diff(rates) <= 1e-9).all()  # a higher threshold keeps fewer errors


def test_a_bin_without_reviews_widens_the_interval_and_is_counted():
    confidence, wrong, reviewed, _ = _world(2, 200, {8: 0.01})
    few = reviewed[reviewed["confidence"] < 0.999]  # nobody reviewed a value above 0.999
    _, thresholds = calibrate(confidence, few)
    top = thresholds.set_index("threshold").loc[0.999]
    assert top["bins_without_reviews"] == 1
    assert top["error_rate_high"] - top["error_rate_low"] > 0.8  # anything from 0 to 1
    _, known = calibrate(confidence, reviewed)
    assert known.set_index("threshold").loc[0.999, "error_rate_high"] < 0.05
