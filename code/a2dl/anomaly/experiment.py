"""Part II end to end: the NAB corpus as windows, four autoencoders trained with the shared
loop, the best chosen on validation, and its evaluation on test.

``python -m a2dl train anomaly`` trains and writes ``weights/nab_<architecture>.pt``, their
histories and ``weights/nab_selection.json``; the chapter evaluates the saved weights.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import torch

from a2dl import device, paths
from a2dl.anomaly.models import (
    ARCHITECTURES,
    TITLES,
    WindowAutoencoder,
    build_autoencoder,
    window_configs,
)
from a2dl.anomaly.threshold import (
    capped_f1_threshold,
    flag,
    relative_errors,
    series_reference,
)
from a2dl.anomaly.windows import (
    PreparedSeries,
    SplitFractions,
    WindowSet,
    prepare_series,
    window_set,
)
from a2dl.checkpoint import load_history, load_weights, read_json, save_history, save_weights
from a2dl.data import nab
from a2dl.modelinfo import count_parameters
from a2dl.train import TrainConfig, best_epoch, fit

SELECTION = "nab_selection.json"
DEFAULT_FRACTIONS = SplitFractions()


@dataclass(frozen=True)
class AnomalyExperiment:
    window: int = 64
    train_stride: int = 8
    eval_stride: int = 4
    fractions: SplitFractions = field(default_factory=SplitFractions)
    batch_size: int = 256
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=20,
            lr=2e-3,
            weight_decay=1e-4,
            schedule="cosine",
            grad_clip=1.0,
            patience=4,
            monitor="val_loss",
            mode="min",
        )
    )


@cache
def corpus(fractions: SplitFractions = DEFAULT_FRACTIONS) -> tuple[PreparedSeries, ...]:
    """All 58 NAB series, prepared (scaled with train-part statistics, labelled, split)."""
    windows = nab.load_windows()
    return tuple(
        prepare_series(name, nab.load_series(name), windows[name], fractions)
        for name in nab.series_names()
    )


def window_errors(model: WindowAutoencoder, windows: WindowSet, batch: int = 4096) -> np.ndarray:
    """Mean squared reconstruction error of every window."""
    model.eval()
    errors = np.empty(len(windows))
    with torch.no_grad():
        for start in range(0, len(windows), batch):
            x = torch.from_numpy(windows.x[start : start + batch])
            x = x.to(next(model.parameters()).device)
            squared = (model.reconstruct(x) - x) ** 2
            errors[start : start + batch] = squared.mean(dim=1).cpu().numpy()
    return errors


@dataclass(frozen=True)
class Detection:
    """Scores and decisions of one model on the three splits, by the stated rule."""

    windows: dict[str, WindowSet]
    errors: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]
    threshold: float

    def predicted(self, split: str) -> np.ndarray:
        return flag(self.scores[split], self.threshold)


def detect(model: WindowAutoencoder, windows: dict[str, WindowSet], n_series: int) -> Detection:
    """Errors → per-series relative errors (train reference) → threshold on validation."""
    errors = {split: window_errors(model, w) for split, w in windows.items()}
    reference = series_reference(errors["train"], windows["train"].series, n_series)
    scores = {
        split: relative_errors(errors[split], w.series, reference) for split, w in windows.items()
    }
    threshold = capped_f1_threshold(scores["validation"], windows["validation"].y)
    return Detection(windows, errors, scores, threshold)


def split_windows(experiment: AnomalyExperiment) -> dict[str, WindowSet]:
    series = corpus(experiment.fractions)
    return {
        "train": window_set(series, "train", experiment.window, experiment.train_stride),
        "validation": window_set(series, "validation", experiment.window, experiment.eval_stride),
        "test": window_set(series, "test", experiment.window, experiment.eval_stride),
    }


def _accuracy(detection: Detection, split: str) -> float:
    return float(np.mean(detection.predicted(split) == detection.windows[split].y))


def _f1(detection: Detection, split: str) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(detection.windows[split].y, detection.predicted(split), zero_division=0))


def train_architecture(
    name: str, experiment: AnomalyExperiment, windows: dict[str, WindowSet], *, progress: bool
) -> tuple[WindowAutoencoder, list[dict[str, float]], float]:
    torch.manual_seed(experiment.train.seed)
    model = build_autoencoder(name, window_configs(experiment.window)[name]).to(device.current())
    n_series = len(corpus(experiment.fractions))
    train_x = torch.from_numpy(windows["train"].x)
    steps = -(-len(train_x) // experiment.batch_size)
    fit_windows = {"train": windows["train"], "validation": windows["validation"]}

    def batches(epoch: int):
        order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(epoch))
        for start in range(0, len(order), experiment.batch_size):
            yield train_x[order[start : start + experiment.batch_size]]

    def epoch_metrics(net) -> dict[str, float]:
        detection = detect(net, fit_windows, n_series)
        return {
            "train_loss": float(detection.errors["train"].mean()),
            "val_loss": float(detection.errors["validation"].mean()),
            "train_accuracy": _accuracy(detection, "train"),
            "val_accuracy": _accuracy(detection, "validation"),
            "val_f1": _f1(detection, "validation"),
            "threshold": detection.threshold,
        }

    started = time.perf_counter()
    history = fit(
        model,
        batches,
        lambda net, x: net.training_loss(x),
        epoch_metrics,
        experiment.train,
        steps_per_epoch=steps,
        progress=progress,
    )
    return model, history, time.perf_counter() - started


def _paths(name: str):
    return (
        paths.weights_dir() / f"nab_{name}.pt",
        paths.weights_dir() / f"nab_{name}.history.json",
    )


def train_all(*, progress: bool = True) -> None:
    """``train anomaly``: every architecture, then the selection by validation F1."""
    experiment = AnomalyExperiment()
    windows = split_windows(experiment)
    rows = []
    for name in ARCHITECTURES:
        model, history, seconds = train_architecture(name, experiment, windows, progress=progress)
        weights, history_path = _paths(name)
        save_weights(weights, model, model.config, architecture=name, train_seconds=seconds)
        save_history(history_path, history)
        best = best_epoch(history, experiment.train.monitor, experiment.train.mode)
        rows.append(
            {
                "architecture": name,
                "parameters": count_parameters(model),
                "train_seconds": seconds,
                "epochs_run": len(history),
                **{k: v for k, v in best.items() if k != "train_seconds"},
            }
        )
        print(f"{name}: val F1 {best['val_f1']:.3f}, val accuracy {best['val_accuracy']:.3f}")
    chosen = max(rows, key=lambda row: row["val_f1"])["architecture"]
    (paths.weights_dir() / SELECTION).write_text(
        json.dumps(
            {
                "criterion": "highest validation F1 at the epoch kept by early stopping",
                "best": chosen,
                "architectures": rows,
            },
            indent=1,
        )
    )


def load_selection() -> dict:
    return read_json(paths.weights_dir() / SELECTION)


def load_autoencoder(name: str) -> tuple[WindowAutoencoder, pd.DataFrame, dict]:
    """A saved architecture in eval mode, its history, and its metadata."""
    config_type, _ = ARCHITECTURES[name]
    weights, history_path = _paths(name)
    model, _, metadata = load_weights(weights, lambda c: build_autoencoder(name, c), config_type)
    return model, pd.DataFrame(load_history(history_path)), metadata


ARCHITECTURE_NOTES = {
    "dense": "Linear 64→32, ReLU, Linear 32→8 (code), Linear 8→32, ReLU, Linear 32→64",
    "conv1d": "Conv1d 1→16 (k 7, stride 2), ReLU, Conv1d 16→32 (k 7, stride 2), ReLU, "
    "Linear 512→8 (code), Linear 8→512, ReLU, ConvTranspose1d 32→16, ReLU, ConvTranspose1d 16→1",
    "lstm": "LSTM 1→16 reads the window, Linear 16→8 (code) from its last state, the code "
    "repeated 64 times feeds an LSTM 8→16, Linear 16→1 per step",
    "vae": "Linear 64→32, ReLU, Linear 32→8 twice (mean, log-variance), sampled code, "
    "Linear 8→32, ReLU, Linear 32→64; loss = MSE + 0.1·KL/64",
}


def architecture_table() -> pd.DataFrame:
    """Each architecture's layers and activations, and its parameter count."""
    configs = window_configs(AnomalyExperiment().window)
    return pd.DataFrame(
        {
            "architecture": [TITLES[name] for name in configs],
            "layers": [ARCHITECTURE_NOTES[name] for name in configs],
            "parameters": [
                count_parameters(build_autoencoder(name, config))
                for name, config in configs.items()
            ],
        }
    )


def detection_metrics(detection: Detection, split: str) -> dict[str, float]:
    """Loss (mean reconstruction MSE) and the binary metrics of one split."""
    from a2dl.metrics import binary_summary

    windows = detection.windows[split]
    return {"loss": float(detection.errors[split].mean())} | binary_summary(
        windows.y.astype(int), detection.predicted(split).astype(int), detection.scores[split]
    )


def evaluate_selected(
    experiment: AnomalyExperiment | None = None,
) -> tuple[dict[str, WindowSet], Detection, dict[str, dict[str, float]]]:
    """The chosen autoencoder's detector from its saved weights: windows, detection and the
    metrics of every split. The chapter and ``python -m a2dl evaluate anomaly`` call this."""
    experiment = experiment or AnomalyExperiment()
    model, _, _ = load_autoencoder(load_selection()["best"])
    windows = split_windows(experiment)
    detection = detect(model, windows, len(corpus(experiment.fractions)))
    return windows, detection, {split: detection_metrics(detection, split) for split in windows}


def test_metrics() -> dict[str, float]:
    """``evaluate anomaly``: the test row of the chapter's results table."""
    return evaluate_selected()[2]["test"]
