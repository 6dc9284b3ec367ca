"""Part II's detectors on one footing: the threshold rule sees validation only, the baselines
are scored like the autoencoders, and the comparison's tables come from the detections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from a2dl.anomaly import comparison
from a2dl.anomaly.detectors import calibrate, value_scores
from a2dl.anomaly.windows import SplitFractions, WindowSet, prepare_series

SPLITS = ("train", "validation", "test")


def _windows(rng: np.random.Generator, n: int = 400, series: int = 8) -> dict[str, WindowSet]:
    parts = {}
    for split in SPLITS:
        y = rng.random(n) < (0 if split == "train" else 0.1)
        x = rng.normal(0, 1, (n, 4)).astype(np.float32)
        x[y, -1] += 6  # anomalies: a large last value
        ids = np.repeat(np.arange(series), n // series)
        parts[split] = WindowSet(x, y, y.copy(), ids, np.arange(n))
    return parts


def _raw(windows: dict[str, WindowSet]) -> dict[str, np.ndarray]:
    return {split: value_scores(part) for split, part in windows.items()}


def test_the_value_baseline_scores_the_largest_scaled_value_in_the_window():
    x = np.array([[0.5, -3.0, 1.0], [0.1, 0.2, 0.3]], dtype=np.float32)
    windows = WindowSet(x, np.array([True, False]), np.array([True, False]), np.zeros(2), None)
    assert value_scores(windows).tolist() == pytest.approx([3.0, 0.3])


def test_threshold_and_reference_are_chosen_on_validation_only():
    windows = _windows(np.random.default_rng(0))
    detection = calibrate(_raw(windows), windows, 8)
    assert detection.quantile in (0.5, 0.9, 0.99, 0.999)
    assert detection.metrics("test")["f1"] > 0.5  # a large last value is easy to find
    changed = dict(windows)
    test = windows["test"]
    flipped = WindowSet(test.x[::-1].copy(), ~test.y, ~test.inside, test.series, test.end)
    changed["test"] = flipped  # other test windows and labels: the rule must not move
    again = calibrate(_raw(changed), changed, 8)
    assert (again.threshold, again.quantile) == (detection.threshold, detection.quantile)


def test_the_older_labelling_is_scored_against_its_own_labels():
    windows = _windows(np.random.default_rng(1))
    inside = {
        s: WindowSet(w.x, w.y, np.zeros_like(w.y) | (w.end % 50 == 0), w.series, w.end)
        for s, w in windows.items()
    }
    detection = calibrate(_raw(inside), inside, 8, labelling="inside")
    assert (detection.labels("test") == inside["test"].inside).all()
    with pytest.raises(ValueError, match="unknown labelling"):
        calibrate(_raw(inside), inside, 8, labelling="window")


def _detections(rng: np.random.Generator) -> dict[str, object]:
    windows = _windows(rng)
    raw = _raw(windows)
    noisy = {s: r + rng.normal(0, 2, len(r)) for s, r in raw.items()}
    blind = {s: rng.random(len(r)) for s, r in raw.items()}
    return {
        "lstm": calibrate(raw, windows, 8),
        "dense": calibrate(noisy, windows, 8),
        "conv1d": calibrate(blind, windows, 8),
        "vae": calibrate(blind, windows, 8),
        "linear": calibrate(noisy, windows, 8),
        comparison.VALUE_BASELINE: calibrate(blind, windows, 8),
    }


def test_the_comparison_table_holds_every_detector_with_intervals_and_paired_margins():
    detections = _detections(np.random.default_rng(2))
    result = comparison.compare(detections, "lstm", replicates=200)
    table = result.table.set_index("detector")
    assert list(table.index) == [
        "lstm", "dense", "conv1d", "vae", "linear", comparison.VALUE_BASELINE,
        comparison.NEVER, comparison.RANDOM,
    ]  # fmt: skip
    assert table.loc["lstm", "f1"] == pytest.approx(detections["lstm"].metrics("test")["f1"])
    assert table.loc["lstm", "f1_low"] <= table.loc["lstm", "f1"] <= table.loc["lstm", "f1_high"]
    assert np.isnan(table.loc[comparison.NEVER, "precision"])  # no alarm: undefined
    assert table.loc[comparison.RANDOM, "alarm_rate"] == table.loc["lstm", "alarm_rate"]
    assert result.best_baseline == "linear"  # the noisy copy beats the blind value baseline
    estimate, low, high = result.margin_over_baseline["roc_auc"]
    assert estimate == pytest.approx(
        detections["lstm"].metrics("test")["roc_auc"]
        - detections["linear"].metrics("test")["roc_auc"]
    )
    assert low <= estimate <= high and result.excludes_zero("roc_auc")


def test_results_per_category_and_the_series_to_show():
    rng = np.random.default_rng(3)
    detections = _detections(rng)
    frame = pd.DataFrame(
        {"timestamp": pd.date_range("2020-01-01", periods=10, freq="h"), "value": range(10)}
    )
    corpus = tuple(
        prepare_series(f"{'catA' if i < 4 else 'catB'}/s{i}.csv", frame, [], SplitFractions())
        for i in range(8)
    )
    table = comparison.per_category(detections, corpus, metric="f1")
    assert list(table["category"]) == ["catA", "catB"]
    labels = detections["lstm"].labels("test")
    assert table["anomalous windows"].sum() == labels.sum()
    works, fails = comparison.example_series(detections["conv1d"])
    assert works != fails and {works, fails} <= set(range(8))


def test_intervals_are_written_in_percentage_points_or_a_dash():
    assert comparison.interval_text(0.1234, 0.5) == "12.3–50.0"
    assert comparison.interval_text(float("nan"), 0.5) == "—"


def test_table_cells_give_values_and_intervals_and_a_dash_where_undefined():
    import pandas as pd

    from a2dl.anomaly.comparison import exclusion_text, margin_text, value_and_interval

    trivial = pd.Series({"f1": 0.1, "precision": float("nan")})
    assert value_and_interval(trivial, ["f1", "precision"]) == [["10.0", "—"]]
    learnt = pd.Series({"f1": 0.3, "f1_low": 0.2, "f1_high": 0.35})
    assert value_and_interval(learnt, ["f1"]) == [["30.0"], ["(20.0–35.0)"]]
    assert value_and_interval(learnt, ["f1"], one_line=True) == [["30.0 (20.0–35.0)"]]
    margins = {"f1": (0.02, -0.01, 0.05), "roc_auc": (0.031, 0.001, 0.06)}
    assert margin_text(margins, "f1") == "+2.0 points (-1.0 to +5.0)"
    assert margin_text(margins, "roc_auc") == "+0.031 (+0.001 to +0.060)"
    assert exclusion_text([], "none") == "none"
    assert exclusion_text(["roc_auc", "f1"], "none") == (
        "the interval excludes zero for ROC-AUC, F1"
    )
