"""The Numenta Anomaly Benchmark's scoring, written from its papers and documentation.

Lavin & Ahmad (2015) and Ahmad et al. (2017) define it; NAB's repository documents the
details reproduced here:

- the first 15 % of each file (at most 750 rows) is a probationary period: detections there
  are ignored;
- each labelled window rewards its detections by a scaled sigmoid of their position: the first
  row of a window is worth the profile's A_TP, the end of the window about 0;
- a detection outside every window costs A_FP times a scaled sigmoid of its distance past the
  previous window's end (about 0 just after a window, the full A_FP far from it, and the full
  A_FP before the first window);
- only the best (earliest) detection in a window counts; a window without one costs A_FN;
- one threshold on the anomaly score is chosen per profile to maximise the total over the
  corpus, and the total is normalised so that the null detector (never detects) scores 0 and
  the perfect detector (one detection at the start of every window) scores 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

PROBATION_PERCENT = 0.15
# The scoreboard of NAB's README at the pinned commit (ea702d7), three profiles each:
# (standard, reward low FP, reward low FN). Numenta HTM's range over seeds is given by its top.
PUBLISHED_SCORES: dict[str, tuple[float, float, float]] = {
    "ARTime": (74.9, 65.1, 80.4),
    "Numenta HTM": (70.5, 62.6, 75.2),
    "CAD OSE": (69.9, 67.0, 73.2),
    "earthgecko Skyline": (58.2, 46.2, 63.9),
    "KNN CAD": (58.0, 43.4, 64.8),
    "Relative Entropy": (54.6, 47.6, 58.8),
    "Random Cut Forest": (51.7, 38.4, 59.7),
    "Twitter ADVec": (47.1, 33.6, 53.5),
    "Windowed Gaussian": (39.6, 20.9, 47.4),
    "Etsy Skyline": (35.7, 27.1, 44.5),
    "Bayesian Changepoint": (17.7, 3.2, 32.2),
    "EXPoSE": (16.4, 3.2, 26.9),
    "Random": (11.0, 1.2, 19.5),
    "Null": (0.0, 0.0, 0.0),
}
# Where each published detector is described (keys of references.bib); NAB's own baselines
# (Windowed Gaussian, Random, Null) are described in the benchmark's paper.
PUBLISHED_REFERENCES: dict[str, str] = {
    "ARTime": "hampton2021artime",
    "Numenta HTM": "ahmad2017unsupervised",
    "CAD OSE": "smirnov2016cad",
    "earthgecko Skyline": "earthgecko2016skyline",
    "KNN CAD": "burnaev2016conformalized",
    "Relative Entropy": "wang2011statistical",
    "Random Cut Forest": "guha2016robust",
    "Twitter ADVec": "hochenbaum2017automatic",
    "Windowed Gaussian": "lavin2015evaluating",
    "Etsy Skyline": "etsy2013skyline",
    "Bayesian Changepoint": "adams2007bayesian",
    "EXPoSE": "schneider2016expected",
    "Random": "lavin2015evaluating",
    "Null": "lavin2015evaluating",
}
PROFILE_NAMES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def scaled_sigmoid(position: float) -> float:
    """2·σ(−5x) − 1 for x ≤ 3, else −1: +0.987 at x = −1, 0 at x = 0, → −1 as x grows."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probationary_length(rows: int, percent: float = PROBATION_PERCENT) -> int:
    return int(min(math.floor(percent * rows), percent * 5000))


@dataclass(frozen=True)
class Profile:
    """One row of NAB's ``config/profiles.json`` (the true-negative weight is unused)."""

    name: str
    tp: float
    fp: float
    fn: float

    @classmethod
    def from_cost_matrix(cls, name: str, matrix: dict[str, float]) -> Profile:
        return cls(name, matrix["tpWeight"], matrix["fpWeight"], matrix["fnWeight"])


@dataclass(frozen=True)
class ScoredFile:
    """Per-row unweighted scores of one file: what a detection on that row would earn."""

    reward: np.ndarray  # scaled sigmoid, before the profile's weights
    window: np.ndarray  # index of the row's window within the file, −1 outside
    n_windows: int
    probation: int


def row_rewards(
    timestamps: pd.Series, windows: list[tuple[pd.Timestamp, pd.Timestamp]]
) -> ScoredFile:
    """Walk the file as NAB's sweeper does and give every row its unweighted reward."""
    times = timestamps.to_numpy()
    n = len(times)
    reward = np.empty(n)
    window_of = np.full(n, -1)
    bounds = []
    for start, end in sorted(windows):
        inside = np.flatnonzero((times >= np.datetime64(start)) & (times <= np.datetime64(end)))
        bounds.append((inside[0], inside[-1]))
    previous_end, previous_width = None, None
    current = 0
    for i in range(n):
        if current < len(bounds) and bounds[current][0] <= i <= bounds[current][1]:
            first, last = bounds[current]
            width = last - first + 1
            reward[i] = scaled_sigmoid(-(last - i + 1) / width)
            window_of[i] = current
            if i == last:
                previous_end, previous_width = last, width
                current += 1
        elif previous_end is None:
            reward[i] = -1.0
        else:
            reward[i] = scaled_sigmoid(abs(previous_end - i) / max(previous_width - 1, 1))
    return ScoredFile(reward, window_of, len(bounds), probationary_length(n))


def weighted(file: ScoredFile, profile: Profile) -> np.ndarray:
    """A detection's worth on each row under ``profile``."""
    inside = file.window >= 0
    return np.where(inside, file.reward * profile.tp / MAX_TP, file.reward * profile.fp)


def raw_score(detected: np.ndarray, file: ScoredFile, profile: Profile) -> float:
    """Score of one file given a boolean detection per row."""
    worth = weighted(file, profile)
    counted = detected.copy()
    counted[: file.probation] = False
    total = float(worth[counted & (file.window < 0)].sum())
    for w in range(file.n_windows):
        hits = counted & (file.window == w)
        total += float(worth[hits].max()) if hits.any() else -profile.fn
    return total


def null_and_perfect(files: list[ScoredFile], profile: Profile) -> tuple[float, float]:
    windows = sum(f.n_windows for f in files)
    return -profile.fn * windows, profile.tp * windows


def normalised(raw: float, files: list[ScoredFile], profile: Profile) -> float:
    null, perfect = null_and_perfect(files, profile)
    return 100.0 * (raw - null) / (perfect - null)


def best_threshold(
    scores: list[np.ndarray], files: list[ScoredFile], profile: Profile
) -> tuple[float, float]:
    """(threshold, raw corpus score) maximising the score over every possible threshold.

    Rows are added in order of falling anomaly score, keeping the running total of rewards
    (best row per window, every row outside windows, −A_FN for windows still missed); the
    best total over all cut points is the optimum. A threshold above every score (the null
    detector) is one of the candidates.
    """
    rows = []
    offset = 0
    for score, file in zip(scores, files, strict=True):
        keep = np.arange(len(score)) >= file.probation
        worth = weighted(file, profile)
        window = np.where(file.window >= 0, file.window + offset, -1)
        rows.append(np.column_stack([score[keep], worth[keep], window[keep]]))
        offset += file.n_windows
    table = np.concatenate(rows)
    table = table[np.argsort(-table[:, 0], kind="stable")]
    best_in_window = np.full(offset, -np.inf)
    total = -profile.fn * offset
    best_total, best_cut = total, np.inf
    for i, (score, worth, window) in enumerate(table):
        if window < 0:
            total += worth
        else:
            w = int(window)
            if best_in_window[w] == -np.inf:
                total += worth + profile.fn
                best_in_window[w] = worth
            elif worth > best_in_window[w]:
                total += worth - best_in_window[w]
                best_in_window[w] = worth
        if (i + 1 == len(table) or table[i + 1, 0] != score) and total > best_total:
            best_total, best_cut = total, score
    return float(best_cut), float(best_total)


def nab_results_frame(
    timestamps: pd.Series, values: np.ndarray, scores: np.ndarray, file: ScoredFile
) -> pd.DataFrame:
    """One file in NAB's results format: ``timestamp,value,anomaly_score,label``."""
    return pd.DataFrame(
        {
            "timestamp": timestamps.dt.strftime("%Y-%m-%d %H:%M:%S"),
            "value": values,
            "anomaly_score": scores,
            "label": (file.window >= 0).astype(int),
        }
    )


def results_path(detector: str, series_name: str) -> str:
    """NAB's layout: ``<detector>/<category>/<detector>_<file>.csv``."""
    category, file = series_name.split("/")
    return f"{detector}/{category}/{detector}_{file}"
