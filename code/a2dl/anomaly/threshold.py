"""From reconstruction errors to decisions: per-series relative errors and the threshold rule.

The rule, stated once and applied unchanged to the test split: a window is anomalous when its
relative error (its reconstruction error divided by the median error of the training windows
of the same series) reaches the 99th percentile of the relative errors of the *normal*
validation windows. It fixes the false-alarm rate on normal data at about 1 %, which is what an
operator budgets for, instead of chasing F1 on a split where anomalies are rare and hard.
Dividing by a per-series reference makes one threshold meaningful across series whose errors
differ by orders of magnitude; the reference uses training windows only.
"""

from __future__ import annotations

import numpy as np

NORMAL_PERCENTILE = 99.0


def series_reference(errors: np.ndarray, series: np.ndarray, n_series: int) -> np.ndarray:
    """Median training error of each series (1 where a series has no training window)."""
    reference = np.ones(n_series)
    for index in np.unique(series):
        median = float(np.median(errors[series == index]))
        reference[index] = median if median > 0 else 1.0
    return reference


def relative_errors(errors: np.ndarray, series: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return errors / reference[series]


def normal_percentile_threshold(
    scores: np.ndarray, labels: np.ndarray, percentile: float = NORMAL_PERCENTILE
) -> float:
    """The ``percentile`` of the scores of the windows labelled normal."""
    normal = scores[~labels]
    if normal.size == 0:
        raise ValueError("the threshold needs validation windows labelled normal; there are none")
    return float(np.percentile(normal, percentile))


def flag(scores: np.ndarray, threshold: float) -> np.ndarray:
    return scores >= threshold
