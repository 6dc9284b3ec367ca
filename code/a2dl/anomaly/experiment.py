"""Part II end to end: the NAB corpus as windows, four autoencoders and a linear one trained
with the shared loop, the best deep one chosen on validation, and every detector (the
autoencoders and the baselines) evaluated on test by the same threshold rule.

``python -m a2dl train anomaly`` trains and writes ``weights/nab_<architecture>.pt``, their
histories and ``weights/nab_selection.json``; the chapter evaluates the saved weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import torch

from a2dl import artefacts, device
from a2dl.anomaly.comparison import Comparison, compare
from a2dl.anomaly.detectors import VALUE_BASELINE, Detection, calibrate, value_scores
from a2dl.anomaly.models import (
    ARCHITECTURES,
    DEEP,
    TITLES,
    WindowAutoencoder,
    build_autoencoder,
    window_configs,
)
from a2dl.anomaly.windows import (
    SPLITS,
    PreparedSeries,
    SplitFractions,
    WindowSet,
    prepare_series,
    window_set,
)
from a2dl.cache import cached, file_digest
from a2dl.checkpoint import load_history, load_weights, read_json, save_history, save_weights
from a2dl.data import nab
from a2dl.files import write_json
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
    windows, instants = nab.load_windows(), nab.load_instants()
    return tuple(
        prepare_series(name, nab.load_series(name), windows[name], fractions, instants[name])
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


def detect(
    model: WindowAutoencoder,
    windows: dict[str, WindowSet],
    n_series: int,
    labelling: str = "instant",
) -> Detection:
    """An autoencoder's detector: reconstruction errors, then the threshold rule."""
    errors = {split: window_errors(model, w) for split, w in windows.items()}
    return calibrate(errors, windows, n_series, labelling)


def split_windows(experiment: AnomalyExperiment) -> dict[str, WindowSet]:
    series = corpus(experiment.fractions)
    return {
        "train": window_set(series, "train", experiment.window, experiment.train_stride),
        "validation": window_set(series, "validation", experiment.window, experiment.eval_stride),
        "test": window_set(series, "test", experiment.window, experiment.eval_stride),
    }


def _accuracy(detection: Detection, split: str) -> float:
    return float(np.mean(detection.predicted(split) == detection.labels(split)))


def _f1(detection: Detection, split: str) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(detection.labels(split), detection.predicted(split), zero_division=0))


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
            "train_loss": float(detection.raw["train"].mean()),
            "val_loss": float(detection.raw["validation"].mean()),
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
        artefacts.weights_path(f"nab_{name}"),
        artefacts.history_path(f"nab_{name}"),
    )


def train_all(*, progress: bool = True) -> None:
    """``train anomaly``: every architecture, then the selection of the best deep one by
    validation F1 (the linear autoencoder is a baseline, not a candidate)."""
    experiment = AnomalyExperiment()
    windows = split_windows(experiment)
    rows = []
    for name in ARCHITECTURES:
        model, history, seconds = train_architecture(name, experiment, windows, progress=progress)
        weights, history_path = _paths(name)
        cpu_seconds = sum(r.get("train_cpu_seconds", 0.0) for r in history)
        save_weights(
            weights,
            model,
            model.config,
            architecture=name,
            train_seconds=seconds,
            train_cpu_seconds=cpu_seconds,
        )
        save_history(history_path, history)
        best = best_epoch(history, experiment.train.monitor, experiment.train.mode)
        rows.append(
            {
                "architecture": name,
                "parameters": count_parameters(model),
                "train_seconds": seconds,
                "train_cpu_seconds": cpu_seconds,
                "epochs_run": len(history),
                **{k: v for k, v in best.items() if k != "train_seconds"},
            }
        )
        print(f"{name}: val F1 {best['val_f1']:.3f}, val accuracy {best['val_accuracy']:.3f}")
    candidates = [row for row in rows if row["architecture"] in DEEP]
    chosen = max(candidates, key=lambda row: row["val_f1"])["architecture"]
    selection = {
        "criterion": "highest validation F1 at the epoch kept by early stopping",
        "best": chosen,
        "architectures": rows,
    }
    write_json(artefacts.record_path(SELECTION), selection)


def load_selection() -> dict:
    return read_json(artefacts.record_path(SELECTION))


def load_autoencoder(name: str) -> tuple[WindowAutoencoder, pd.DataFrame, dict]:
    """A saved architecture in eval mode, its history, and its metadata."""
    config_type, _ = ARCHITECTURES[name]
    weights, history_path = _paths(name)
    model, _, metadata = load_weights(weights, lambda c: build_autoencoder(name, c), config_type)
    return model, pd.DataFrame(load_history(history_path)), metadata


ARCHITECTURE_NOTES = {
    "linear": "Linear 64→8 (code), Linear 8→64; no activation",
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


def evaluate_selected(
    experiment: AnomalyExperiment | None = None,
) -> tuple[dict[str, WindowSet], Detection, dict[str, dict[str, float]]]:
    """The chosen autoencoder's detector from its saved weights: windows, detection and the
    metrics of every split."""
    experiment = experiment or AnomalyExperiment()
    detection = detections(experiment)[load_selection()["best"]]
    return detection.windows, detection, {split: detection.metrics(split) for split in SPLITS}


def _weights_digests() -> dict[str, str]:
    """Every saved window autoencoder's digest: the key of what is computed from them."""
    return {name: file_digest(_paths(name)[0]) for name in ARCHITECTURES}


def detections(
    experiment: AnomalyExperiment | None = None, labelling: str = "instant"
) -> dict[str, Detection]:
    """Every detector, by the same threshold rule on the same windows: each saved autoencoder
    (deep and linear) and the threshold on the scaled value. Kept between renders by
    :mod:`a2dl.cache` (scoring every window with five models takes a while)."""
    experiment = experiment or AnomalyExperiment()
    windows = split_windows(experiment)
    n_series = len(corpus(experiment.fractions))

    def raw_scores() -> dict[str, dict[str, np.ndarray]]:
        raw = {
            name: {
                split: window_errors(load_autoencoder(name)[0], w) for split, w in windows.items()
            }
            for name in ARCHITECTURES
        }
        raw[VALUE_BASELINE] = {split: value_scores(w) for split, w in windows.items()}
        return raw

    raw = cached(
        "nab-window-scores", raw_scores, weights=_weights_digests(), experiment=repr(experiment)
    )
    return {name: calibrate(scores, windows, n_series, labelling) for name, scores in raw.items()}


def comparison(experiment: AnomalyExperiment | None = None) -> Comparison:
    """Every detector beside the chosen autoencoder, with bootstrap intervals over series
    (:func:`a2dl.anomaly.comparison.compare`). Half a minute of resampling that the preface
    and Chapter 2 both read, so kept between renders by :mod:`a2dl.cache`."""
    experiment = experiment or AnomalyExperiment()
    best = load_selection()["best"]
    return cached(
        "nab-comparison",
        lambda: compare(detections(experiment), best),
        weights=_weights_digests(),
        experiment=repr(experiment),
        best=best,
    )


def test_metrics() -> dict[str, float]:
    """``evaluate anomaly``: every detector's test metrics, keyed ``<detector>.<metric>``."""
    return {
        f"{name}.{metric}": value
        for name, detection in detections().items()
        for metric, value in detection.metrics("test").items()
    }
