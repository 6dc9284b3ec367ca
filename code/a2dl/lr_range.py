"""The learning-rate range test (Smith 2017): train a fresh model for a few hundred steps
while the learning rate grows geometrically, and read off where the loss falls fastest and
where it blows up. The peak of a one-cycle or warm-up schedule is then chosen, not guessed."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from torch import nn

from a2dl.train import Batch, StepLoss, TrainConfig, make_optimizer, to_device

SUGGESTION_DIVISOR = 10  # the peak: the learning rate of the lowest smoothed loss over 10


def lr_range_test(
    model: nn.Module,
    batches: Iterable[Batch],
    step_loss: StepLoss,
    config: TrainConfig,
    *,
    lr_min: float,
    lr_max: float,
    steps: int,
    smoothing: float = 0.95,
    diverge_factor: float = 4.0,
) -> dict[str, object]:
    """Losses at learning rates spaced geometrically from ``lr_min`` to ``lr_max`` with the
    optimiser of ``config``; stops early once the smoothed loss exceeds ``diverge_factor``
    times its minimum. Returns the curve, the suggested peak, and the CPU seconds per step."""
    if not 0 < lr_min < lr_max:
        raise ValueError("need 0 < lr_min < lr_max")
    device = next(model.parameters()).device
    optimizer = make_optimizer(model, config)
    ratio = (lr_max / lr_min) ** (1 / max(1, steps - 1))
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    average, best = 0.0, math.inf
    model.train()
    cpu_started = time.process_time()
    for step, batch in enumerate(batches):
        if step >= steps:
            break
        lr = lr_min * ratio**step
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = step_loss(model, to_device(batch, device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = loss.item()
        average = smoothing * average + (1 - smoothing) * value
        debiased = average / (1 - smoothing ** (step + 1))
        lrs.append(lr)
        losses.append(value)
        smoothed.append(debiased)
        best = min(best, debiased)
        if not math.isfinite(value) or debiased > diverge_factor * best:
            break
    cpu_seconds = time.process_time() - cpu_started
    lowest = min(range(len(smoothed)), key=smoothed.__getitem__)
    return {
        "lr": lrs,
        "loss": losses,
        "smoothed_loss": smoothed,
        "lr_at_min_loss": lrs[lowest],
        "suggested_lr": lrs[lowest] / SUGGESTION_DIVISOR,
        "cpu_seconds_per_step": cpu_seconds / len(lrs),
        "optimizer": config.optimizer,
    }
