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

With ``refit_every`` set, the autoencoder is also fine-tuned as the stream goes on: every
``refit_every`` rows after the probationary period, a copy of the current model is trained for
a few epochs on the windows of the last ``refit_rows`` rows, and scores the rows up to the next
refit. Each row is still scored by a model that has seen only rows before it.

The constants (:class:`DetectorConstants`) are chosen by two-fold cross-validation over
files in :mod:`a2dl.anomaly.nab_detector`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.special import ndtr
from torch import nn

from a2dl import artefacts, device
from a2dl.anomaly.models import WindowAutoencoder, build_autoencoder, window_configs
from a2dl.anomaly.nab_scoring import probationary_length
from a2dl.anomaly.windows import CLIP, robust_scaling, sliding_windows, window_ends
from a2dl.checkpoint import load_weights, save_weights
from a2dl.train import TrainConfig, fit


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
    source: str = "chosen"  # whose errors: one of SOURCES


@dataclass(frozen=True)
class StreamingConfig:
    architecture: str
    n_files: int
    window: int = 64
    epochs: int = 30
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = artefacts.SEED
    refit_every: int | None = None  # rows between fine-tunings after probation; None: never
    refit_rows: int = 1000  # the recent rows each fine-tuning trains on
    refit_epochs: int = 5
    refit_lr: float = 1e-3
    models_per_file: tuple[int, ...] = ()  # 1 + the refits of each file (set by training)

    def train_config(self, refit: bool = False) -> TrainConfig:
        """The one training loop's settings: Adam at a constant rate, every epoch kept."""
        if refit:
            return TrainConfig(epochs=self.refit_epochs, lr=self.refit_lr, seed=self.seed)
        return TrainConfig(epochs=self.epochs, lr=self.lr, seed=self.seed)


def refit_starts(n_rows: int, config: StreamingConfig) -> list[int]:
    """The rows from which each model of a file scores: the probationary model from row 0,
    then one fine-tuned model every ``refit_every`` rows after the probationary period."""
    probation = probationary_length(n_rows)
    if config.refit_every is None:
        return [0]
    return [0, *range(probation + config.refit_every, n_rows, config.refit_every)]


class StreamingDetectors(nn.Module):
    """Every file's autoencoders, in the corpus's order: the one trained on its probationary
    period, then one per refit (``config.models_per_file``; one per file without refits)."""

    def __init__(self, config: StreamingConfig) -> None:
        super().__init__()
        self.config = config
        architecture = window_configs(config.window)[config.architecture]
        counts = config.models_per_file or (1,) * config.n_files
        self.models = nn.ModuleList(
            build_autoencoder(config.architecture, architecture) for _ in range(sum(counts))
        )
        offsets = np.cumsum([0, *counts])
        self.per_file = [
            list(self.models[offsets[i] : offsets[i + 1]]) for i in range(config.n_files)
        ]


def scale_with_probation(values: np.ndarray, probation: int) -> tuple[np.ndarray, float, float]:
    center, scale = robust_scaling(values[:probation])
    return np.clip((values - center) / scale, -CLIP, CLIP), center, scale


def fit_windows(
    model: WindowAutoencoder,
    scaled: np.ndarray,
    rows: range,
    config: StreamingConfig,
    *,
    refit: bool = False,
) -> None:
    """Train ``model`` through the one training loop, on its device, on the windows that end
    at ``rows`` (the probationary period, or a refit's recent rows)."""
    ends = window_ends(max(rows.start, config.window - 1), rows.stop, 1)
    x = torch.from_numpy(sliding_windows(scaled, config.window, ends).astype(np.float32))

    def batches(epoch: int):
        generator = torch.Generator().manual_seed(config.seed + epoch)
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), config.batch_size):
            yield x[order[start : start + config.batch_size]]

    fit(
        model,
        batches,
        lambda net, batch: net.training_loss(batch),
        None,
        config.train_config(refit),
        steps_per_epoch=-(-len(x) // config.batch_size),
        progress=False,
    )
    model.eval()


def reconstruction_errors(
    models: list[WindowAutoencoder],
    scaled: np.ndarray,
    config: StreamingConfig,
    lengths: tuple[int, ...] = (64,),
) -> dict[int, np.ndarray]:
    """Per length k, the mean squared error of the last k rows of the window ending at every
    row (k = window: the whole window), each row scored by the model in force there (see
    :func:`refit_starts`); NaN for the first ``window - 1`` rows."""
    errors = {k: np.full(len(scaled), np.nan) for k in lengths}
    starts = [*refit_starts(len(scaled), config), len(scaled)]
    for model, first, end in zip(models, starts[:-1], starts[1:], strict=True):
        ends = window_ends(max(first, config.window - 1), end, 1)
        device = next(model.parameters()).device
        for chunk in np.array_split(ends, max(1, -(-len(ends) // 8192))):
            batch = torch.from_numpy(
                sliding_windows(scaled, config.window, chunk).astype(np.float32)
            ).to(device)
            with torch.no_grad():
                squared = ((model.reconstruct(batch) - batch) ** 2).cpu().numpy()
            for k in lengths:
                errors[k][chunk] = squared[:, -k:].mean(axis=1)
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
    values: np.ndarray, errors: list[dict[int, np.ndarray]], constants: DetectorConstants
) -> np.ndarray:
    """A file's NAB scores from its values and the reconstruction errors of one or more
    autoencoders (see the module): the likelihood is the mean over the models and the error
    lengths. With no error lengths the autoencoders are left out and only the spatial check
    scores."""
    if not constants.lengths:
        likelihood = np.zeros(len(values))
    else:
        likelihood = np.mean(
            [
                anomaly_likelihood(model_errors[k], constants.history, constants.average_rows)
                for model_errors in errors
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
    architecture: str,
    series_values: list[np.ndarray],
    *,
    window: int = 64,
    refit_every: int | None = None,
) -> StreamingDetectors:
    """Every file's detectors: trained on its probationary period, then (with
    ``refit_every``) fine-tuned on its recent rows as the stream goes on."""
    config = StreamingConfig(
        architecture=architecture,
        n_files=len(series_values),
        window=window,
        refit_every=refit_every,
    )
    config = dataclasses.replace(
        config, models_per_file=tuple(len(refit_starts(len(v), config)) for v in series_values)
    )
    torch.manual_seed(config.seed)
    detectors = StreamingDetectors(config).to(device.current())
    for models, values in zip(detectors.per_file, series_values, strict=True):
        probation = probationary_length(len(values))
        scaled, _, _ = scale_with_probation(values, probation)
        fit_windows(models[0], scaled, range(probation), config)
        starts = refit_starts(len(values), config)
        for previous, model, start in zip(models, models[1:], starts[1:], strict=False):
            model.load_state_dict(previous.state_dict())
            fit_windows(model, scaled, range(start - config.refit_rows, start), config, refit=True)
    return detectors


def stream_errors(
    detectors: StreamingDetectors, series_values: list[np.ndarray], lengths: tuple[int, ...]
) -> list[dict[int, np.ndarray]]:
    """The reconstruction errors of every row of every file, at each length."""
    errors = []
    for models, values in zip(detectors.per_file, series_values, strict=True):
        scaled, _, _ = scale_with_probation(values, probationary_length(len(values)))
        errors.append(reconstruction_errors(models, scaled, detectors.config, lengths))
    return errors


# The streaming detectors as trained: every deep architecture on each file's probationary
# period (their mean likelihood is the ensemble), and the chosen one fine-tuned as it goes.
REFIT_EVERY = 1000
REFIT_ROWS = StreamingConfig.refit_rows
# Whose errors a detector judges: the chosen architecture's, the same fine-tuned on recent
# rows, or those of every deep architecture (an ensemble).
SOURCES = ("chosen", "refit", "ensemble")


def train_and_save(*, progress: bool = True) -> None:
    """``train nab-streaming``: per-file detectors of every deep architecture of Part II, and
    of the chosen one fine-tuned on recent rows as the stream goes on."""
    from a2dl.anomaly.experiment import corpus, load_selection

    series = corpus()
    values = [s.values for s in series]
    runs = {artefacts.streaming_stem(a): (a, None) for a in artefacts.DEEP_ANOMALY_MODELS}
    runs[artefacts.STREAMING_REFIT] = (load_selection()["best"], REFIT_EVERY)
    for stem, (architecture, refit_every) in runs.items():
        started = time.process_time()
        detectors = train_streaming(architecture, values, refit_every=refit_every)
        seconds = time.process_time() - started
        save_weights(
            artefacts.weights_path(stem),
            detectors,
            detectors.config,
            files=[s.name for s in series],
            train_cpu_seconds=seconds,
        )
        if progress:
            print(f"{stem}: {len(detectors.models)} models, {seconds:.0f} CPU-s", flush=True)


def load_streaming(stem: str) -> tuple[StreamingDetectors, list[str]]:
    detectors, _, metadata = load_weights(
        artefacts.weights_path(stem), StreamingDetectors, StreamingConfig
    )
    return detectors, metadata["files"]
