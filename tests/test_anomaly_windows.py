"""Part II's data preparation, threshold rule and autoencoder family."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from a2dl.anomaly.models import ARCHITECTURES, build_autoencoder, window_configs
from a2dl.anomaly.threshold import (
    REFERENCE_FLOOR,
    capped_f1_threshold,
    flag,
    relative_errors,
    series_reference,
)
from a2dl.anomaly.windows import (
    CLIP,
    SplitFractions,
    contains_instant,
    instant_rows,
    point_labels,
    prepare_series,
    robust_scaling,
    sliding_windows,
    window_ends,
    window_set,
)
from a2dl.checkpoint import WeightsMismatchError, load_weights, save_weights


def _series(n: int = 100, spike_at: int = 90) -> tuple[pd.DataFrame, list]:
    timestamps = pd.date_range("2020-01-01", periods=n, freq="5min")
    values = np.sin(np.arange(n) / 3.0)
    values[spike_at] = 50.0
    window = [(timestamps[spike_at - 2], timestamps[spike_at + 2])]
    return pd.DataFrame({"timestamp": timestamps, "value": values}), window


def test_windows_never_look_ahead_and_the_last_ends_at_the_last_point():
    values = np.arange(20.0)
    ends = window_ends(first=4, stop=20, stride=3)
    assert ends[-1] == 19 and ends[0] >= 4
    windows = sliding_windows(values, 5, ends)
    assert (windows[:, -1] == ends).all(), "a window stands for its last observation"
    assert (windows.max(axis=1) == ends).all(), "no value after the end is visible"
    assert window_ends(5, 5, 1).size == 0


def test_labels_cover_the_window_bounds_inclusively():
    frame, window = _series()
    labels = point_labels(frame["timestamp"], window)
    assert labels.sum() == 5 and labels[88] and labels[92] and not labels[93]


def test_scaling_uses_the_train_part_only_and_clips():
    frame, window = _series()
    prepared = prepare_series("cat/s.csv", frame, window, SplitFractions(0.6, 0.2))
    assert (prepared.validation_start, prepared.test_start) == (60, 80)
    assert (prepared.center, prepared.scale) == robust_scaling(frame["value"].to_numpy()[:60])
    changed = frame.assign(value=frame["value"].where(frame.index < 60, 1e6))
    again = prepare_series("cat/s.csv", changed, window, SplitFractions(0.6, 0.2))
    assert (again.center, again.scale) == (prepared.center, prepared.scale)
    assert prepared.scaled.max() == CLIP  # the spike is clipped
    assert robust_scaling(np.ones(10)) == (1.0, 1.0)  # constant data: no division by zero


def test_split_windows_respect_time():
    frame, window = _series()
    instant = [frame["timestamp"][90]]
    prepared = prepare_series("cat/s.csv", frame, window, SplitFractions(0.6, 0.2), instant)
    train = window_set([prepared], "train", 8, stride=1)
    validation = window_set([prepared], "validation", 8)
    test = window_set([prepared], "test", 8)
    assert train.end.min() == 7 and train.end.max() == 59
    assert validation.end.min() == 60 and validation.end.max() == 79
    assert test.end.min() == 80 and test.end.max() == 99
    assert test.inside.sum() == 5 and not train.inside.any()  # ends inside the NAB window
    assert test.y.sum() == 8 and not train.y.any()  # the 8 windows that hold row 90


def test_a_window_is_anomalous_exactly_when_it_contains_an_instant():
    timestamps = pd.Series(pd.date_range("2020-01-01", periods=30, freq="5min"))
    # an instant between two rows belongs to the next row; one after the last row to none
    moments = [timestamps[10], timestamps[20] - pd.Timedelta("1min"), pd.Timestamp("2021-01-01")]
    marked = instant_rows(timestamps, moments)
    assert np.flatnonzero(marked).tolist() == [10, 20]
    ends = np.arange(4, 30)
    labels = contains_instant(marked, ends, 5)
    expected = [any(e - 4 <= i <= e for i in (10, 20)) for e in ends]
    assert labels.tolist() == expected
    assert labels[ends == 10].all() and labels[ends == 14].all() and not labels[ends == 15].any()
    assert not labels[ends == 9].any()  # the window before the instant never sees it


def test_threshold_rule_on_a_hand_made_case():
    # ten normal windows (scores 1..10) and three anomalies (scores 9.5, 20, 0.5)
    scores = np.array([*range(1, 11), 9.5, 20.0, 0.5], dtype=float)
    labels = np.array([False] * 10 + [True] * 3)
    # Unconstrained, 9.5 would be best (2 of 3 caught, one false alarm: F1 = 2/3); a cap of
    # 10 % allows one false alarm among ten normals: thresholds >= 10 remain, and 10 gives
    # F1 = 2·1/(2 + 3) = 0.4 against 0.5 for 20 (one caught, none wrong): 20 wins.
    assert capped_f1_threshold(scores, labels, max_false_alarm=0.10) == 20.0
    assert capped_f1_threshold(scores, labels, max_false_alarm=0.20) == 9.5
    assert flag(scores, 9.5).sum() == 3
    with pytest.raises(ValueError, match="both kinds"):
        capped_f1_threshold(scores[:10], labels[:10])


def test_relative_errors_divide_by_a_high_quantile_of_the_series_training_errors():
    errors = np.array([*np.arange(1.0, 101.0), *(10 * np.arange(1.0, 101.0)), 1e-9, 1e-9])
    series = np.repeat([0, 1, 2], [100, 100, 2])
    reference = series_reference(errors, series, 4, quantile=0.99)
    first = np.quantile(np.arange(1.0, 101.0), 0.99)  # 99.01
    floor = REFERENCE_FLOOR * np.median(errors)  # for near-perfectly predictable series
    assert reference == pytest.approx([first, 10 * first, floor, floor])
    scaled = relative_errors(np.array([first, 20 * first]), np.array([0, 1]), reference)
    assert scaled == pytest.approx([1.0, 2.0])


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_each_architecture_reconstructs_windows_and_learns(name):
    torch.manual_seed(0)
    model = build_autoencoder(name, window_configs(32)[name])
    t = torch.linspace(0, 6.28, 32)
    x = torch.stack([torch.sin(t + phase) for phase in torch.rand(64) * 6.28])
    assert model(x).shape == x.shape
    optimiser = torch.optim.Adam(model.parameters(), lr=5e-3)
    before = model.training_loss(x).item()
    for _ in range(150):
        optimiser.zero_grad()
        model.training_loss(x).backward()
        optimiser.step()
    assert model.training_loss(x).item() < 0.5 * before


def test_weights_of_another_architecture_are_refused(tmp_path):
    configs = window_configs(32)
    model = build_autoencoder("lstm", configs["lstm"])
    path = save_weights(tmp_path / "lstm.pt", model, configs["lstm"])
    config_type = ARCHITECTURES["dense"][0]
    with pytest.raises(WeightsMismatchError, match="holds a LSTMAutoencoderConfig"):
        load_weights(path, lambda c: build_autoencoder("dense", c), config_type)
