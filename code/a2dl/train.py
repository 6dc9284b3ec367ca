"""The one training loop: every model of every part is trained here.

What differs between parts (the loss of a batch, the metrics after an epoch) comes in as two
callables; what is common (optimiser, warm-up and decay, gradient clipping, validation after
every epoch, best-state checkpoint, early stopping, progress bar, history) lives here once.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

Batch = Any
StepLoss = Callable[[nn.Module, Batch], torch.Tensor]
EpochMetrics = Callable[[nn.Module], dict[str, float]]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of one run; stored beside the weights it produced.

    ``monitor`` names a key returned by the epoch-metrics callable (e.g. ``val_loss``); the
    best epoch by it is kept, and ``patience`` epochs without improvement stop the run
    (``patience=None`` trains all epochs, still keeping the best state).
    """

    epochs: int = 10
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_fraction: float = 0.0
    schedule: str = "constant"  # "constant", "cosine" or "linear" decay after warm-up
    grad_clip: float | None = None
    patience: int | None = None
    monitor: str = "val_loss"
    mode: str = "min"
    seed: int = 676
    keep_best: bool = True  # False: end with the last epoch's state (no early stopping at all)


def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    """Multiplier of the base learning rate at ``step``: linear warm-up, then the decay."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    if schedule == "linear":
        return max(0.0, 1 - progress)
    if schedule == "constant":
        return 1.0
    raise ValueError(f"unknown schedule {schedule!r}: use constant, cosine or linear")


def _improved(value: float, best: float | None, mode: str) -> bool:
    return best is None or (value < best if mode == "min" else value > best)


def fit(
    model: nn.Module,
    batches: Callable[[int], Iterable[Batch]],
    step_loss: StepLoss,
    epoch_metrics: EpochMetrics,
    config: TrainConfig,
    *,
    steps_per_epoch: int,
    progress: bool = True,  # the per-batch bar; a line per epoch is always printed
    optimizer: torch.optim.Optimizer | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` in place and leave it holding its best state; return the history.

    ``batches(epoch)`` yields the training batches of one epoch (so that shuffling can be
    seeded per epoch); ``step_loss`` returns the mean loss of a batch; ``epoch_metrics``
    evaluates the model (in eval mode, without gradients) after each epoch.
    """
    if config.mode not in ("min", "max"):
        raise ValueError("mode must be 'min' or 'max'")
    torch.manual_seed(config.seed)
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (no_decay if parameter.ndim < 2 or "norm" in name.lower() else decay).append(parameter)
    optimizer = optimizer or torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=config.lr,
    )
    total_steps = config.epochs * steps_per_epoch
    warmup = int(config.warmup_fraction * total_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, total_steps, warmup, config.schedule)
    )
    history: list[dict[str, float]] = []
    best_value: float | None = None
    best_state: dict[str, torch.Tensor] | None = None
    stale = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        started = time.perf_counter()
        running, seen = 0.0, 0
        bar = tqdm(
            batches(epoch),
            total=steps_per_epoch,
            desc=f"epoch {epoch}",
            leave=False,
            disable=not progress,
        )
        for batch in bar:
            loss = step_loss(model, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            running += loss.item()
            seen += 1
            bar.set_postfix(loss=f"{running / seen:.4f}")
        train_seconds = time.perf_counter() - started
        model.eval()
        with torch.no_grad():
            metrics = epoch_metrics(model)
        if config.monitor not in metrics:
            raise KeyError(f"epoch metrics have no {config.monitor!r}: {sorted(metrics)}")
        record = {
            "epoch": epoch,
            "train_batch_loss": running / max(1, seen),
            **metrics,
            "lr": scheduler.get_last_lr()[0],
            "train_seconds": train_seconds,
        }
        history.append(record)
        shown = ", ".join(f"{k}={v:.4g}" for k, v in record.items() if k != "epoch")
        tqdm.write(f"epoch {epoch}: {shown}")  # one line per epoch, even without a bar
        if _improved(metrics[config.monitor], best_value, config.mode):
            best_value, stale = metrics[config.monitor], 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if config.patience is not None and stale >= config.patience:
                break
    if config.keep_best and best_state is not None:
        model.load_state_dict(best_state)
    return history


def best_epoch(
    history: list[dict[str, float]], monitor: str, mode: str = "min"
) -> dict[str, float]:
    """The history record of the best epoch by ``monitor`` (the state ``fit`` keeps)."""
    pick = min if mode == "min" else max
    return pick(history, key=lambda record: record[monitor])
