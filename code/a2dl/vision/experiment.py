"""Bonus end to end: train each model of the registry by one recipe under one budget, save
its weights and history, and evaluate saved weights. ``python -m a2dl train vision`` runs it."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from a2dl import artefacts, device
from a2dl.cache import cached, file_digest
from a2dl.checkpoint import (
    config_to_dict,
    load_history,
    load_weights,
    save_history,
    save_weights,
)
from a2dl.files import write_json
from a2dl.lr_range import lr_range_test
from a2dl.metrics import ClassificationResult, epoch_record
from a2dl.train import TrainConfig, best_epoch, fit
from a2dl.vision import registry
from a2dl.vision.data import CifarSplits, cifar_splits, normalise, training_batches

TRAIN_PROBE = 2_000  # training images (un-augmented) scored after each epoch for the curves
# per network: minutes of a quiet 2-core machine. A CPU-minute is CPU time over the threads
# that spent it, the thread count each weights file and range test records.
BUDGET_CPU_MINUTES = 40
# The test accuracies this comparison set out to reach within the budget, fixed before
# training: what short schedules reach in the fast-CIFAR literature for the convolutional
# networks, and what small ViTs reach from scratch in a few dozen epochs.
TARGET_TEST_ACCURACY = {"resnet": 0.88, "vgg": 0.88, "vit": 0.72, "efficientnet": 0.78}


@dataclass(frozen=True)
class VisionRecipe:
    """How one network of the comparison is trained. The data, augmentation, batch size,
    label smoothing, seed, test-time flip averaging and budget are shared by all four; the
    optimiser and its schedule are each network's own (see :data:`RECIPES`)."""

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
    batch_size: int = 128
    label_smoothing: float = 0.1
    validation_size: int = 5_000
    threads: int | None = None  # None: as many as the process has (see :func:`on_this_machine`)
    test_time_flip: bool = True  # average the probabilities of the image and its mirror


def _sgd(epochs: int, lr: float) -> VisionRecipe:
    """The convolutional networks' recipe, as the fast-CIFAR literature trains ResNets: SGD
    with Nesterov momentum 0.9 and a one-cycle schedule, weight decay 5e-4."""
    return VisionRecipe(
        train=TrainConfig(
            epochs=epochs,
            lr=lr,
            weight_decay=5e-4,
            warmup_fraction=0.2,
            schedule="onecycle",
            optimizer="sgd",
            momentum=0.9,
            grad_clip=None,
            patience=None,
            monitor="val_accuracy",
            mode="max",
        )
    )


# Each network's own recipe. The peak learning rates come from the range tests
# (``python -m a2dl lr-range vision-<name>``, plotted in the chapter); the epochs are what
# BUDGET_CPU_MINUTES buy each network at its measured CPU cost per image, on the machine that
# trained it.
RECIPES: dict[str, VisionRecipe] = {
    "resnet": _sgd(epochs=42, lr=0.1),
    "vgg": _sgd(epochs=50, lr=0.1),
    "efficientnet": _sgd(epochs=69, lr=0.009),
    # The default recipe is the ViT's (AdamW, warm-up + cosine); only its length and peak differ.
    "vit": VisionRecipe(train=dataclasses.replace(VisionRecipe().train, epochs=23, lr=5e-4)),
}


def on_this_machine(recipe: VisionRecipe) -> VisionRecipe:
    """``recipe`` with the CPU threads it runs on, set in PyTorch: its own count if it names
    one, else the process's (``--threads``, by default every core PyTorch sees). Weights files
    and range tests record the count, and the budget's CPU-minutes divide by it."""
    threads = recipe.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    return dataclasses.replace(recipe, threads=threads)


def recipe_for(name: str) -> VisionRecipe:
    registry.entry(name)  # the usual error for an unknown name
    return RECIPES[name]


def weights_path(name: str) -> Path:
    return artefacts.weights_path(f"cifar10_{name}")


def history_path(name: str) -> Path:
    return artefacts.history_path(f"cifar10_{name}")


def prepare(model: nn.Module, name: str) -> nn.Module:
    if registry.entry(name).channels_last:
        return model.to(memory_format=torch.channels_last)
    return model


@torch.no_grad()
def predict(
    model: nn.Module,
    images: torch.Tensor,
    splits: CifarSplits,
    *,
    flip: bool = True,
    batch_size: int = 500,
) -> np.ndarray:
    """Class probabilities (float64, rows summing to 1) for uint8 images, in order; with
    ``flip``, the mean of the probabilities of each image and its left-right mirror."""
    model.eval()
    parameter = next(model.parameters())
    channels_last = parameter.is_contiguous(memory_format=torch.channels_last)

    def probabilities(batch: torch.Tensor) -> torch.Tensor:
        if channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return torch.softmax(model(batch).double(), dim=1).cpu()

    chunks = []
    for start in range(0, len(images), batch_size):
        on_device = images[start : start + batch_size].to(parameter.device)  # uint8: fewer bytes
        batch = normalise(on_device, splits.mean, splits.std)
        chunk = probabilities(batch)
        if flip:
            chunk = (chunk + probabilities(batch.flip(-1))) / 2
        chunks.append(chunk)
    return torch.cat(chunks).numpy()


def evaluate(
    model: nn.Module, split: str, splits: CifarSplits, *, flip: bool = True
) -> ClassificationResult:
    """The model on ``train``, ``validation`` or ``test``: the one evaluation path."""
    images, labels = {
        "train": (splits.train_x, splits.train_y),
        "validation": (splits.val_x, splits.val_y),
        "test": (splits.test_x, splits.test_y),
    }[split]
    return ClassificationResult(labels.numpy(), predict(model, images, splits, flip=flip))


def train_model(
    name: str,
    recipe: VisionRecipe | None = None,
    *,
    config=None,
    splits: CifarSplits | None = None,
    progress: bool = True,
) -> tuple[nn.Module, list[dict[str, float]], float]:
    """Train registry model ``name`` by ``recipe`` (its own by default) on the selected device;
    returns (model at its best epoch, history, wall-clock seconds of the whole run)."""
    recipe = on_this_machine(recipe or recipe_for(name))
    splits = splits or cifar_splits(recipe.validation_size, recipe.train.seed)
    torch.manual_seed(recipe.train.seed)
    model = prepare(registry.build(name, config).to(device.current()), name)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    probe = torch.from_numpy(
        np.random.default_rng(recipe.train.seed).choice(
            len(splits.train_y), size=min(TRAIN_PROBE, len(splits.train_y)), replace=False
        )
    )
    channels_last = registry.entry(name).channels_last

    def batches(epoch: int):
        for images, labels in training_batches(
            splits, recipe.batch_size, recipe.train.seed + epoch, device=device.current()
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
                splits.train_y[probe].numpy(),
                predict(net, splits.train_x[probe], splits, flip=recipe.test_time_flip),
            ),
            evaluate(net, "validation", splits, flip=recipe.test_time_flip),
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
    recipe = on_this_machine(recipe_for(name))
    cpu_started = time.process_time()
    model, history, seconds = train_model(name, recipe, progress=progress)
    cpu_seconds = time.process_time() - cpu_started
    best = best_epoch(history, recipe.train.monitor, recipe.train.mode)
    save_weights(
        weights_path(name),
        model,
        model.config,
        architecture=name,
        train_seconds=seconds,
        epoch_seconds=sum(record["train_seconds"] for record in history),
        cpu_seconds=cpu_seconds,  # whole run, evaluation included; budget: CPU time / threads
        device=str(device.current()),
        best_epoch=best["epoch"],
        recipe=config_to_dict(recipe),
    )
    save_history(history_path(name), history)
    print(
        f"saved {weights_path(name)} (best epoch {best['epoch']}, {seconds / 60:.1f} min wall, "
        f"{cpu_seconds / recipe.threads / 60:.1f} CPU-min of {BUDGET_CPU_MINUTES})"
    )


def lr_range_path(name: str) -> Path:
    return artefacts.record_path(f"cifar10_{name}.lr_range.json")


LR_RANGE_STEPS = 200  # about half an epoch at batch 128: a minute or two per network on 2 cores
LR_RANGE_BOUNDS = {"sgd": (1e-3, 10.0), "adamw": (1e-5, 1e-1)}


def lr_range(name: str, *, steps: int = LR_RANGE_STEPS) -> dict[str, object]:
    """``lr-range vision-<name>``: the range test of the network's own optimiser, and the
    epochs that the budget buys it at the measured CPU cost (training steps and evaluation)."""
    recipe = on_this_machine(recipe_for(name))
    splits = cifar_splits(recipe.validation_size, recipe.train.seed)
    torch.manual_seed(recipe.train.seed)
    model = prepare(registry.build(name).to(device.current()), name)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    channels_last = registry.entry(name).channels_last

    def batches():
        for images, labels in training_batches(
            splits, recipe.batch_size, recipe.train.seed, device=device.current()
        ):
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            yield images, labels

    lr_min, lr_max = LR_RANGE_BOUNDS[recipe.train.optimizer]
    result = lr_range_test(
        model,
        batches(),
        lambda net, batch: loss_fn(net(batch[0]), batch[1]),
        recipe.train,
        lr_min=lr_min,
        lr_max=lr_max,
        steps=steps,
    )
    cpu_started = time.process_time()
    predict(model, splits.val_x[:1_000], splits, flip=recipe.test_time_flip)
    eval_cpu_per_image = (time.process_time() - cpu_started) / 1_000
    steps_per_epoch = -(-len(splits.train_y) // recipe.batch_size)
    epoch_cpu = result["cpu_seconds_per_step"] * steps_per_epoch + eval_cpu_per_image * (
        len(splits.val_y) + TRAIN_PROBE
    )
    budget_cpu = BUDGET_CPU_MINUTES * 60 * recipe.threads
    result |= {
        "network": name,
        "batch_size": recipe.batch_size,
        "threads": recipe.threads,
        "epoch_cpu_seconds": epoch_cpu,
        "epochs_in_budget": int(budget_cpu // epoch_cpu),
    }
    write_json(lr_range_path(name), result)
    print(
        f"{name}: lowest smoothed loss at lr {result['lr_at_min_loss']:.3g}, suggested peak "
        f"{result['suggested_lr']:.3g} (recipe: {recipe.train.lr:g}); one epoch "
        f"{epoch_cpu / recipe.threads / 60:.2f} CPU-min, so {BUDGET_CPU_MINUTES} CPU-min buy "
        f"{result['epochs_in_budget']} epochs (recipe: {recipe.train.epochs})"
    )
    return result


def load_model(name: str, path: Path | None = None, *, expected=None) -> tuple[nn.Module, dict]:
    """Saved weights of ``name`` in eval mode, checked against the registry's config type (and
    against ``expected``, a config, when given)."""
    model_entry = registry.entry(name)
    model, _, metadata = load_weights(
        path or weights_path(name), model_entry.build, model_entry.config_type, expected=expected
    )
    return prepare(model, name), metadata


def test_result(
    name: str, splits: CifarSplits | None = None
) -> tuple[nn.Module, dict, ClassificationResult]:
    """The saved network, its metadata, and its test-set predictions, flip-averaged if the
    recipe it was trained with says so: the chapter's comparison and ``evaluate`` use this."""
    model, metadata = load_model(name)
    recipe = metadata.get("recipe", {})
    splits = splits or cifar_splits(
        recipe.get("validation_size", 5_000), recipe.get("train", {}).get("seed", artefacts.SEED)
    )
    flip = bool(recipe.get("test_time_flip", False))
    result = cached(
        f"cifar10-test-{name}",
        lambda: evaluate(model, "test", splits, flip=flip),
        weights=file_digest(weights_path(name)),
        flip=flip,
        normalisation=[splits.mean, splits.std],
    )
    return model, metadata, result


def test_metrics(name: str) -> dict[str, float]:
    """``evaluate vision-<name>``: the test row of the chapter's comparison."""
    return test_result(name)[2].summary()


def load_history_frame(name: str) -> pd.DataFrame:
    return pd.DataFrame(load_history(history_path(name)))
