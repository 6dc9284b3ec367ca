"""Part II's detectors side by side on the test windows: the autoencoders, the baselines that
say whether they learnt anything (never alarms, random alarms, a threshold on the value, a
linear autoencoder), intervals from a bootstrap over series, paired margins, and the results
per NAB category. The chapter formats what these functions return.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from a2dl.anomaly.detectors import VALUE_BASELINE, Detection
from a2dl.anomaly.models import DEEP, TITLES
from a2dl.anomaly.windows import PreparedSeries
from a2dl.metrics import bootstrap_over_groups, paired_bootstrap, trivial_detectors

METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc")
BASELINES = ("linear", VALUE_BASELINE)  # the baselines that look at the data
NEVER, RANDOM = "never alarms", "alarms at random"


def title(name: str) -> str:
    """How the report names a detector."""
    if name == VALUE_BASELINE:
        return "threshold on the value"
    return f"{TITLES[name]} autoencoder" if name in TITLES else name


@dataclass(frozen=True)
class Comparison:
    """Every detector on one split: ``table`` holds each metric and its 95 % interval
    (``<metric>_low``, ``<metric>_high``); the trivial detectors' rows are expected values
    and have no interval."""

    table: pd.DataFrame
    best: str  # the chosen autoencoder
    best_baseline: str  # the baseline that looks at the data with the higher validation F1
    margin_over_baseline: dict[str, tuple[float, float, float]]  # best − best_baseline
    margin_over_linear: dict[str, tuple[float, float, float]]  # best − linear: does depth help

    def excludes_zero(self, metric: str, against: str = "baseline") -> bool:
        margins = self.margin_over_baseline if against == "baseline" else self.margin_over_linear
        _, low, high = margins[metric]
        return low > 0 or high < 0


def detector_row(name: str, detection: Detection, split: str, replicates: int = 1000) -> dict:
    """One row of the comparison: the alarm rate, every metric and its interval."""
    windows = detection.windows[split]
    labels, predicted = detection.labels(split), detection.predicted(split)
    intervals = bootstrap_over_groups(
        labels, predicted, detection.scores[split], windows.series, replicates=replicates
    )
    row = {"detector": name, "alarm_rate": float(predicted.mean())}
    row |= {metric: detection.metrics(split)[metric] for metric in METRICS}
    for metric in METRICS:
        row[f"{metric}_low"], row[f"{metric}_high"] = intervals[metric]
    return row


def _paired(first: Detection, second: Detection, split: str, replicates: int) -> dict:
    return paired_bootstrap(
        first.labels(split),
        (first.predicted(split), first.scores[split]),
        (second.predicted(split), second.scores[split]),
        first.windows[split].series,
        replicates=replicates,
    )


def compare(
    detections: dict[str, Detection],
    best: str,
    *,
    split: str = "test",
    replicates: int = 1000,
) -> Comparison:
    """The chosen autoencoder, the other deep ones, the baselines, and the two trivial
    detectors (at the chosen one's alarm rate), in that order."""
    order = [best, *(n for n in DEEP if n != best), *BASELINES]
    rows = [detector_row(name, detections[name], split, replicates) for name in order]
    chosen = detections[best]
    trivial = trivial_detectors(
        float(chosen.labels(split).mean()), float(chosen.predicted(split).mean())
    )
    for name, values in trivial.items():
        alarm_rate = 0.0 if name == NEVER else rows[0]["alarm_rate"]
        rows.append({"detector": name, "alarm_rate": alarm_rate, **values})
    best_baseline = max(BASELINES, key=lambda name: detections[name].metrics("validation")["f1"])
    return Comparison(
        table=pd.DataFrame(rows),
        best=best,
        best_baseline=best_baseline,
        margin_over_baseline=_paired(chosen, detections[best_baseline], split, replicates),
        margin_over_linear=_paired(chosen, detections["linear"], split, replicates),
    )


def per_category(
    detections: dict[str, Detection],
    corpus: tuple[PreparedSeries, ...],
    metric: str = "pr_auc",
    split: str = "test",
) -> pd.DataFrame:
    """``metric`` of each detector on the windows of each NAB category (rows) that hold an
    anomaly in ``split``; categories without one are left out, since no metric of the
    anomalous class exists there. The last column counts the anomalous windows."""
    any_detection = next(iter(detections.values()))
    series = any_detection.windows[split].series
    labels = any_detection.labels(split)
    categories = np.array([corpus[i].category for i in series])
    rows = []
    for category in sorted(set(categories)):
        inside = categories == category
        if not labels[inside].any() or labels[inside].all():
            continue
        row: dict[str, object] = {"category": category}
        for name, detection in detections.items():
            metrics = _subset_metrics(detection, split, inside)
            row[name] = metrics[metric]
        row["anomalous windows"] = int(labels[inside].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _subset_metrics(detection: Detection, split: str, rows: np.ndarray) -> dict[str, float]:
    from a2dl.metrics import binary_summary

    return binary_summary(
        detection.labels(split)[rows].astype(int),
        detection.predicted(split)[rows].astype(int),
        detection.scores[split][rows],
    )


def example_series(detection: Detection, split: str = "test") -> tuple[int, int]:
    """Two series to show the detector on: the one where it does best (highest F1 among the
    series with an anomaly in ``split``) and the one where it does worst (most anomalous
    windows among those it catches none of, else the lowest F1)."""
    windows = detection.windows[split]
    labels, predicted = detection.labels(split), detection.predicted(split)
    scored = []
    for index in np.unique(windows.series[labels]):
        rows = windows.series == index
        caught = int((labels[rows] & predicted[rows]).sum())
        f1 = 2 * caught / (int(predicted[rows].sum()) + int(labels[rows].sum()))
        scored.append((f1, caught, int(labels[rows].sum()), int(index)))
    works = max(scored)[3]
    missed = [s for s in scored if s[1] == 0]
    fails = max(missed, key=lambda s: s[2])[3] if missed else min(scored)[3]
    return works, fails


def interval_text(low: float, high: float, *, scale: float = 100, digits: int = 1) -> str:
    """An interval as "low–high" (percentage points by default); "—" when undefined."""
    if math.isnan(low) or math.isnan(high):
        return "—"
    return f"{low * scale:.{digits}f}–{high * scale:.{digits}f}"


def value_and_interval(
    row: pd.Series,
    columns: list[str],
    scale: float = 100,
    digits: int = 1,
    *,
    one_line: bool = False,
) -> list[list[str]]:
    """One detector's table rows: its values, and under them their 95% intervals (none for
    the trivial detectors, whose values are expected values); "—" where undefined. With
    ``one_line``, each interval follows its value in the same cell, for a table with few
    columns, where a second row per detector would only lengthen it."""
    values = ["—" if pd.isna(row[c]) else f"{row[c] * scale:.{digits}f}" for c in columns]
    if pd.isna(row.get(f"{columns[-1]}_low", math.nan)):
        return [values]
    intervals = [
        f"({interval_text(row[f'{c}_low'], row[f'{c}_high'], scale=scale, digits=digits)})"
        for c in columns
    ]
    if one_line:
        return [[f"{value} {interval}" for value, interval in zip(values, intervals, strict=True)]]
    return [values, intervals]


SPOKEN_METRICS = {
    "f1": "F1",
    "balanced_accuracy": "balanced accuracy",
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
}


def margin_text(margins: dict[str, tuple[float, float, float]], metric: str) -> str:
    """A paired margin with its interval: rates in percentage points, areas under curves as
    fractions."""
    estimate, low, high = margins[metric]
    if metric in ("roc_auc", "pr_auc"):
        return f"{estimate:+.3f} ({low:+.3f} to {high:+.3f})"
    return f"{estimate * 100:+.1f} points ({low * 100:+.1f} to {high * 100:+.1f})"


def exclusion_text(excluded: list[str], otherwise: str) -> str:
    """Which metrics' margin intervals exclude zero, in words."""
    if not excluded:
        return otherwise
    return "the interval excludes zero for " + ", ".join(SPOKEN_METRICS[m] for m in excluded)
