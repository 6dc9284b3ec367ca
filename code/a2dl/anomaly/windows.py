"""From NAB's raw series to labelled sliding windows, split in time without leakage.

Decisions, each explained in the Part II chapter:

- observations are kept in their recorded order and not resampled (a few series have
  irregular intervals; interpolating them would invent values, and the models see shapes in
  consecutive observations, not clock time);
- each series is cut chronologically into train / validation / test parts;
- scaling (median and inter-quartile range) is fitted on the train part only, and scaled
  values are clipped to ±CLIP: beyond that a point is anomalous whatever its exact size, and
  unclipped outliers (up to 10⁴ ranges in a few series) would dominate the squared loss;
- the window that *ends* at observation t stands for t and sees only the past. It is
  labelled anomalous when it contains one of NAB's labelled anomaly instants, so a detection
  is at most one window late. (NAB's labelled *windows* are deliberately wide, 10 % of all
  rows centred on each instant, so that its scoring can reward early detection; labelling
  every row inside them anomalous asks for a detection before anything has happened. That
  labelling is kept as ``WindowSet.inside`` for comparison.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SPLITS = ("train", "validation", "test")
CLIP = 10.0


@dataclass(frozen=True)
class SplitFractions:
    train: float = 0.6
    validation: float = 0.2  # the test part is the rest

    def bounds(self, length: int) -> tuple[int, int]:
        """Indices where validation and test begin."""
        return int(round(length * self.train)), int(round(length * (self.train + self.validation)))


def point_labels(
    timestamps: pd.Series, windows: list[tuple[pd.Timestamp, pd.Timestamp]]
) -> np.ndarray:
    """True for every observation inside a labelled window (bounds included)."""
    inside = np.zeros(len(timestamps), dtype=bool)
    values = timestamps.to_numpy()
    for start, end in windows:
        inside |= (values >= np.datetime64(start)) & (values <= np.datetime64(end))
    return inside


@dataclass(frozen=True)
class PreparedSeries:
    name: str
    timestamps: pd.Series
    values: np.ndarray  # raw
    scaled: np.ndarray  # (values - center) / scale, with train-only statistics
    labels: np.ndarray  # bool per observation: inside a labelled anomaly window
    instants: np.ndarray  # bool per observation: a labelled anomaly instant
    validation_start: int
    test_start: int
    center: float
    scale: float

    @property
    def category(self) -> str:
        return self.name.split("/")[0]


def robust_scaling(train_values: np.ndarray) -> tuple[float, float]:
    """Median and inter-quartile range, robust to the spikes that anomalies are made of.

    A constant train part (an inter-quartile range of zero) falls back to the standard
    deviation, then to 1, so that no series is divided by zero.
    """
    center = float(np.median(train_values))
    q1, q3 = np.percentile(train_values, [25, 75])
    scale = float(q3 - q1) or float(np.std(train_values)) or 1.0
    return center, scale


def instant_rows(timestamps: pd.Series, instants: list[pd.Timestamp]) -> np.ndarray:
    """True at the row of each labelled instant (the first row at or after it)."""
    marked = np.zeros(len(timestamps), dtype=bool)
    rows = np.searchsorted(timestamps.to_numpy(), np.array(instants, dtype="datetime64[ns]"))
    marked[rows[rows < len(timestamps)]] = True
    return marked


def prepare_series(
    name: str,
    frame: pd.DataFrame,
    windows: list[tuple[pd.Timestamp, pd.Timestamp]],
    fractions: SplitFractions = SplitFractions(),
    instants: list[pd.Timestamp] = (),
) -> PreparedSeries:
    values = frame["value"].to_numpy(dtype=np.float64)
    validation_start, test_start = fractions.bounds(len(values))
    center, scale = robust_scaling(values[:validation_start])
    return PreparedSeries(
        name=name,
        timestamps=frame["timestamp"],
        values=values,
        scaled=np.clip((values - center) / scale, -CLIP, CLIP),
        labels=point_labels(frame["timestamp"], windows),
        instants=instant_rows(frame["timestamp"], list(instants)),
        validation_start=validation_start,
        test_start=test_start,
        center=center,
        scale=scale,
    )


def window_ends(first: int, stop: int, stride: int) -> np.ndarray:
    """Ends of the windows in [first, stop), every ``stride``, the last one at ``stop - 1``."""
    if stop <= first:
        return np.zeros(0, dtype=np.int64)
    return np.arange(stop - 1, first - 1, -stride, dtype=np.int64)[::-1]


def sliding_windows(values: np.ndarray, length: int, ends: np.ndarray) -> np.ndarray:
    """Rows ``values[e - length + 1 : e + 1]`` for each end e: past and present, no future."""
    view = np.lib.stride_tricks.sliding_window_view(values, length)  # row i ends at i + L - 1
    return view[ends - (length - 1)]


@dataclass(frozen=True)
class WindowSet:
    """Windows from many series: inputs, labels, and where each came from."""

    x: np.ndarray  # (N, W) float32
    y: np.ndarray  # (N,) bool: the window contains a labelled anomaly instant
    inside: np.ndarray  # (N,) bool: the window's last row lies inside a labelled window
    series: np.ndarray  # (N,) index into the corpus
    end: np.ndarray  # (N,) observation index of the window's last point

    def __len__(self) -> int:
        return len(self.y)


def split_range(series: PreparedSeries, split: str, length: int) -> tuple[int, int]:
    """Window ends of ``split``: train windows lie wholly in the train part; later windows
    may reach back into earlier parts (the past is always known), never forward."""
    n = len(series.values)
    return {
        "train": (length - 1, series.validation_start),
        "validation": (max(length - 1, series.validation_start), series.test_start),
        "test": (max(length - 1, series.test_start), n),
    }[split]


def contains_instant(instants: np.ndarray, ends: np.ndarray, length: int) -> np.ndarray:
    """For each window ending at ``ends``, whether one of its ``length`` rows is an instant."""
    before = np.concatenate([[0], np.cumsum(instants)])  # instants in rows [0, i)
    return before[ends + 1] - before[np.maximum(ends + 1 - length, 0)] > 0


def window_set(corpus: list[PreparedSeries], split: str, length: int, stride: int = 1) -> WindowSet:
    xs, ys, inside, ids, ends = [], [], [], [], []
    for index, series in enumerate(corpus):
        first, stop = split_range(series, split, length)
        end = window_ends(first, stop, stride)
        xs.append(sliding_windows(series.scaled, length, end).astype(np.float32))
        ys.append(contains_instant(series.instants, end, length))
        inside.append(series.labels[end])
        ids.append(np.full(len(end), index))
        ends.append(end)
    return WindowSet(*(np.concatenate(parts) for parts in (xs, ys, inside, ids, ends)))
