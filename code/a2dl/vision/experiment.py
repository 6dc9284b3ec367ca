"""Bonus end to end: train each model of the registry by one recipe under one budget, save
its weights and history, and evaluate saved weights. ``python -m a2dl train vision`` runs it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from a2dl import paths
from a2dl.checkpoint import (
    config_to_dict,
    load_history,
    load_weights,
    save_history,
    save_weights,
)
from a2dl.metrics import ClassificationResult, epoch_record
from a2dl.train import TrainConfig, best_epoch, fit
from a2dl.vision import registry
from a2dl.vision.data import CifarSplits, cifar_splits, normalise, training_batches

TRAIN_PROBE = 2_000  # training images (un-augmented) scored after each epoch for the curves


@dataclass(frozen=True)
class VisionRecipe:
    """The one recipe every model of the comparison is trained with, budget included."""

    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=5,
            lr=1e-3,
            weight_decay=0.05,
            warmup_fraction=0.1,
            schedule="cosine",
            grad_clip=1.0,
            patience=None,
            monitor="val_accuracy",
            mode="max",
        )
    )
    batch_size: int = 64  # per-image cost on CPU is the same as at 128, and twice the updates
    label_smoothing: float = 0.1
    validation_size: int = 5_000
    threads: int = 2


def weights_path(name: str) -> Path:
    return paths.weights_dir() / f"cifar10_{name}.pt"


def history_path(name: str) -> Path:
    return paths.weights_dir() / f"cifar10_{name}.history.json"


def prepare(model: nn.Module, name: str) -> nn.Module:
    if registry.entry(name).channels_last:
        return model.to(memory_format=torch.channels_last)
    return model


@torch.no_grad()
def predict(
    model: nn.Module, images: torch.Tensor, splits: CifarSplits, *, batch_size: int = 500
) -> np.ndarray:
    """Class probabilities (float64, rows summing to 1) for uint8 images, in order."""
    model.eval()
    channels_last = next(model.parameters()).is_contiguous(memory_format=torch.channels_last)
    chunks = []
    for start in range(0, len(images), batch_size):
        batch = normalise(images[start : start + batch_size], splits.mean, splits.std)
        if channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        chunks.append(torch.softmax(model(batch).double(), dim=1))
    return torch.cat(chunks).numpy()


def evaluate(model: nn.Module, split: str, splits: CifarSplits) -> ClassificationResult:
    """The model on ``train``, ``validation`` or ``test``: the one evaluation path."""
    images, labels = {
        "train": (splits.train_x, splits.train_y),
        "validation": (splits.val_x, splits.val_y),
        "test": (splits.test_x, splits.test_y),
    }[split]
    return ClassificationResult(labels.numpy(), predict(model, images, splits))


def train_model(
    name: str,
    recipe: VisionRecipe | None = None,
    *,
    config=None,
    splits: CifarSplits | None = None,
    progress: bool = True,
) -> tuple[nn.Module, list[dict[str, float]], float]:
    """Train registry model ``name`` by ``recipe``; returns (model at its best epoch, history,
    wall-clock seconds of the whole run)."""
    recipe = recipe or VisionRecipe()
    splits = splits or cifar_splits(recipe.validation_size, recipe.train.seed)
    torch.set_num_threads(recipe.threads)
    torch.manual_seed(recipe.train.seed)
    model = prepare(registry.build(name, config), name)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    probe = torch.from_numpy(
        np.random.default_rng(recipe.train.seed).choice(
            len(splits.train_y), size=min(TRAIN_PROBE, len(splits.train_y)), replace=False
        )
    )
    channels_last = registry.entry(name).channels_last

    def batches(epoch: int):
        for images, labels in training_batches(
            splits, recipe.batch_size, recipe.train.seed + epoch
        ):
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            yield images, labels

    def step_loss(net: nn.Module, batch) -> torch.Tensor:
        images, labels = batch
        return loss_fn(net(images), labels)

    def epoch_metrics(net: nn.Module) -> dict[str, float]:
        return epoch_record(
            ClassificationResult(
                splits.train_y[probe].numpy(), predict(net, splits.train_x[probe], splits)
            ),
            evaluate(net, "validation", splits),
        )

    started = time.perf_counter()
    history = fit(
        model,
        batches,
        step_loss,
        epoch_metrics,
        recipe.train,
        steps_per_epoch=-(-len(splits.train_y) // recipe.batch_size),
        progress=progress,
    )
    return model, history, time.perf_counter() - started


def train_and_save(name: str, *, progress: bool = True) -> None:
    """``train vision-<name>``: one model of the comparison, its weights and history."""
    recipe = VisionRecipe()
    model, history, seconds = train_model(name, recipe, progress=progress)
    best = best_epoch(history, recipe.train.monitor, recipe.train.mode)
    save_weights(
        weights_path(name),
        model,
        model.config,
        architecture=name,
        train_seconds=seconds,
        epoch_seconds=sum(record["train_seconds"] for record in history),
        best_epoch=best["epoch"],
        recipe=config_to_dict(recipe),
    )
    save_history(history_path(name), history)
    print(f"saved {weights_path(name)} (best epoch {best['epoch']}, {seconds / 60:.1f} min)")


def load_model(name: str, path: Path | None = None, *, expected=None) -> tuple[nn.Module, dict]:
    """Saved weights of ``name`` in eval mode, checked against the registry's config type (and
    against ``expected``, a config, when given)."""
    model_entry = registry.entry(name)
    model, _, metadata = load_weights(
        path or weights_path(name), model_entry.build, model_entry.config_type, expected=expected
    )
    return prepare(model, name), metadata


def load_history_frame(name: str) -> pd.DataFrame:
    return pd.DataFrame(load_history(history_path(name)))
