"""The chosen autoencoder as a streaming detector for NAB: no look-ahead, ever.

For each file a fresh autoencoder is trained on the probationary period only (NAB's first
15 %, at most 750 rows), with scaling fitted on that period. Every row t then gets
reconstruction errors of the window that ends at t (over the whole window and over its last
rows: two lengths), and an anomaly score in [0, 1] built from rows up to t only:

1. *likelihood*: Φ((ē_t − μ_t) / σ_t), where ē_t is the error (or its short moving average)
   and μ_t, σ_t the mean and standard deviation of the previous ``history`` values of ē: the
   Gaussian tail of Numenta's anomaly likelihood, applied to reconstruction errors and
   averaged over the error lengths;
2. *spatial check*: a value beyond the range seen so far, by more than ``tolerance`` times
   that range, scores 1 (the check that lifted Numenta's own detector);
3. *refractory period*: once a row scores at least ``alert_level``, the next
   ``refractory_rows`` rows score 0. NAB charges every flagged row outside a window and
   rewards only the first row inside one, so repeating an alert never helps.

The constants (:class:`DetectorConstants`) are chosen by two-fold cross-validation over
files in :mod:`a2dl.anomaly.nab_detector`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.special import ndtr
from torch import nn

from a2dl import artefacts
from a2dl.anomaly.models import WindowAutoencoder, build_autoencoder, window_configs
from a2dl.anomaly.nab_scoring import probationary_length
from a2dl.anomaly.windows import CLIP, robust_scaling, sliding_windows, window_ends
from a2dl.checkpoint import load_weights, save_weights

WEIGHTS = "nab_streaming"


@dataclass(frozen=True)
class DetectorConstants:
    """What turns a file's reconstruction errors into its NAB anomaly scores."""

    lengths: tuple[int, ...] = (64,)  # rows at the end of the window each error covers; ()
    # leaves the autoencoder out
    average_rows: int = 1  # moving average of the error before it is judged (Numenta: 10)
    history: int = 3000  # previous rows the (averaged) error is judged against
    tolerance: float | None = None  # spatial check; None: off
    alert_level: float = 0.999
    refractory_rows: int = 200


@dataclass(frozen=True)
class StreamingConfig:
    architecture: str
    n_files: int
    window: int = 64
    epochs: int = 30
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = artefacts.SEED


class StreamingDetectors(nn.Module):
    """One small autoencoder per NAB file, in the corpus's order."""

    def __init__(self, config: StreamingConfig) -> None:
        super().__init__()
        self.config = config
        architecture = window_configs(config.window)[config.architecture]
        self.models = nn.ModuleList(
            build_autoencoder(config.architecture, architecture) for _ in range(config.n_files)
        )


def scale_with_probation(values: np.ndarray, probation: int) -> tuple[np.ndarray, float, float]:
    center, scale = robust_scaling(values[:probation])
    return np.clip((values - center) / scale, -CLIP, CLIP), center, scale


def train_on_probation(
    model: WindowAutoencoder, scaled: np.ndarray, probation: int, config: StreamingConfig
) -> None:
    """Fit ``model`` on the windows that lie wholly inside the probationary period."""
    ends = window_ends(config.window - 1, probation, 1)
    x = torch.from_numpy(sliding_windows(scaled, config.window, ends).astype(np.float32))
    generator = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), config.batch_size):
            loss = model.training_loss(x[order[start : start + config.batch_size]])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()


def reconstruction_errors(
    model: WindowAutoencoder, scaled: np.ndarray, window: int, lengths: tuple[int, ...] = (64,)
) -> dict[int, np.ndarray]:
    """Per length k, the mean squared error of the last k rows of the window ending at every
    row (k = window: the whole window); NaN for the first ``window - 1`` rows."""
    errors = {k: np.full(len(scaled), np.nan) for k in lengths}
    ends = window_ends(window - 1, len(scaled), 1)
    x = torch.from_numpy(sliding_windows(scaled, window, ends).astype(np.float32))
    with torch.no_grad():
        for start in range(0, len(x), 8192):
            batch = x[start : start + 8192]
            squared = ((model.reconstruct(batch) - batch) ** 2).numpy()
            for k in lengths:
                errors[k][ends[start : start + 8192]] = squared[:, -k:].mean(axis=1)
    return errors


def anomaly_likelihood(
    errors: np.ndarray, history: int = 3000, average_rows: int = 1
) -> np.ndarray:
    """Φ of the z-score of the error's ``average_rows`` moving average against the previous
    ``history`` values of that average (0 until 20 exist)."""
    averaged = pd.Series(errors).rolling(average_rows, min_periods=1).mean()
    past = averaged.shift(1).rolling(history, min_periods=20)
    z = (averaged - past.mean()) / np.maximum(past.std(), 1e-9)
    return np.nan_to_num(ndtr(z.to_numpy()), nan=0.0)


def outside_seen_range(values: np.ndarray, tolerance: float) -> np.ndarray:
    """Rows whose value lies beyond the range of the earlier rows by more than ``tolerance``
    times that range (never the first row)."""
    low = np.minimum.accumulate(values)
    high = np.maximum.accumulate(values)
    low_before, high_before = np.r_[values[0], low[:-1]], np.r_[values[0], high[:-1]]
    margin = tolerance * (high_before - low_before)
    return (values > high_before + margin) | (values < low_before - margin)


def anomaly_scores(
    values: np.ndarray, errors: dict[int, np.ndarray], constants: DetectorConstants
) -> np.ndarray:
    """A file's NAB scores from its values and reconstruction errors (see the module). With
    no error lengths the autoencoder is left out and only the spatial check scores."""
    if not constants.lengths:
        likelihood = np.zeros(len(values))
    else:
        likelihood = np.mean(
            [
                anomaly_likelihood(errors[k], constants.history, constants.average_rows)
                for k in constants.lengths
            ],
            axis=0,
        )
    if constants.tolerance is not None:
        likelihood[outside_seen_range(values, constants.tolerance)] = 1.0
    return refractory(likelihood, constants.alert_level, constants.refractory_rows)


def refractory(scores: np.ndarray, level: float, rows: int) -> np.ndarray:
    """Silence the ``rows`` rows after each alert (a score of at least ``level``)."""
    quiet = scores.copy()
    last_alert = -rows - 1
    for t, score in enumerate(scores):
        if t - last_alert <= rows:
            quiet[t] = 0.0
        elif score >= level:
            last_alert = t
    return quiet


def train_streaming(
    architecture: str, series_values: list[np.ndarray], *, window: int = 64
) -> StreamingDetectors:
    """One detector per file, each trained on its own probationary period."""
    config = StreamingConfig(architecture=architecture, n_files=len(series_values), window=window)
    torch.manual_seed(config.seed)
    detectors = StreamingDetectors(config)
    for model, values in zip(detectors.models, series_values, strict=True):
        probation = probationary_length(len(values))
        scaled, _, _ = scale_with_probation(values, probation)
        train_on_probation(model, scaled, probation, config)
    return detectors


def stream_errors(
    detectors: StreamingDetectors, series_values: list[np.ndarray], lengths: tuple[int, ...]
) -> list[dict[int, np.ndarray]]:
    """The reconstruction errors of every row of every file, at each length."""
    errors = []
    for model, values in zip(detectors.models, series_values, strict=True):
        scaled, _, _ = scale_with_probation(values, probationary_length(len(values)))
        errors.append(reconstruction_errors(model, scaled, detectors.config.window, lengths))
    return errors


def train_and_save(*, progress: bool = True) -> None:
    """``train nab-streaming``: per-file detectors of the architecture chosen in Part II."""
    from a2dl.anomaly.experiment import corpus, load_selection

    architecture = load_selection()["best"]
    values = [series.values for series in corpus()]
    detectors = train_streaming(architecture, values)
    save_weights(
        artefacts.weights_path(WEIGHTS),
        detectors,
        detectors.config,
        files=[series.name for series in corpus()],
    )
    if progress:
        print(json.dumps({"architecture": architecture, "files": len(values)}))


def load_streaming() -> tuple[StreamingDetectors, list[str]]:
    detectors, _, metadata = load_weights(
        artefacts.weights_path(WEIGHTS), StreamingDetectors, StreamingConfig
    )
    return detectors, metadata["files"]
