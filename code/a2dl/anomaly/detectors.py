"""Part II's detectors on one footing. Each gives every window a raw score (an autoencoder its
reconstruction error, the value baseline the largest scaled value in the window); one rule
(:mod:`a2dl.anomaly.threshold`) turns any raw score into decisions: the score relative to its
series' training scores, and one threshold chosen on validation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from a2dl.anomaly.threshold import (
    REFERENCE_QUANTILES,
    capped_f1_threshold,
    flag,
    relative_errors,
    series_reference,
)
from a2dl.anomaly.windows import WindowSet
from a2dl.metrics import binary_summary

VALUE_BASELINE = "value"  # the name of the threshold on the scaled value among the detectors
LABELLINGS = ("instant", "inside")  # WindowSet.y (contains an instant), WindowSet.inside


@dataclass(frozen=True)
class Detection:
    """Raw scores, relative scores and decisions of one detector on the three splits."""

    windows: dict[str, WindowSet]
    raw: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]
    threshold: float
    labelling: str = "instant"
    quantile: float = 0.99  # the training-score percentile each series' scores are divided by

    def labels(self, split: str) -> np.ndarray:
        windows = self.windows[split]
        return windows.y if self.labelling == "instant" else windows.inside

    def predicted(self, split: str) -> np.ndarray:
        return flag(self.scores[split], self.threshold)

    def validation_f1(self) -> float:
        labels, predicted = self.labels("validation"), self.predicted("validation")
        return float(2 * np.sum(labels & predicted) / (labels.sum() + predicted.sum()))

    def metrics(self, split: str) -> dict[str, float]:
        """The binary metrics of one split, with the mean raw score (for an autoencoder its
        reconstruction loss) as ``loss``."""
        labels, predicted = self.labels(split).astype(int), self.predicted(split).astype(int)
        return {"loss": float(self.raw[split].mean())} | binary_summary(
            labels, predicted, self.scores[split]
        )


def calibrate(
    raw: dict[str, np.ndarray],
    windows: dict[str, WindowSet],
    n_series: int,
    labelling: str = "instant",
    quantiles: tuple[float, ...] = REFERENCE_QUANTILES,
) -> Detection:
    """Raw scores → relative scores (training reference) → the threshold on validation; of
    the reference ``quantiles``, the one whose threshold gives the highest validation F1."""
    if labelling not in LABELLINGS:
        raise ValueError(f"unknown labelling {labelling!r}: use one of {LABELLINGS}")
    candidates = []
    for quantile in quantiles:
        reference = series_reference(raw["train"], windows["train"].series, n_series, quantile)
        scores = {
            split: relative_errors(raw[split], part.series, reference)
            for split, part in windows.items()
        }
        unset = Detection(windows, raw, scores, np.inf, labelling, quantile)
        threshold = capped_f1_threshold(scores["validation"], unset.labels("validation"))
        detection = Detection(windows, raw, scores, threshold, labelling, quantile)
        candidates.append((detection.validation_f1(), -quantile, detection))
    return max(candidates, key=lambda c: c[:2])[2]  # ties: the lower quantile


def value_scores(windows: WindowSet) -> np.ndarray:
    """The value baseline's raw score: the largest absolute scaled value in the window, so
    that a window is flagged when some value in it is far from its series' training median
    (|z| > k, with k set by the threshold rule)."""
    return np.abs(windows.x).max(axis=1).astype(np.float64)
