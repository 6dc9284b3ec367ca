"""From reconstruction errors to decisions: per-series relative errors and the threshold rule.

The rule, stated once and applied unchanged to the test split and to every detector (each
autoencoder and each baseline): a window is anomalous when its relative score (its score
divided by the 99th percentile of the scores of the training windows of the same series)
reaches the one threshold that maximises F1 on the validation windows, among the thresholds
that flag at most 10 % of the *normal* validation windows; the cap is the false-alarm budget
an operator would set. Dividing by a per-series reference makes one threshold meaningful
across series whose errors differ by orders of magnitude; a high percentile says how large a
score the series' own normal past already reaches, and uses training windows only. Which
percentile (of REFERENCE_QUANTILES) is chosen on validation too, by the same F1.
"""

from __future__ import annotations

import numpy as np

MAX_FALSE_ALARM = 0.10
REFERENCE_QUANTILES = (0.5, 0.9, 0.99, 0.999)  # candidates for the per-series reference
REFERENCE_FLOOR = 0.1


def series_reference(
    errors: np.ndarray, series: np.ndarray, n_series: int, quantile: float = 0.99
) -> np.ndarray:
    """The ``quantile`` of each series' training scores, floored at a tenth of the
    corpus-wide median score.

    The floor matters for near-perfectly predictable series (a flat line reconstructs with an
    error of 1e-8): without it, noise in their errors would become huge relative errors.
    """
    floor = REFERENCE_FLOOR * float(np.median(errors))
    reference = np.full(n_series, max(floor, np.finfo(float).tiny))
    for index in np.unique(series):
        reference[index] = max(
            float(np.quantile(errors[series == index], quantile)), reference[index]
        )
    return reference


def relative_errors(errors: np.ndarray, series: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return errors / reference[series]


def capped_f1_threshold(
    scores: np.ndarray, labels: np.ndarray, max_false_alarm: float = MAX_FALSE_ALARM
) -> float:
    """The F1-maximising threshold among those flagging ≤ ``max_false_alarm`` of normals."""
    normal = scores[~labels]
    if normal.size == 0 or not labels.any():
        raise ValueError(
            "the threshold needs validation windows of both kinds, normal and anomalous"
        )
    lowest = float(np.quantile(normal, 1 - max_false_alarm, method="higher"))
    candidates = np.unique(scores[scores >= lowest])
    flagged = scores[None, :] >= candidates[:, None]  # (candidates, windows)
    true_positive = (flagged & labels).sum(axis=1)
    f1 = 2 * true_positive / (flagged.sum(axis=1) + labels.sum())
    return float(candidates[np.flatnonzero(f1 == f1.max())[0]])


def flag(scores: np.ndarray, threshold: float) -> np.ndarray:
    return scores >= threshold
