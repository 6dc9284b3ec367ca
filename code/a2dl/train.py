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

from a2dl import artefacts

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
    lr: float = 1e-3  # the peak learning rate, reached at the end of the warm-up
    weight_decay: float = 0.0  # never applied to biases and normalisation parameters
    warmup_fraction: float = 0.0
    schedule: str = "constant"  # "constant", "cosine", "linear" or "onecycle" (see lr_factor)
    optimizer: str = "adamw"  # "adamw", or "sgd" (Nesterov momentum ``momentum``)
    momentum: float = 0.9
    grad_clip: float | None = None
    patience: int | None = None
    monitor: str = "val_loss"
    mode: str = "min"
    seed: int = artefacts.SEED
    # False: end with the last epoch's state instead of the best one; set ``patience`` to None as
    # well for no early stopping at all
    keep_best: bool = True


SCHEDULES = ("constant", "cosine", "linear", "onecycle")
ONECYCLE_START = 1 / 25  # one-cycle starts at the peak over 25 (Smith & Topin 2019)


def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    """Multiplier of the peak learning rate at ``step`` (0-based) of ``total``.

    "constant", "cosine" and "linear" warm up linearly from almost zero over ``warmup`` steps,
    then hold, or decay to zero along a half cosine or a line. "onecycle" is the fast-CIFAR
    schedule: a line from 1/25 of the peak up to the peak at ``warmup``, then a line down to
    zero at the last step, so that the final updates are the smallest.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}: use one of {', '.join(SCHEDULES)}")
    if schedule == "onecycle":
        if step < warmup:
            return ONECYCLE_START + (1 - ONECYCLE_START) * step / warmup
        return max(0.0, 1 - (step - warmup) / max(1, total - 1 - warmup))
    if warmup and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    if schedule == "linear":
        return max(0.0, 1 - progress)
    return 1.0


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW or SGD with Nesterov momentum; weight decay on weight matrices and kernels only
    (decaying biases and normalisation gains only fights the normalisation)."""
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (no_decay if parameter.ndim < 2 or "norm" in name.lower() else decay).append(parameter)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr)
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=True)
    raise ValueError(f"unknown optimizer {config.optimizer!r}: use adamw or sgd")


def to_device(batch: Batch, device: torch.device) -> Batch:
    """Every tensor of a (nested) batch moved to ``device``; anything else left as it is."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, tuple | list):
        return type(batch)(to_device(item, device) for item in batch)
    if isinstance(batch, dict):
        return {key: to_device(value, device) for key, value in batch.items()}
    return batch


def _improved(value: float, best: float | None, mode: str) -> bool:
    return best is None or (value < best if mode == "min" else value > best)


def fit(
    model: nn.Module,
    batches: Callable[[int], Iterable[Batch]],
    step_loss: StepLoss,
    epoch_metrics: EpochMetrics | None,
    config: TrainConfig,
    *,
    steps_per_epoch: int,
    progress: bool = True,  # the per-batch bar; a line per epoch is always printed
    optimizer: torch.optim.Optimizer | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` in place and leave it holding its best state; return the history.

    ``batches(epoch)`` yields the training batches of one epoch (so that shuffling can be
    seeded per epoch); ``step_loss`` returns the mean loss of a batch; ``epoch_metrics``
    evaluates the model (in eval mode, without gradients) after each epoch; without it there
    is nothing to select on, so every epoch runs and the last state is kept (a model fitted to
    all the data it may see, such as a streaming detector's). Batches are moved to the device
    the model is on (see :mod:`a2dl.device`).
    """
    if config.mode not in ("min", "max"):
        raise ValueError("mode must be 'min' or 'max'")
    torch.manual_seed(config.seed)
    device = next(model.parameters()).device
    optimizer = optimizer or make_optimizer(model, config)
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
        started, cpu_started = time.perf_counter(), time.process_time()
        running, seen = 0.0, 0
        bar = tqdm(
            batches(epoch),
            total=steps_per_epoch,
            desc=f"epoch {epoch}",
            leave=False,
            disable=not progress,
        )
        for batch in bar:
            loss = step_loss(model, to_device(batch, device))
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
        # CPU time of every thread of the process: unlike wall time, not inflated by other
        # work on the machine, so budgets in CPU-minutes can be checked on a busy machine.
        train_cpu_seconds = time.process_time() - cpu_started
        model.eval()
        with torch.no_grad():
            metrics = epoch_metrics(model) if epoch_metrics else {}
        if epoch_metrics and config.monitor not in metrics:
            raise KeyError(f"epoch metrics have no {config.monitor!r}: {sorted(metrics)}")
        record = {
            "epoch": epoch,
            "train_batch_loss": running / max(1, seen),
            **metrics,
            "lr": scheduler.get_last_lr()[0],
            "train_seconds": train_seconds,
            "train_cpu_seconds": train_cpu_seconds,
        }
        history.append(record)
        shown = ", ".join(f"{k}={v:.4g}" for k, v in record.items() if k != "epoch")
        if progress or epoch_metrics:
            tqdm.write(f"epoch {epoch}: {shown}")  # one line per epoch, even without a bar
        if not epoch_metrics:
            continue
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
